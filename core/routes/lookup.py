"""Finding a loaded pipeline for a request: 404 if unknown, 503 (with the reason) if it failed to load."""

from __future__ import annotations

# Starlette's: FastAPI answers it as its own, and the lean front (core/front.py) without importing FastAPI
from starlette.exceptions import HTTPException

from core.registry import LoadedPipeline, Registry


def loaded_or_raise(registry: Registry, name: str, not_found: str) -> LoadedPipeline:
    pipeline = registry.get(name)
    if pipeline is not None:
        return pipeline
    detail = registry.failure_detail(name)
    if detail is not None:
        raise HTTPException(status_code=503, detail=detail)
    raise HTTPException(status_code=404, detail=not_found)
