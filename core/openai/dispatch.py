"""Finding the wrapper for a `model` and calling its chat or responses method, with Hayhooks' errors."""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from core.deadline import Deadline, budget_seconds
from core.lazy import ensure_loaded
from core.redact import redact
from core.registry import Registry
from core.request_context import current_pipeline
from core.routes.lookup import loaded_or_raise
from core.wrapper import implements

logger = logging.getLogger("core.openai")


@dataclass(frozen=True)
class Operation:
    sync_method: str
    async_method: str
    not_implemented: str


# What `call_wrapper` answers besides the wrapper's own result, for the OpenAPI document of both endpoints
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No pipeline of that name (the `model` field)"},
    501: {"description": "The pipeline does not implement this endpoint (Hayhooks' answer)"},
    503: {"description": "The pipeline failed to load"},
    504: {"description": "The pipeline did not finish within the invocation's remaining time"},
}
CHAT = Operation("run_chat_completion", "run_chat_completion_async", "Chat endpoint not implemented for this model")
RESPONSES = Operation("run_response", "run_response_async", "Responses endpoint not implemented for this model")


def execution_failed(exc: BaseException) -> HTTPException:
    logger.exception("OpenAI-compatible call failed")
    return HTTPException(status_code=500, detail=f"Pipeline execution failed: {redact(str(exc))}")


async def call_wrapper(request: Request, operation: Operation, model: str, arguments: dict[str, Any]) -> Any:
    """Run the wrapper method for `model`; HTTPException with Hayhooks' status and detail on failure."""
    registry: Registry = request.app.state.registry
    await ensure_loaded(registry, model)  # lazy strategy: the first call naming a pending pipeline loads it
    pipeline = loaded_or_raise(registry, model, f"Pipeline '{model}' not found or not a pipeline wrapper")
    # only known names: each value becomes a log field and a CloudWatch metric dimension
    request.state.pipeline = model
    current_pipeline.set(model)
    wrapper_cls = type(pipeline.wrapper)
    if implements(wrapper_cls, operation.async_method):
        name, is_async = operation.async_method, True
    elif implements(wrapper_cls, operation.sync_method):
        name, is_async = operation.sync_method, False
    else:
        raise HTTPException(status_code=501, detail=operation.not_implemented)
    method = getattr(pipeline.wrapper, name)
    kwargs = {"model": model, **arguments}
    if "headers" in inspect.signature(method).parameters:
        kwargs["headers"] = request.headers
    return await call_under_deadline(request, model, method, is_async=is_async, kwargs=kwargs, failed=execution_failed)


async def call_under_deadline(
    request: Request,
    pipeline_name: str,
    method: Callable[..., Any],
    *,
    is_async: bool,
    failed: Callable[[BaseException], HTTPException],
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
) -> Any:
    """Call a wrapper method inline (Lambda), in the thread pool (`make run`) or awaited, within the
    invocation's remaining time: its HTTPException as is, `failed(exc)` for anything else, 504 past the time."""
    kwargs = kwargs or {}
    inline = request.app.state.sync_inline
    deadline = Deadline(budget_seconds(request.scope, request.app.state.settings.timeout_margin_ms))
    result: Any = None
    try:
        async with deadline.limit(sync_inline=inline and not is_async):
            if is_async:
                result = await method(*args, **kwargs)
            elif inline:
                result = method(*args, **kwargs)
            else:
                result = await run_in_threadpool(method, *args, **kwargs)
    except HTTPException:
        raise
    except (Exception, SystemExit) as exc:  # sys.exit() in a wrapper must not end the environment
        raise failed(exc) from exc
    if deadline.expired:
        raise HTTPException(status_code=504, detail=deadline.detail(pipeline_name))
    return result


def as_async(result: Iterator[Any] | AsyncIterator[Any], *, inline: bool) -> AsyncIterator[Any]:
    """One async view of a wrapper's stream: sync generators run inline (Lambda) or in the thread pool."""
    if isinstance(result, AsyncIterator):
        return result
    if not inline:
        return iterate_in_threadpool(result)

    async def iterate() -> AsyncIterator[Any]:
        for item in result:
            yield item

    return iterate()


async def collect_text(result: Iterator[Any] | AsyncIterator[Any], *, inline: bool) -> str:
    """A stream asked for whole (`stream: false`): its text joined; a failure half-way is a 500."""
    try:
        return "".join([chunk_text(c) async for c in as_async(result, inline=inline)])
    except Exception as exc:
        raise execution_failed(exc) from exc


def chunk_text(chunk: Any) -> str:
    """The text a chunk carries: a str as it is, else its `.content` (Haystack StreamingChunk)."""
    if isinstance(chunk, str):
        return chunk
    content = getattr(chunk, "content", None)
    return content if isinstance(content, str) else ""
