"""A `/run` result turned into its response body; a generator `run_api` returned becomes a `text/plain`
body, as Hayhooks does.

Items are concatenated: strings and bytes as they are, Haystack `StreamingChunk`s by their text (or their
reasoning text when they carry no text; core/chunks.py reads both), `None` as nothing, anything else as
JSON (falling back to `str`). `PipelineEvent`s (UI events, for the OpenAI endpoints) are skipped.

A Hayhooks `SSEStream(generator)` is sent as `text/event-stream` instead: each item one `data:` message.

Under `make run` the body streams. On Lambda, API Gateway delivers a response whole, so the generator is
drained before the response starts: an exception half-way is then a normal 500 with a JSON body, not a
truncated 200.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response, StreamingResponse

from core.chunks import chunk_text, class_names, reasoning_text
from core.invocation import STREAM_TYPES

if TYPE_CHECKING:
    from core.invocation import Invoker


def format_item(item: Any) -> str | bytes | None:
    """One stream item as body text; None: left out."""
    if isinstance(item, (str, bytes)):
        return item
    if item is None:
        return ""
    kinds = class_names(item)
    if "PipelineEvent" in kinds:  # UI events (Open WebUI's, Chainlit's too) belong to the OpenAI endpoints
        return None
    if "StreamingChunk" in kinds:  # as Hayhooks: other objects with a `content` are written as JSON
        return chunk_text(item) or reasoning_text(item) or ""
    try:
        return json.dumps(item)
    except TypeError:
        return str(item)


def _bytes(part: str | bytes) -> bytes:
    return part if isinstance(part, bytes) else part.encode()


def is_stream(result: Any) -> bool:
    """A generator, or Hayhooks' `SSEStream` around one (matched by name: it may be Hayhooks' own class)."""
    return isinstance(result, STREAM_TYPES) or is_sse_stream(result)


def is_sse_stream(result: Any) -> bool:
    return type(result).__name__ == "SSEStream" and hasattr(result, "stream")


def _unwrap(result: Any) -> tuple[Iterator[Any] | AsyncIterator[Any], bool]:
    """The generator to iterate, and whether its items go out as server-sent events."""
    if not is_sse_stream(result):
        return result, False
    if not isinstance(result.stream, STREAM_TYPES):
        raise TypeError(f"SSEStream.stream must be a generator or async generator (got type {type(result.stream)!r})")
    return result.stream, True


def sse_message(part: str | bytes) -> str:
    """One item as one SSE message: each of its lines a `data:` line (an empty item is an empty `data:`)."""
    text = part.decode("utf-8", errors="replace") if isinstance(part, bytes) else part
    lines = text.splitlines()
    if not lines:
        return "data:\n\n"
    return "".join(f"data: {line}\n" for line in lines) + "\n"


def _render(item: Any, sse: bool) -> str | bytes | None:
    part = format_item(item)
    return sse_message(part) if sse and part is not None else part


def _media_type(sse: bool) -> str:
    return "text/event-stream" if sse else "text/plain"


async def drain(result: Any, invoker: Invoker) -> Response:
    """The whole stream as one response (call it inside the invocation's guard)."""
    items, sse = _unwrap(result)
    parts = [_bytes(part) for item in await invoker.collect(items) if (part := _render(item, sse)) is not None]
    return Response(b"".join(parts), media_type=_media_type(sse))


def stream(result: Any) -> StreamingResponse:
    items, sse = _unwrap(result)
    if isinstance(items, AsyncIterator):

        async def agen() -> AsyncIterator[str | bytes]:
            try:
                async for item in items:
                    if (part := _render(item, sse)) is not None:
                        yield part
            finally:
                await items.aclose()  # type: ignore[union-attr]  # a client gone: the generator's cleanup runs

        return StreamingResponse(agen(), media_type=_media_type(sse))

    def gen() -> Iterator[str | bytes]:
        try:
            for item in items:
                if (part := _render(item, sse)) is not None:
                    yield part
        finally:
            items.close()  # type: ignore[union-attr]

    return StreamingResponse(gen(), media_type=_media_type(sse))


def remove_temp_file_after_sending(response: Response) -> Response:
    """A `FileResponse` of a file in the temp dir is deleted once sent.

    On Lambda /tmp (512 MB by default) survives between invocations of a warm environment: files a wrapper
    writes there for each response would fill it. Files elsewhere, and responses that already carry a
    background task, are left alone.
    """
    if isinstance(response, FileResponse) and response.background is None:
        path = Path(response.path).resolve()
        if path.is_relative_to(Path(tempfile.gettempdir()).resolve()):
            response.background = BackgroundTask(_remove, path)
    return response


def _remove(path: Path) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
