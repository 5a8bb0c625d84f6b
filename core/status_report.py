"""What `GET /status` and `GET /status/{name}` answer: their response models and bodies, without FastAPI.

The FastAPI routes (core/routes/status.py) and the lean front (core/front.py) both answer from here, and
both serialize with `status_json`/`pipeline_status_json`, as FastAPI serializes a route's response model.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_serializer

from core.app_services import AppServices
from core.mcp_tools import is_tool
from core.registry import LoadedPipeline
from core.routes.lookup import loaded_or_raise
from core.wrapper import FILE_UPLOAD_METHODS, implements


class FailedPipelineStatus(BaseModel):
    name: str
    kind: str = Field(description="'wrapper' (a folder) or 'yaml' (a top-level YAML file)")
    stage: str = Field(
        description="Where loading stopped: discover, source, import, contract, setup, model, yaml or load"
    )
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


class DeploymentSummary(BaseModel):
    """Hayhooks 2.1's per-pipeline summary, for clients that read it."""

    name: str
    type: str
    execution_mode: str
    state: str
    description: str
    capabilities: list[str]
    revision: str | None = None
    health: dict[str, object] | None = None
    worker_scope: str = "responding process"
    store_scope: str | None = None
    execution_enumeration: bool = False

    @model_serializer
    def _with_nulls(self) -> dict[str, Any]:
        # /status drops None for its own optional keys; Hayhooks sends these as null, so they stay
        return dict(self)


class StatusResponse(BaseModel):
    status: str = Field(description="'Up!' when the service answers")
    pipelines: list[str] = Field(description="Names of the pipelines that loaded and can be run")
    failed: list[FailedPipelineStatus] = Field(description="Pipelines that failed to load at cold start, with why")
    pipeline_sources: dict[str, PipelineSource] = Field(description="Where each loaded pipeline came from")
    sources: list[SourceStatus] = Field(description="Each configured source and how fetching it went")
    states: dict[str, str] = Field(
        description="Every pipeline by name: 'loaded', 'failed', or 'pending' (lazy strategy: not requested yet)"
    )
    hayhooks_imports: dict[str, str] | None = Field(
        default=None,
        description="Pipelines whose `from hayhooks … import`s were served, and by what: 'core' (this project's "
        "implementation, the `hayhooks` package unused) or 'hayhooks' (the installed package, imported "
        "before the pipelines loaded). Absent when no pipeline imports hayhooks",
    )
    # Hayhooks 2.1 keys; in durable mode, its values but `execution_enumeration` (no listing route here)
    durable_mode: bool = False
    durable: dict[str, object] = Field(default_factory=lambda: {"healthy": True, "deployments": {}})
    deployments: list[DeploymentSummary] = Field(default_factory=list)
    capabilities: dict[str, bool] = Field(default_factory=lambda: {"execution_enumeration": False})


class PipelineStatusResponse(BaseModel):
    status: str
    pipeline: str
    source: str
    version: str | None = None
    state: str = Field(description="'loaded', or 'pending' (lazy strategy: loads on its first run)")


def status_body(services: AppServices) -> dict[str, Any]:
    """`GET /status`'s body, before its response model (StatusResponse) shapes it."""
    registry = services.registry
    show = services.settings.show_tracebacks
    durable = {p.name: dict(DURABLE_HEALTH) for p in registry.loaded_pipelines() if p.durable}
    return {
        "status": "Up!",
        "pipelines": registry.names(),
        "failed": [f.as_status(show_tracebacks=show) for f in registry.failed_pipelines()],
        "pipeline_sources": {p.name: {"source": p.source, "version": p.version} for p in registry.loaded_pipelines()},
        "sources": [s.as_status() for s in registry.sources],
        "states": registry.states(),
        "hayhooks_imports": hayhooks_imports(registry.loaded_pipelines()) or None,
        "durable_mode": services.settings.durable_mode,
        "durable": {"healthy": True, "deployments": durable},
        "deployments": _deployments(services),
        "capabilities": {"execution_enumeration": False},
    }


