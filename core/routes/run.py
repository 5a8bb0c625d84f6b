"""`POST /{name}/run`: one route per loaded pipeline, built once at cold start.

Per request this does only what it must: validate the body, then core/run_call.py (the wrapper called through
core/invocation.py, the result shaped, a failure answered as Hayhooks does). On Lambda the lean front
(core/front.py) serves most runs itself, with the same `RunCall`; this route serves the rest.
"""

import inspect
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from starlette.responses import JSONResponse

from core.registry import LoadedPipeline
from core.run_call import RunCall


def add_run_route(
    app: FastAPI | APIRouter,
    pipeline: LoadedPipeline,
    *,
    show_tracebacks: bool,
    sync_inline: bool,
    timeout_margin_ms: int = 500,
) -> None:
    spec = pipeline.run
    assert spec is not None
    name = pipeline.name
    call = RunCall(
        pipeline, show_tracebacks=show_tracebacks, sync_inline=sync_inline, timeout_margin_ms=timeout_margin_ms
    )

    body = spec.request_model
    if spec.requires_files:
        body = Annotated[spec.request_model, Form(media_type="multipart/form-data")]  # type: ignore[assignment]

    async def endpoint(request: Request, run_req: Any) -> Any:
        if spec.requires_files and (problem := _not_a_form(request)):
            return JSONResponse({"detail": f"Pipeline '{name}' takes {_FORM_TYPES[0]}: {problem}"}, status_code=415)
        return await call(run_req, request)

    endpoint.__signature__ = inspect.Signature(
        [  # type: ignore[attr-defined]
            inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
            inspect.Parameter("run_req", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=body),
        ]
    )

    kwargs: dict[str, Any] = {}
    if spec.response_class is not None:
        kwargs["response_class"] = spec.response_class
    if spec.requires_files:  # Starlette's own answer to a body it cannot parse as multipart
        kwargs["responses"] = {400: {"description": "The multipart body could not be parsed"}}
    app.add_api_route(
        f"/{name}/run",
        endpoint,
        methods=["POST"],
        name=f"{name}_run",
        response_model=spec.response_model,
        tags=["pipelines"],
        description=spec.description,
        **kwargs,
    )


_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _not_a_form(request: Request) -> str | None:
    """A body sent as something other than a form would be read as an empty form: every field defaulted."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in _FORM_TYPES or (not content_type and request.headers.get("content-length", "0") == "0"):
        return None
    return f"the request body is {content_type or 'of no content-type'}, so its fields would be ignored"


def add_failed_run_route(app: FastAPI | APIRouter, name: str, detail: str) -> None:
    """A failed pipeline answers 503 with the reason, instead of a bare 404."""

    async def failed(request: Request) -> JSONResponse:
        return JSONResponse({"detail": detail}, status_code=503)

    app.add_api_route(f"/{name}/run", failed, methods=["POST"], include_in_schema=False)
