"""Server-sent events from a wrapper's stream, for both OpenAI endpoints.

An encoder turns chunks into SSE messages; this module drives it. Under `make run` the events stream as
they are produced. On Lambda behind API Gateway a response cannot stream (Mangum buffers it and HTTP API
has no streaming), so the whole event stream is built first and sent as one complete `text/event-stream`
body, which SSE clients parse the same way. An exception half-way becomes the encoder's error event: the
body stays well-formed.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any, Protocol

from starlette.responses import Response, StreamingResponse

from core.redact import redact

logger = logging.getLogger("core.openai")


class Encoder(Protocol):
    def start(self) -> list[str]: ...
    def feed(self, chunk: Any) -> list[str]: ...
    def finish(self) -> list[str]: ...
    def fail(self, message: str) -> list[str]: ...


async def events(chunks: AsyncIterator[Any], encoder: Encoder) -> AsyncIterator[str]:
    try:
        for event in encoder.start():
            yield event
        try:
            async for chunk in chunks:
                for event in encoder.feed(chunk):
                    yield event
        except Exception as exc:
            logger.exception("Stream failed half-way")
            for event in encoder.fail(f"Pipeline execution failed: {redact(str(exc))}"):
                yield event
            return
        for event in encoder.finish():
            yield event
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()


async def respond(chunks: AsyncIterator[Any], encoder: Encoder, *, buffer: bool) -> Response:
    if buffer:
        body = "".join([event async for event in events(chunks, encoder)])
        return Response(body, media_type="text/event-stream")
    return StreamingResponse(events(chunks, encoder), media_type="text/event-stream")
