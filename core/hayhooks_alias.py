"""`from hayhooks… import …` served by `core`, for wrappers written for Hayhooks, unchanged.

The rule: `hayhooks.X` and `hayhooks.server.X` are `core.X` (`hayhooks.open_webui` -> `core.open_webui`,
`hayhooks.server.tracing` -> `core.tracing`), and `hayhooks` itself is `core`. Modules deeper in Hayhooks'
tree, whose path the rule cannot follow, are listed in `DEEP_PATHS`.

Each `hayhooks.*` module is an alias module of its own that reads attributes from its `core` module(s):
`hayhooks.log is core.log`, and nothing is ever added to or changed in `core`'s own modules. A Hayhooks
module that has no counterpart here fails with a ModuleNotFoundError saying so.

Installed by the loader only when a pipeline imports `hayhooks` (core/loader.py), never at `import core`.
Once installed it is consulted before the installed packages, so the wrappers get `core` even where the
real `hayhooks` is installed: `make run` serves what Lambda serves (whose package has no `hayhooks`). The
one exception is a process that imported the real `hayhooks` before: that module stays, and is used.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

ROOT = "hayhooks"

# Hayhooks modules the one rule does not map: name -> the core module(s) whose attributes it shows
# (several: Hayhooks' module gathers names that live in more than one place here; () : a package only)
DEEP_PATHS: dict[str, tuple[str, ...]] = {
    "hayhooks.server": ("core.registry_view",),  # its __init__ exports `registry`
    "hayhooks.server.utils": (),
    "hayhooks.server.utils.base_pipeline_wrapper": ("core.wrapper",),
    "hayhooks.server.utils.yaml_pipeline_wrapper": ("core.yaml_pipeline",),
    "hayhooks.server.utils.haystack_compat": ("core.haystack_compat",),
    "hayhooks.server.app": ("core.app_factory",),  # core.app is this project's app, with another create_app
    "hayhooks.server.pipelines": ("core.registry_view",),
    "hayhooks.server.pipelines.registry": ("core.registry_view",),
    "hayhooks.server.pipelines.sse": ("core.sse_stream",),
    "hayhooks.server.pipelines.streaming": ("core.streaming",),
    "hayhooks.server.pipelines.utils": ("core.messages", "core.pipeline_inputs", "core.streaming"),
    "hayhooks.durable.context": ("core.durable",),
}


def core_modules_for(name: str) -> tuple[str, ...] | None:
    """The core module(s) serving Hayhooks module `name` (None: `name` is not a Hayhooks module)."""
    if name in DEEP_PATHS:
        return DEEP_PATHS[name]
    parts = name.split(".")
    if parts[0] != ROOT:
        return None
    rest = parts[1:]
    if rest[:1] == ["server"]:
        rest = rest[1:]
    return (".".join(["core", *rest]),)


class HayhooksAlias(ModuleType):
    """A `hayhooks.*` module whose attributes are those of its core module(s)."""

    __core_modules__: tuple[str, ...]

    def __getattr__(self, attribute: str) -> Any:
        if attribute == "__all__":  # `from hayhooks import *`
            return [n for m in self._core_modules() for n in getattr(m, "__all__", ())]
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        for module in self._core_modules():
            try:
                return getattr(module, attribute)
            except AttributeError:
                continue
        served = ", ".join(self.__core_modules__) or "no core module"
        raise AttributeError(f"module {self.__name__!r} (served by {served}) has no attribute {attribute!r}")

    def __setattr__(self, attribute: str, value: Any) -> None:
        # The import system records each imported submodule on its parent. Where the core module has an
        # object of that name (`registry` of `hayhooks.server.pipelines`), the object wins, as in Hayhooks.
        if isinstance(value, HayhooksAlias):
            for module in self._core_modules():
                existing = getattr(module, attribute, None)
                if existing is not None and not isinstance(existing, ModuleType):
                    return
        super().__setattr__(attribute, value)

    def __dir__(self) -> list[str]:
        names: set[str] = set(super().__dir__())
        for module in self._core_modules():
            names.update(getattr(module, "__all__", None) or dir(module))
        return sorted(names)

    def _core_modules(self) -> list[ModuleType]:
        return [sys.modules.get(name) or importlib.import_module(name) for name in self.__core_modules__]


class _AliasLoader:  # the loader protocol; importlib.abc would cost ~8 ms of imports
    def __init__(self, targets: tuple[str, ...]) -> None:
        self.targets = targets

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        module = HayhooksAlias(spec.name)
        module.__core_modules__ = self.targets
        return module

    def exec_module(self, module: ModuleType) -> None:
        for target in self.targets:  # now, so a missing core module fails at the import statement
            importlib.import_module(target)


class HayhooksAliasFinder:  # the meta path finder protocol
    def find_spec(self, fullname: str, path: Sequence[str] | None = None, target: Any = None) -> ModuleSpec | None:
        if fullname != ROOT and not fullname.startswith(ROOT + "."):
            return None
        if fullname != ROOT and not isinstance(sys.modules.get(ROOT), HayhooksAlias):
            return None  # the real hayhooks (imported earlier in this process) serves its own submodules
        targets = core_modules_for(fullname)
        assert targets is not None
        for module_name in targets:
            if not _exists(module_name):
                raise ModuleNotFoundError(
                    f"No module named {fullname!r}: haystack-lambda serves Hayhooks' modules from core "
                    f"({fullname} -> {module_name}), and core has no such module (not available on Lambda)",
                    name=fullname,
                )
        origin = f"alias of {', '.join(targets) or 'core'}"
        return ModuleSpec(fullname, _AliasLoader(targets), origin=origin, is_package=True)


def _exists(module_name: str) -> bool:
    try:
        return importlib.util.find_spec(module_name) is not None
    except ModuleNotFoundError:  # a missing parent package (core.utils for core.utils.mcp_utils)
        return False


_FINDER = HayhooksAliasFinder()


def install() -> str:
    """Serve `hayhooks` from core in this process (idempotent); returns what serves it: 'core' or 'hayhooks'."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    return served_by()


def served_by() -> str:
    """'core' when `hayhooks` imports get core (or would), 'hayhooks' when the real package was imported first."""
    existing = sys.modules.get(ROOT)
    return "core" if existing is None or isinstance(existing, HayhooksAlias) else "hayhooks"
