"""`POST /{name}/run`: one route per loaded pipeline, built once at cold start.

Per request this does only what it must: validate the body, call the wrapper, shape the result.
Sync wrappers are called inline when `sync_inline` is set (on Lambda one request runs at a time, so a
thread-pool hop buys nothing); under `make run` they go to the thread pool like in Hayhooks.
"""

import inspect
import logging
import traceback
from typing import Annotated, Any

from fastapi import FastAPI, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from core.access_log import current_pipeline
from core.deadline import Deadline, budget_seconds
from core.lambda_response import STREAMED
from core.redact import redact
from core.registry import LoadedPipeline
from core.responses import drain, is_stream, remove_temp_file_after_sending, stream

logger = logging.getLogger("core.run")


def add_run_route(
    app: FastAPI, pipeline: LoadedPipeline, *, show_tracebacks: bool, sync_inline: bool, timeout_margin_ms: int = 500
) -> None:
    spec = pipeline.run
    assert spec is not None
    name = pipeline.name
    method = spec.method
    response_model = spec.response_model

    async def call(run_req: Any, request: Request) -> Any:
        request.state.pipeline = name
        current_pipeline.set(name)
        payload = run_req.model_dump()
        if spec.wants_headers:
            payload["headers"] = request.headers
        deadline = Deadline(budget_seconds(request.scope, timeout_margin_ms))
        response: Any = None
        try:
            async with deadline.limit(sync_inline=sync_inline and not spec.is_async):
                response = await produce(payload, streamed=bool(request.scope.get(STREAMED)))
        except HTTPException as exc:
            if isinstance(exc.detail, str):  # a wrapper may pass on an error that quotes a secret
                exc.detail = redact(exc.detail)
            raise
        except (Exception, SystemExit) as exc:  # sys.exit() in a wrapper must not end the environment
            logger.exception("Pipeline '%s' failed", name)
            detail = f"Pipeline execution failed: {redact(str(exc))}"
            if show_tracebacks:
                detail += f"\n{redact(traceback.format_exc())}"
            return JSONResponse({"detail": detail}, status_code=500)
        if deadline.expired:
            logger.error("Pipeline '%s' ran out of time (%.0f ms)", name, deadline.seconds * 1000)
            return deadline.response(name)
        return response

    async def produce(payload: dict[str, Any], streamed: bool) -> Any:
        if spec.is_async:
            result = await method(**payload)
        elif sync_inline:
            result = method(**payload)
        else:
            result = await run_in_threadpool(method, **payload)
        if isinstance(result, Response):
            return remove_temp_file_after_sending(result)
        if is_stream(result):
            return await drain(result) if sync_inline and not streamed else stream(result)
        if response_model is None:
            return result
        # inside the try, as in Hayhooks: a result that does not match the annotation is a pipeline error
        return response_model(result=result)

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
        response_model=response_model,
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


def add_failed_run_route(app: FastAPI, name: str, detail: str) -> None:
    """A failed pipeline answers 503 with the reason, instead of a bare 404."""

    async def failed(request: Request) -> JSONResponse:
        return JSONResponse({"detail": detail}, status_code=503)

    app.add_api_route(f"/{name}/run", failed, methods=["POST"], include_in_schema=False)
