"""Packages whose `__init__` imports far more than a cold start uses: imported light, whole on first need.

Two of them sit on every cold start's path:
- FastAPI: wrappers written for Hayhooks import `HTTPException`, `UploadFile`, `Request`, responses from it.
  Each lives in a light module of FastAPI's (Starlette and pydantic only), but `fastapi/__init__.py` imports
  the whole framework first (routing, parameters, OpenAPI models: about a fifth of the import floor), which
  the lean front (core/front.py) otherwise never needs.
- NetworkX: Haystack's `Pipeline` keeps its graph in a `networkx.MultiDiGraph`, and `networkx/__init__.py`
  imports every algorithm, generator, reader and writer NetworkX has (about a tenth of the floor). Building a
  pipeline and running it uses the graph classes; only a tie between waiting components (Haystack's
  `_topological_sort`), drawing, or a SuperComponent's graph calls NetworkX's algorithms.

`serve_light(package)` makes the next import of the package give the real package module with its
`__init__` not yet run. Its light names are read from their own modules (the same objects `__init__`
binds), its light submodules import as usual (a light name that is a light submodule gives that module).
Anything else runs `__init__` in place first, the way a plain import would have: another name, `__all__`,
`__version__`, or importing any other submodule. So code that needs the whole package gets all of it, in the
same module object; only the order of the package's own imports differs.

Installed by the Lambda cold start (handler/__init__.py) only, before any pipeline is imported: a process
that already imported the package is left as it is. Threads (the loader runs `setup()` in parallel): `__init__`
runs under the import system's own lock for the package, the one a plain import holds while it runs, so a
thread that needs another name meanwhile waits for it as it would wait for a plain import, with the import
system's deadlock detection (core/loader.py retries a pipeline that met it alone); light names are served
without waiting. An `__init__` that fails is run again by the next access, as a failed plain import is
retried by the next import.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

# The import system's per-module lock: private, but the one every `import` of the package waits on, and the
# only one its deadlock detection knows (Python 3.13 is the runtime's; tests/core/test_light_packages.py
# would fail without it).
from importlib._bootstrap import _ModuleLockManager  # type: ignore[attr-defined]
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any


@dataclass(frozen=True)
class LightPackage:
    name: str
    # name -> (module, attribute; None: the module itself), each the object `__init__` binds to that name
    names: Mapping[str, tuple[str, str | None]]
    # submodules that import nothing of the package's but each other; `pkg.sub.*` covers `pkg.sub` and below
    submodules: frozenset[str]
    # asked once the package is light: True when the light import would not be the plain one, which then runs
    whole_if: Callable[[], bool] | None = None

    def covers(self, fullname: str) -> bool:
        if fullname in self.submodules:
            return True
        parts = fullname.split(".")
        return any(".".join(parts[:i]) + ".*" in self.submodules for i in range(2, len(parts) + 1))


FASTAPI = LightPackage(
    name="fastapi",
    names={
        "HTTPException": ("fastapi.exceptions", "HTTPException"),
        "WebSocketException": ("fastapi.exceptions", "WebSocketException"),
        "UploadFile": ("fastapi.datastructures", "UploadFile"),
        "Request": ("fastapi.requests", "Request"),
        "Response": ("fastapi.responses", "Response"),
        "status": ("starlette.status", None),
    },
    # `_compat` and what it imports: pydantic builds `UploadFile`'s schema with it (a wrapper taking files)
    submodules=frozenset(
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
    ),
)

_NETWORKX_EXCEPTIONS = (
    "AmbiguousSolution",
    "ExceededMaxIterations",
    "HasACycle",
    "NetworkXAlgorithmError",
    "NetworkXError",
    "NetworkXException",
    "NetworkXNoCycle",
    "NetworkXNoPath",
    "NetworkXNotImplemented",
    "NetworkXPointlessConcept",
    "NetworkXUnbounded",
    "NetworkXUnfeasible",
    "NodeNotFound",
    "PowerIterationFailedConvergence",
)


def _networkx_backends_installed() -> bool:
    """A NetworkX backend (nx-cugraph, ...) makes `__init__` read backend details before the graph classes are
    defined, which their dispatchers record: with one installed, only the plain import is the same. NetworkX
    lists them when `networkx.utils` is imported, which the graph classes need anyway."""
    return bool(importlib.import_module("networkx.utils.backends").backends)


NETWORKX = LightPackage(
    name="networkx",
    names={
        **{name: ("networkx.classes", name) for name in ("Graph", "DiGraph", "MultiGraph", "MultiDiGraph")},
        **{name: ("networkx.exception", name) for name in _NETWORKX_EXCEPTIONS},
        # what the graph classes call on `nx` when defined and when changed (checked by the tests)
        "_dispatchable": ("networkx.utils", "_dispatchable"),
        "_clear_cache": ("networkx.utils", "_clear_cache"),
    },
    submodules=frozenset(
        {"networkx.exception", "networkx.lazy_imports", "networkx.convert", "networkx.utils.*", "networkx.classes.*"}
    ),
    whole_if=_networkx_backends_installed,
)

_LOADED_ON = frozenset({"__all__", "__version__"})  # the dunders an `__init__` defines


class _Package:
    """The state of the partly imported package: `light` until its `__init__` has run to the end."""

    def __init__(self, spec: LightPackage, module: ModuleType, loader: Loader) -> None:
        self.spec = spec
        self.module = module
        self.loader = loader
        self.light = True
        self.running = False  # `__init__` is running, in the thread holding the package's module lock

    def load_whole(self) -> None:
        if not self.light:
            return
        with _ModuleLockManager(self.spec.name):  # re-entrant: `__init__`'s own reads come back here
            if not self.light or self.running:
                return
            self.running = True
            try:
                self.loader.exec_module(self.module)
            finally:
                self.running = False  # after a failure the package stays light: the next access runs it again
            self.light = False
            namespace = vars(self.module)
            for hook in ("__getattr__", "__dir__"):
                if getattr(namespace.get(hook), "light_names_of", None) is self:
                    del namespace[hook]

    def getattr(self, name: str) -> Any:
        # also while another thread runs `__init__`: the object it will bind, served without waiting
        if name in self.spec.names:
            module_name, attribute = self.spec.names[name]
            value: Any = importlib.import_module(module_name)
            return value if attribute is None else getattr(value, attribute)
        if not name.startswith("__") and self.spec.covers(f"{self.spec.name}.{name}"):
            return importlib.import_module(f"{self.spec.name}.{name}")  # `from networkx import convert`
        if self.light and (not name.startswith("__") or name in _LOADED_ON):
            self.load_whole()
            namespace = vars(self.module)
            if name in namespace:
                return namespace[name]
        raise AttributeError(f"module {self.spec.name!r} has no attribute {name!r}")

    def dir(self) -> list[str]:
        self.load_whole()
        return sorted(vars(self.module))


class _LightLoader(Loader):
    """Creates the package module as the real loader does, but runs its `__init__` only when needed."""

    def __init__(self, loader: Loader, finder: LightPackageFinder) -> None:
        self.loader = loader
        self.finder = finder

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        _use_real_loader(module, self.loader)
        spec = self.finder.spec
        package = _Package(spec, module, self.loader)
        self.finder.package = package

        def __getattr__(name: str) -> Any:
            return package.getattr(name)

        def __dir__() -> list[str]:
            return package.dir()

        __getattr__.light_names_of = __dir__.light_names_of = package  # type: ignore[attr-defined]
        module.__getattr__ = __getattr__  # type: ignore[method-assign]  (PEP 562: read for missing names)
        module.__dir__ = __dir__  # type: ignore[method-assign]  (PEP 562: `dir(module)` has every name)
        if spec.whole_if is not None and spec.whole_if():
            package.load_whole()


class _WholeFirstLoader(Loader):
    """A submodule outside the light set: the package's `__init__` runs first, as it would have before any
    submodule; if that imported this submodule too, that module is the one given."""

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


class LightPackageFinder(MetaPathFinder):
    def __init__(self, spec: LightPackage) -> None:
        self.spec = spec
        self.package: _Package | None = None

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname == self.spec.name:
            if self.package is not None:
                return None  # imported once this way; a re-import (importlib.reload) is the usual one
            spec = self._others(fullname, path, target)
            if spec is None or spec.loader is None:
                return spec
            spec.loader = _LightLoader(spec.loader, self)
            return spec
        package = self.package
        if package is None or not package.light or not fullname.startswith(self.spec.name + "."):
            return None
        if self.spec.covers(fullname):
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
    """`module` is a package imported this way, its `__init__` not run yet."""
    getter = vars(module).get("__getattr__") if isinstance(module, ModuleType) else None
    package = getattr(getter, "light_names_of", None)
    return isinstance(package, _Package) and package.light


def serve_light(package: LightPackage) -> LightPackageFinder | None:
    """Install the package's finder (once) unless it is imported already; returns the finder in use, if any."""
    for finder in sys.meta_path:
        if isinstance(finder, LightPackageFinder) and finder.spec.name == package.name:
            return finder
    if package.name in sys.modules:
        return None
    finder = LightPackageFinder(package)
    sys.meta_path.insert(0, finder)
    return finder
