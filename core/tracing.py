"""Hayhooks' tracing helpers (`hayhooks.server.tracing`): spans through Haystack's tracer.

`trace_operation("my.step", tags=build_trace_tags(...))` opens a span with Haystack's configured tracer,
as Hayhooks does, and tags it on exit with `hayhooks.success`, `hayhooks.elapsed_ms` and, on failure,
the error's type and message (and HTTP status for an `HTTPException`). With no tracer configured
(Haystack's default) the spans cost next to nothing and go nowhere.

What differs on Lambda: this project does not set up OpenTelemetry exporters or instrument the app
(`configure_tracing` and `instrument_*_app` report that nothing was done); X-Ray tracing of invocations
is the Lambda handler's (POWERTOOLS_TRACE_DISABLED / the template's Tracing setting).
"""

from __future__ import annotations

import traceback
from collections.abc import AsyncGenerator, Generator, Iterator, Mapping
from contextlib import contextmanager
from time import monotonic
from typing import Any

from haystack import tracing

SPAN_PIPELINE_DEPLOY = "hayhooks.pipeline.deploy"
SPAN_PIPELINE_DEPLOY_PREPARE = "hayhooks.pipeline.deploy.prepare"
SPAN_PIPELINE_DEPLOY_COMMIT = "hayhooks.pipeline.deploy.commit"
SPAN_PIPELINE_UNDEPLOY = "hayhooks.pipeline.undeploy"
SPAN_PIPELINE_RUN = "hayhooks.pipeline.run"
SPAN_PIPELINE_STARTUP_DEPLOY = "hayhooks.pipeline.startup.deploy"
SPAN_DURABLE_ATTEMPT = "hayhooks.durable.attempt"
SPAN_OPENAI_RUN = "hayhooks.openai.run"
SPAN_OPENAI_FILE_UPLOAD = "hayhooks.openai.file_upload"
SPAN_MCP_LIST_TOOLS = "hayhooks.mcp.list_tools"
SPAN_MCP_CALL_TOOL = "hayhooks.mcp.call_tool"
SPAN_MCP_RUN_PIPELINE_TOOL = "hayhooks.mcp.run_pipeline_tool"

TAG_SUCCESS = "hayhooks.success"
TAG_ERROR_TYPE = "hayhooks.error.type"
TAG_ERROR_MESSAGE = "hayhooks.error.message"
TAG_ERROR_STACK = "hayhooks.error.stack"
TAG_ELAPSED_MS = "hayhooks.elapsed_ms"
TAG_HTTP_STATUS = "hayhooks.http.status_code"
TAG_RESPONSE_STREAMING = "hayhooks.response.streaming"
TAG_RESPONSE_STREAM_TYPE = "hayhooks.response.stream_type"


def build_trace_tags(tags: Mapping[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    """`tags` updated with `kwargs`, without the `None` values (an unset attribute is left off the span)."""
    return {key: value for key, value in {**(tags or {}), **kwargs}.items() if value is not None}


def build_streaming_trace_tags(tags: Mapping[str, Any] | None = None, *, stream_type: str) -> dict[str, Any]:
    return build_trace_tags(tags, **{TAG_RESPONSE_STREAMING: True, TAG_RESPONSE_STREAM_TYPE: stream_type})


def configure_tracing() -> bool:
    """Hayhooks sets up an OTLP exporter here; this project leaves tracers to Haystack and the handler."""
    return False


def instrument_fastapi_app(app: Any) -> bool:
    return False


def instrument_starlette_app(app: Any) -> bool:
    return False


def get_trace_log_context() -> dict[str, str]:
    """`trace_id` / `span_id` of the current span, as hex strings, for log lines; empty without a span."""
    span = tracing.tracer.current_span()
    if span is None:
        return {}
    try:
        data = span.get_correlation_data_for_logs() or {}
    except Exception:  # a third-party tracer's fault must not fail the traced code
        return {}
    widths = {"trace_id": 32, "span_id": 16}
    return {
        key: (f"{value:0{widths[key]}x}" if key in widths and isinstance(value, int) else str(value))
        for key, value in data.items()
        if value is not None
    }


def _finish(span: Any, started: float, exc: BaseException | None) -> None:
    if exc is None:
        span.set_tag(TAG_SUCCESS, True)
    else:
        status = getattr(exc, "status_code", None)
        if status is not None and type(exc).__name__ == "HTTPException":
            span.set_tag(TAG_HTTP_STATUS, status)
        span.set_tag(TAG_SUCCESS, False)
        span.set_tag(TAG_ERROR_TYPE, type(exc).__name__)
        span.set_tag(TAG_ERROR_MESSAGE, str(exc))
        from core.hayhooks_settings import settings  # only on a failure, and only if tracebacks are shown

        if settings.show_tracebacks:
            span.set_tag(TAG_ERROR_STACK, "".join(traceback.format_exception(exc)))
    span.set_tag(TAG_ELAPSED_MS, int((monotonic() - started) * 1000))


@contextmanager
def trace_operation(operation_name: str, *, tags: Mapping[str, Any] | None = None) -> Iterator[Any]:
    """A span around the block, tagged with the outcome and the elapsed time; yields the span."""
    started = monotonic()
    with tracing.tracer.trace(operation_name, tags=dict(tags or {})) as span:
        try:
            yield span
        except BaseException as exc:
            _finish(span, started, exc)
            raise
        _finish(span, started, None)


class OperationTrace:
    """A span opened now and closed by `finish()`: for work that does not fit one `with` block."""

    def __init__(self, operation_name: str, *, tags: Mapping[str, Any] | None = None) -> None:
        self._context = trace_operation(operation_name, tags=tags)
        self.span = self._context.__enter__()
        self._finished = False

    def finish(self, exc: BaseException | None = None) -> None:
        if self._finished:
            return
        self._finished = True
        if exc is None:
            self._context.__exit__(None, None, None)
        else:
            try:
                self._context.__exit__(type(exc), exc, exc.__traceback__)
            except BaseException as raised:
                if raised is not exc:
                    raise


def start_trace_operation(operation_name: str, *, tags: Mapping[str, Any] | None = None) -> OperationTrace:
    return OperationTrace(operation_name, tags=tags)


def trace_sync_stream(
    stream: Generator[Any], operation_name: str, *, tags: Mapping[str, Any] | None = None
) -> Generator[Any]:
    """The same items, with one span from the first item to the end of the stream."""
    try:
        with trace_operation(operation_name, tags=tags):
            yield from stream
    finally:
        close = getattr(stream, "close", None)
        if callable(close):
            close()


async def trace_async_stream(
    stream: AsyncGenerator[Any], operation_name: str, *, tags: Mapping[str, Any] | None = None
) -> AsyncGenerator[Any]:
    try:
        with trace_operation(operation_name, tags=tags):
            async for item in stream:
                yield item
    finally:
        aclose = getattr(stream, "aclose", None)
        if callable(aclose):
            await aclose()
