"""`from fastapi import HTTPException` in a pipeline wrapper, without importing FastAPI's app.

Wrappers written for Hayhooks import a few names from FastAPI: `HTTPException`, `UploadFile`, `Request`,
responses. Each of those lives in a light module of FastAPI's (Starlette and pydantic only), but
`fastapi/__init__.py` imports the whole framework first (routing, parameters, OpenAPI models: about a fifth
of the import floor), which the lean front (core/front.py) otherwise never needs.

`serve_light_names()` makes the next `import fastapi` give the real package module with its `__init__`
not yet run: `LIGHT_NAMES` are read from their own modules (the same objects FastAPI re-exports), and the
light submodules import as usual. Anything else runs `__init__` in place first, the way a plain
`import fastapi` would have: another name (`from fastapi import FastAPI`), `__all__`, `__version__`, or
importing any other submodule (`fastapi.routing`, `fastapi.encoders`, ...). So code that needs FastAPI gets
all of it, in the same module object; only the order of FastAPI's own imports differs.

Installed by the Lambda cold start (handler/__init__.py) only, before any pipeline is imported: a process
that already imported FastAPI is left as it is. Not locked: a thread that reads a light name while another
runs `__init__` gets it from its own module; any other name not yet bound then is an ImportError (a plain
import would wait for `__init__`), which the loader's parallel strategy retries alone (core/loader.py); a
lock here could deadlock against the import system's own module locks.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

PACKAGE = "fastapi"
# name -> (module, attribute; None: the module itself), as fastapi/__init__.py re-exports them
LIGHT_NAMES: dict[str, tuple[str, str | None]] = {
    "HTTPException": ("fastapi.exceptions", "HTTPException"),
    "WebSocketException": ("fastapi.exceptions", "WebSocketException"),
    "UploadFile": ("fastapi.datastructures", "UploadFile"),
    "Request": ("fastapi.requests", "Request"),
    "Response": ("fastapi.responses", "Response"),
    "status": ("starlette.status", None),
}
# submodules that import nothing of FastAPI's but each other (checked by tests/core/test_light_fastapi.py);
# `_compat` and what it imports: pydantic builds `UploadFile`'s schema with it (a wrapper taking files)
LIGHT_SUBMODULES = frozenset(
    {
        "fastapi.exceptions",
        "fastapi.datastructures",
        "fastapi.requests",
        "fastapi.responses",
        "fastapi.sse",
        "fastapi._compat",
        "fastapi._compat.shared",
        "fastapi._compat.v2",
        "fastapi.openapi",
        "fastapi.openapi.constants",
        "fastapi.types",
    }
)
_LOADED_ON = frozenset({"__all__", "__version__"})  # the dunders `__init__` defines


class _Package:
    """The state of the partly imported package: `light` until its `__init__` runs."""

    def __init__(self, module: ModuleType, loader: Loader) -> None:
        self.module = module
        self.loader = loader
        self.light = True

    def load_whole(self) -> None:
        if not self.light:
            return
        self.light = False  # before running it: `__init__`'s own imports are the usual ones
        try:
            self.loader.exec_module(self.module)
        finally:  # only now: while `__init__` runs, another thread's light names are still served below
            namespace = vars(self.module)
            if getattr(namespace.get("__getattr__"), "light_names_of", None) is self:
                del namespace["__getattr__"]

    def getattr(self, name: str) -> Any:
        # also while another thread runs `__init__` (pipelines load in parallel) and has not bound the name
        # yet: the object it will bind, not the ImportError of a half-run package a plain import never gives
        if name in LIGHT_NAMES:
            module_name, attribute = LIGHT_NAMES[name]
            value: Any = importlib.import_module(module_name)
            return value if attribute is None else getattr(value, attribute)
        if self.light and (not name.startswith("__") or name in _LOADED_ON):
            self.load_whole()
            namespace = vars(self.module)
            if name in namespace:
                return namespace[name]
        raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}")


class _LightLoader(Loader):
    """Creates the package module as the real loader does, but runs its `__init__` only when needed."""

    def __init__(self, loader: Loader, finder: LightNamesFinder) -> None:
        self.loader = loader
        self.finder = finder

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        _use_real_loader(module, self.loader)
        package = _Package(module, self.loader)
        self.finder.package = package

        def __getattr__(name: str) -> Any:
            return package.getattr(name)

        __getattr__.light_names_of = package  # type: ignore[attr-defined]
        module.__getattr__ = __getattr__  # type: ignore[method-assign]  (PEP 562: read for missing names)


class _WholeFirstLoader(Loader):
    """A submodule outside `LIGHT_SUBMODULES`: the package's `__init__` runs first, as it would have before
    any submodule; if that imported this submodule too, that module is the one given."""

    def __init__(self, loader: Loader, package: _Package) -> None:
        self.loader = loader
        self.package = package
        self.existing: ModuleType | None = None
        self.existing_spec: ModuleSpec | None = None

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        self.package.load_whole()
        self.existing = sys.modules.get(spec.name)
        if self.existing is None:
            return self.loader.create_module(spec)
        self.existing_spec = self.existing.__spec__  # the import system sets ours on it next: put back below
        return self.existing

    def exec_module(self, module: ModuleType) -> None:
        if module is self.existing:
            module.__spec__ = self.existing_spec
            return
        _use_real_loader(module, self.loader)
        self.loader.exec_module(module)


def _use_real_loader(module: ModuleType, loader: Loader) -> None:
    """The module's loader is the one that read it (`inspect.getsource`, `importlib.reload` use it)."""
    module.__loader__ = loader
    if module.__spec__ is not None:
        module.__spec__.loader = loader


class LightNamesFinder(MetaPathFinder):
    def __init__(self) -> None:
        self.package: _Package | None = None

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname == PACKAGE:
            if self.package is not None:
                return None  # imported once this way; a re-import (importlib.reload) is the usual one
            spec = self._others(fullname, path, target)
            if spec is None or spec.loader is None:
                return spec
            spec.loader = _LightLoader(spec.loader, self)
            return spec
        package = self.package
        if package is None or not package.light or not fullname.startswith(PACKAGE + "."):
            return None
        if fullname in LIGHT_SUBMODULES:
            return None
        spec = self._others(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _WholeFirstLoader(spec.loader, package)
        return spec

    def _others(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None) -> ModuleSpec | None:
        for finder in list(sys.meta_path):
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                return spec
        return None


def is_light(module: ModuleType | None) -> bool:
    """`module` is the package imported this way, its `__init__` not run yet."""
    getter = vars(module).get("__getattr__") if isinstance(module, ModuleType) else None
    package = getattr(getter, "light_names_of", None)
    return isinstance(package, _Package) and package.light


def serve_light_names() -> LightNamesFinder | None:
    """Install the finder (once) unless FastAPI is imported already; returns the finder in use, if any."""
    for finder in sys.meta_path:
        if isinstance(finder, LightNamesFinder):
            return finder
    if PACKAGE in sys.modules:
        return None
    finder = LightNamesFinder()
    sys.meta_path.insert(0, finder)
    return finder
