"""The pipelines as MCP tools, as Hayhooks lists and calls them; plain data, no MCP SDK (core/mcp_server.py
turns it into the protocol's types).

A tool per loaded pipeline with `run_api` / `run_api_async`, YAML ones included, except those with
`skip_mcp = True`: named after the pipeline, described by the first docstring line of the method `/run`
calls (a YAML pipeline by its name), with the request model of `/{name}/run` as its input schema. Pipelines
that failed to load are not listed. Hayhooks' two status tools come first; its deploy and undeploy tools are
absent, since the pipelines here are fixed when the function is deployed (a call to one answers an error).

A call validates the arguments with the same request model as `/run` and calls the wrapper the same way:
inline on Lambda, within the invocation's remaining time. The result is one text: a dict as JSON, a stream
as its text joined, anything else `str()`. Every failure is an error result (`isError`) with a message the
model can read: unknown tool, bad arguments, the pipeline's exception (its traceback only with
`HAYHOOKS_SHOW_TRACEBACKS=true`), the deadline.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from core.app_services import services_of
from core.invocation import Chunks, InvocationError, Invoker, PipelineFailed
from core.lazy import ensure_loaded
from core.redact import redact
from core.registry import LoadedPipeline, Registry
from core.run_body import format_item, is_sse_stream

logger = logging.getLogger("core.mcp")

ALL_STATUSES = "get_all_pipeline_statuses"
ONE_STATUS = "get_pipeline_status"
# Hayhooks' tools that change the deployment: not offered, answered with an error
FIXED_DEPLOYMENT = ("deploy_pipeline", "undeploy_pipeline")
_PIPELINE_NAME = {
    "type": "object",
    "properties": {"pipeline_name": {"type": "string", "description": "The pipeline's name"}},
    "required": ["pipeline_name"],
}
STATUS_TOOLS: dict[str, dict[str, Any]] = {
    ALL_STATUSES: {
        "name": ALL_STATUSES,
        "description": "List the pipelines this server runs, and those that failed to load.",
        "inputSchema": {"type": "object"},
    },
    ONE_STATUS: {
        "name": ONE_STATUS,
        "description": "Say whether a pipeline is loaded, waiting to load, failed to load or unknown.",
        "inputSchema": _PIPELINE_NAME,
    },
}
MAX_LISTED_ERRORS = 10  # an error result for bad arguments names the first ones


@dataclass(frozen=True)
class ToolAnswer:
    text: str
    is_error: bool = False


def is_tool(pipeline: LoadedPipeline) -> bool:
    return pipeline.run is not None and not getattr(pipeline.wrapper, "skip_mcp", False)


def description(pipeline: LoadedPipeline) -> str:
    """Hayhooks': a YAML pipeline's name (its description when one was given), else the first docstring line."""
    if pipeline.kind == "yaml":
        return getattr(pipeline.wrapper, "description", None) or pipeline.name
    return (pipeline.run.description if pipeline.run else None) or ""


_schemas: dict[int, tuple[type[BaseModel], dict[str, Any]]] = {}  # id(request model) -> (model, its schema)


def input_schema(pipeline: LoadedPipeline) -> dict[str, Any]:
    """The JSON schema of `/run`'s request model, built once per model (a tools/list per request is common)."""
    assert pipeline.run is not None
    model = pipeline.run.request_model
    cached = _schemas.get(id(model))
    if cached is None or cached[0] is not model:
        cached = _schemas[id(model)] = (model, model.model_json_schema())
    return cached[1]


async def list_tools(registry: Registry) -> list[dict[str, Any]]:
    """`tools/list`: the status tools, then one tool per pipeline. Pipelines the lazy strategy has not loaded
    yet are loaded first: a tool cannot be described without its request model."""
    for name in list(registry.pending):
        await ensure_loaded(registry, name)
    pipelines = [p for p in registry.loaded_pipelines() if is_tool(p)]
    names = {p.name for p in pipelines}
    tools = [tool for name, tool in STATUS_TOOLS.items() if name not in names]  # a pipeline's name wins
    tools += [{"name": p.name, "description": description(p), "inputSchema": input_schema(p)} for p in pipelines]
    return tools


def tool_schema(registry: Registry, name: str) -> dict[str, Any] | None:
    """A listed tool's input schema, without loading anything (None: not known yet)."""
    pipeline = registry.get(name)
    if pipeline is not None and is_tool(pipeline):
        return input_schema(pipeline)
    status = STATUS_TOOLS.get(name)
    return status["inputSchema"] if status else None


