"""Server-sent events from a wrapper's stream, for both OpenAI endpoints.

An encoder turns chunks into SSE messages; this module drives it. Under `make run` the events stream as
they are produced. On Lambda behind API Gateway a response cannot stream (Mangum buffers it and HTTP API
has no streaming), so the whole event stream is built first, within the invocation's remaining time (past
it: a 504), and sent as one complete `text/event-stream` body, which SSE clients parse the same way. An
exception half-way becomes the encoder's error event: the body stays well-formed.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any, Protocol

from fastapi import Request
from starlette.responses import Response, StreamingResponse

from core.chunks import chunk_text
from core.invocation import Invoker, PipelineFailed
from core.openai.dispatch import http_errors
from core.redact import redact
from core.request_context import STREAM_FAILURE, STREAMED

logger = logging.getLogger("core.openai")


def text_of(chunk: Any) -> str:
    """A chunk's text for an event; an item that carries none (a dict, None) as its `str()`, as in Hayhooks."""
    text = chunk_text(chunk)
    return str(chunk) if text is None else text


class Encoder(Protocol):
    def start(self) -> list[str]: ...
    def feed(self, chunk: Any) -> list[str]: ...
    def finish(self) -> list[str]: ...
    def fail(self, message: str) -> list[str]: ...


async def events(
    chunks: AsyncIterator[Any], encoder: Encoder, scope: dict[str, Any] | None = None
) -> AsyncIterator[str]:
    """`scope`: a streamed request's, told of a failure half-way (STREAM_FAILURE) for Lambda's error trailers."""
    try:
        for event in encoder.start():
            yield event
        try:
            async for chunk in chunks:
                for event in encoder.feed(chunk):
                    yield event
        except Exception as exc:
            logger.exception("Stream failed half-way")
            if scope is not None:
                scope[STREAM_FAILURE] = exc
            # each_chunk's PipelineFailed says so already (and is redacted); a bare exception does not
            message = str(exc) if isinstance(exc, PipelineFailed) else f"Pipeline execution failed: {redact(str(exc))}"
            for event in encoder.fail(message):
                yield event
            return
        for event in encoder.finish():
            yield event
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()


async def respond(request: Request, pipeline: str, chunks: Iterable[Any], encoder: Encoder) -> Response:
    invoker = Invoker.of(request.app)
    if request.scope.get(STREAMED):  # the streaming loop sends each event as it comes, each step within the deadline
        chunks = invoker.each_chunk(chunks, pipeline, request.scope)
        streamed = events(chunks, encoder, request.scope)  # type: ignore[arg-type]
        return StreamingResponse(streamed, media_type="text/event-stream")
    stream = events(invoker.iterate(chunks), encoder)  # type: ignore[arg-type]
    if not invoker.inline:
        return StreamingResponse(stream, media_type="text/event-stream")
    with http_errors():
        async with invoker.guard(pipeline, request.scope):
            body = "".join([event async for event in stream])
    return Response(body, media_type="text/event-stream")
