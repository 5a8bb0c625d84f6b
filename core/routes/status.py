"""`GET /status` and `GET /status/{name}`, with Hayhooks' shapes plus the pipelines that failed to load."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

router = APIRouter(tags=["status"])


class FailedPipelineStatus(BaseModel):
    name: str
    kind: str = Field(description="'wrapper' (a folder) or 'yaml' (a top-level YAML file)")
    stage: str = Field(description="Where loading stopped: discover, import, contract, setup, model or yaml")
    reason: str
    source: str = Field(description="'package' (baked in) or 's3'")
    traceback: str | None = Field(default=None, description="Only with HAYHOOKS_SHOW_TRACEBACKS=true")


class PipelineSource(BaseModel):
    source: str = Field(description="'package' (baked in) or 's3'")
    version: str | None = Field(default=None, description="The published version loaded, when the source has one")


class SourceStatus(BaseModel):
    kind: str
    uri: str
    ok: bool
    version: str | None = None
    pinned: bool | None = None
    files: int | None = None
    bytes: int | None = None
    ms: float | None = None
    error: str | None = None


class StatusResponse(BaseModel):
    status: str = Field(description="'Up!' when the service answers")
    pipelines: list[str] = Field(description="Names of the pipelines that loaded and can be run")
    failed: list[FailedPipelineStatus] = Field(description="Pipelines that failed to load at cold start, with why")
    pipeline_sources: dict[str, PipelineSource] = Field(description="Where each loaded pipeline came from")
    sources: list[SourceStatus] = Field(description="Each configured source and how fetching it went")


class PipelineStatusResponse(BaseModel):
    status: str
    pipeline: str
    source: str
    version: str | None = None


@router.get(
    "/status",
    response_model=StatusResponse,
    response_model_exclude_none=True,
    summary="Service status and the pipelines it serves",
)
async def status_all(request: Request) -> dict[str, Any]:
    registry = request.app.state.registry
    show = request.app.state.settings.show_tracebacks
    return {
        "status": "Up!",
        "pipelines": registry.names(),
        "failed": [f.as_status(show_tracebacks=show) for f in registry.failed.values()],
        "pipeline_sources": {p.name: {"source": p.source, "version": p.version} for p in registry.loaded.values()},
        "sources": [s.as_status() for s in registry.sources],
    }


@router.get(
    "/status/{pipeline_name}",
    response_model=PipelineStatusResponse,
    summary="Status of one pipeline",
    responses={404: {"description": "No such pipeline"}, 503: {"description": "The pipeline failed to load"}},
)
async def status_one(pipeline_name: str, request: Request) -> dict[str, str | None]:
    registry = request.app.state.registry
    pipeline = registry.get(pipeline_name)
    if pipeline is None:
        failed = registry.failed.get(pipeline_name)
        if failed is not None:
            raise HTTPException(status_code=503, detail=f"Pipeline '{pipeline_name}' failed to load: {failed.reason}")
        raise HTTPException(status_code=404, detail=f"Pipeline '{pipeline_name}' not found")
    return {"status": "Up!", "pipeline": pipeline_name, "source": pipeline.source, "version": pipeline.version}