async def call_tool(request: Request, name: str, arguments: dict[str, Any] | None) -> ToolAnswer:
    """`tools/call`: the pipeline's answer, or an error result saying what went wrong."""
    registry = services_of(request.app).registry
    arguments = arguments or {}
    await ensure_loaded(registry, name)  # lazy strategy: the first call of a pending pipeline loads it
    pipeline = registry.get(name)
    if pipeline is not None and is_tool(pipeline):
        return await _run_pipeline(request, pipeline, arguments)
    if name in STATUS_TOOLS:
        return _status(registry, name, arguments)
    if name in FIXED_DEPLOYMENT:
        return ToolAnswer(
            f"{name} is not available: the pipelines are fixed when the function is deployed "
            "(publish a new version of the pipelines folder instead)",
            is_error=True,
        )
    if detail := registry.failure_detail(name):
        return ToolAnswer(detail, is_error=True)
    return ToolAnswer(f"Unknown tool: {name}", is_error=True)


async def _run_pipeline(request: Request, pipeline: LoadedPipeline, arguments: dict[str, Any]) -> ToolAnswer:
    spec = pipeline.run
    assert spec is not None
    try:
        payload = spec.request_model.model_validate(arguments).model_dump()
    except ValidationError as exc:
        return ToolAnswer(_invalid_arguments(pipeline.name, exc), is_error=True)
    invoker = Invoker.of(request.app)
    try:
        # the path /run takes: inline on Lambda, in the thread pool under `make run`, within the deadline
        result = await invoker.invoke(pipeline.name, "run", payload, scope=request.scope, headers=request.headers)
        if is_sse_stream(result):  # its generator, gathered within the same deadline
            async with invoker.guard(pipeline.name, request.scope):
                result = await invoker.collect(result.stream)
    except PipelineFailed as exc:
        return ToolAnswer(
            _failure(pipeline.name, exc, services_of(request.app).settings.show_tracebacks), is_error=True
        )
    except InvocationError as exc:  # the deadline (504), or an HTTPException the wrapper raised on purpose
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail, default=str)
        return ToolAnswer(redact(detail), is_error=True)
    return ToolAnswer(_as_text(result))


def _failure(name: str, exc: PipelineFailed, show_tracebacks: bool) -> str:
    text = f"Pipeline '{name}' failed: {exc.message or type(exc.cause).__name__}"
    if show_tracebacks:
        text += f"\n{exc.traceback()}"
    return text


def _invalid_arguments(name: str, exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    lines = [f"{'.'.join(str(p) for p in e['loc']) or '(arguments)'}: {e['msg']}" for e in errors[:MAX_LISTED_ERRORS]]
    if len(errors) > len(lines):
        lines.append(f"... and {len(errors) - len(lines)} more")
    return f"Invalid arguments for '{name}':\n" + "\n".join(lines)


def _as_text(result: Any) -> str:
    if isinstance(result, dict):
        return json.dumps(result, default=_jsonable)
    if isinstance(result, Chunks):  # Hayhooks would answer the generator's repr; its text is what the caller wants
        parts = [part for part in map(format_item, result) if part is not None]
        return "".join(p.decode("utf-8", "replace") if isinstance(p, bytes) else p for p in parts)
    if isinstance(result, Response):  # a FileResponse has no body to show
        body = getattr(result, "body", None)
        return body.decode("utf-8", "replace") if isinstance(body, bytes) else str(result)
    return str(result)


def _jsonable(value: Any) -> Any:
    """What `json.dumps` cannot encode in a YAML pipeline's outputs (Documents, ChatMessages, models)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    return str(value)


def _status(registry: Registry, name: str, arguments: dict[str, Any]) -> ToolAnswer:
    states = registry.states()
    if name == ALL_STATUSES:
        lines = [f"{pipeline}: {state}" for pipeline, state in states.items()]
        return ToolAnswer("Pipelines:\n" + "\n".join(lines) if lines else "No pipelines are deployed")
    pipeline = arguments.get("pipeline_name")
    if not isinstance(pipeline, str):
        return ToolAnswer("Invalid arguments: pipeline_name (a string) is required", is_error=True)
    state = states.get(pipeline)
    if state == "failed":
        return ToolAnswer(registry.failure_detail(pipeline) or f"Pipeline '{pipeline}' failed to load")
    if state == "pending":
        return ToolAnswer(f"Pipeline '{pipeline}' is deployed and loads on its first call")
    if state == "loaded":
        return ToolAnswer(f"Pipeline '{pipeline}' is deployed and loaded")
    return ToolAnswer(f"Pipeline '{pipeline}' is not deployed")
