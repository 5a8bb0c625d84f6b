"""Keep FastAPI from importing `pydantic.v1` just to learn that no route uses it.

FastAPI asks, for every annotation it turns into a field, whether it is a pydantic v1 model, and answers
by importing `pydantic.v1` (about 40 ms of cold start, once). A class can only be a v1 model if
`pydantic.v1` is already imported, so until it is the answer is "no" without importing anything. Once
something imports `pydantic.v1`, FastAPI's own check runs unchanged.

Installed from one place, `core.app.create_app`, before any route is declared (the route modules are
imported there, after it); installing again is a no-op. Importing this module patches nothing.
"""

from __future__ import annotations

import sys
from typing import Any


def install() -> bool:
    """Patch FastAPI's probe; False (and nothing changed) if this FastAPI has no such probe."""
    try:
        from fastapi._compat import shared
    except ImportError:  # pragma: no cover - a FastAPI without the v1 compatibility layer
        return False
    original = getattr(shared, "is_pydantic_v1_model_class", None)
    if original is None or getattr(original, "_v1_guarded", False):
        return original is not None

    def is_pydantic_v1_model_class(cls: Any) -> bool:
        if "pydantic.v1" not in sys.modules:
            return False
        return original(cls)

    is_pydantic_v1_model_class._v1_guarded = True  # type: ignore[attr-defined]
    shared.is_pydantic_v1_model_class = is_pydantic_v1_model_class
    return True
