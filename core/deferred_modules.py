"""Modules that libraries import at cold start but no request uses: executed on first use instead.

Haystack imports `posthog` (with `requests`, `urllib3`, `dateutil`, ...) whatever
`HAYSTACK_TELEMETRY_ENABLED` says, and calls it only when telemetry is on. With telemetry off,
`defer_unused_modules()` makes such an import give a module object whose code runs on its first
attribute access (the standard library's `importlib.util.LazyLoader`): `import posthog` costs a file
lookup, and anything that does touch the module still gets the real one, fully loaded, in place.

A second `import posthog` (or `from posthog import x`) also loads it: the import system reads the
module's `__spec__`, an attribute access. Deferral only pays off for a module imported once and then
left alone, which is what telemetry-off Haystack does with posthog.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

# top-level modules only: a submodule import needs its parent's __path__, which would load the parent anyway
WHEN_TELEMETRY_OFF = ("posthog",)


def telemetry_enabled(environ: Any = os.environ) -> bool:
    """Haystack's own test (haystack/telemetry/_telemetry.py): on unless set to something else."""
    return environ.get("HAYSTACK_TELEMETRY_ENABLED", "true").lower() in ("true", "1")


class DeferredModuleFinder(MetaPathFinder):
    """Finds `names` with the other finders and hands the import system a lazy loader for them."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = frozenset(names)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in self.names:
            return None
        for finder in list(sys.meta_path):
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is None:
                continue
            if spec.loader is None or not hasattr(spec.loader, "exec_module"):
                return spec  # a namespace package or an old-style loader: imported as usual
            spec.loader = importlib.util.LazyLoader(spec.loader)
            return spec
        return None  # not installed: the import fails as it would have

    def deferred(self) -> list[str]:
        """Of `names`, the modules imported but not yet executed (still waiting for a first use)."""
        return [name for name in sorted(self.names) if is_deferred(sys.modules.get(name))]


def is_deferred(module: ModuleType | None) -> bool:
    # type(), not isinstance() or an attribute: those would go through the lazy module and load it
    return module is not None and type(module).__name__ == "_LazyModule"


def defer_unused_modules(environ: Any = os.environ) -> DeferredModuleFinder | None:
    """Defer what a cold start imports and never uses, given the environment (telemetry off: posthog).

    Call before Haystack is first imported; calling again is harmless. Returns the finder in use, or
    None when there is nothing to defer (telemetry on)."""
    if telemetry_enabled(environ):
        return None
    for finder in sys.meta_path:
        if isinstance(finder, DeferredModuleFinder):
            return finder
    finder = DeferredModuleFinder(WHEN_TELEMETRY_OFF)
    sys.meta_path.insert(0, finder)
    return finder