# Lambda runs the durable worker: this function has no slots or store of its own to report on, and asks
# nothing of the Lambda API to answer /status (it must stay cheap)
DURABLE_HEALTH = {"healthy": True}
DURABLE_WORKER_SCOPE = "Lambda durable worker function"
DURABLE_STORE_SCOPE = "Lambda durable executions of the worker function"


def hayhooks_imports(pipelines: list[LoadedPipeline]) -> dict[str, str]:
    return {p.name: p.hayhooks_imports for p in pipelines if p.hayhooks_imports}


def _deployments(services: AppServices) -> list[dict[str, Any]]:
    """Built once: the registry does not change after cold start."""
    if services.deployment_summaries is None:
        services.deployment_summaries = [_summary(p) for p in services.registry.loaded_pipelines()]
    return services.deployment_summaries


def _summary(pipeline: LoadedPipeline) -> dict[str, Any]:
    kind = type(getattr(pipeline.wrapper, "pipeline", None)).__name__
    wrapper_cls = type(pipeline.wrapper)
    capabilities = ["run_api"] if pipeline.run is not None else []
    for flag, methods in (
        ("chat_completion", ("run_chat_completion", "run_chat_completion_async")),
        ("responses", ("run_response", "run_response_async")),
    ):
        if any(implements(wrapper_cls, m) for m in methods):
            capabilities.append(flag)
    if any(implements(wrapper_cls, m) for m in FILE_UPLOAD_METHODS):
        capabilities.append("file_upload")  # takes `POST /v1/files` (Hayhooks' meaning), not a multipart run
    if is_tool(pipeline):
        capabilities.append("mcp_eligible")  # listed by /mcp, by Hayhooks' rule: a request model, no skip_mcp
    summary = {
        "name": pipeline.name,
        "type": "pipeline" if kind in ("Pipeline", "AsyncPipeline") else "agent" if kind == "Agent" else "unknown",
        "execution_mode": "request-bound",
        "state": "Loaded",
        "description": (pipeline.run.description if pipeline.run else None) or "",
        "capabilities": capabilities,
        "revision": None,
        "health": None,
        "worker_scope": "responding process",
        "store_scope": None,
        "execution_enumeration": False,
    }
    if pipeline.durable:
        summary.update(
            execution_mode="durable",
            state="Healthy",
            revision=getattr(pipeline.wrapper, "durable_revision", None),
            health=dict(DURABLE_HEALTH),
            worker_scope=DURABLE_WORKER_SCOPE,
            store_scope=DURABLE_STORE_SCOPE,
        )
    return summary


def pipeline_status_body(services: AppServices, pipeline_name: str) -> dict[str, str | None]:
    """`GET /status/{name}`'s body; Starlette's `HTTPException` (404, or 503 with the reason) if there is none."""
    registry = services.registry
    pending = registry.pending.get(pipeline_name)
    if pending is not None:  # a status check never loads: it must stay cheap and free of side effects
        return {
            "status": "Up!",
            "pipeline": pipeline_name,
            "source": pending.source,
            "version": pending.version,
            "state": "pending",
        }
    pipeline = loaded_or_raise(registry, pipeline_name, f"Pipeline '{pipeline_name}' not found")
    return {
        "status": "Up!",
        "pipeline": pipeline_name,
        "source": pipeline.source,
        "version": pipeline.version,
        "state": "loaded",
    }


def status_json(body: dict[str, Any]) -> bytes:
    """`body` as FastAPI sends it for `response_model=StatusResponse, response_model_exclude_none=True`."""
    return StatusResponse.model_validate(body, from_attributes=True).model_dump_json(by_alias=True, exclude_none=True)


def pipeline_status_json(body: dict[str, Any]) -> bytes:
    """`body` as FastAPI sends it for `response_model=PipelineStatusResponse`."""
    return PipelineStatusResponse.model_validate(body, from_attributes=True).model_dump_json(by_alias=True)
