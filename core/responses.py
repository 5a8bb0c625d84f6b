"""Turning a generator returned by `run_api` into a `text/plain` body, as Hayhooks does.

Items are concatenated: strings and bytes as they are, Haystack `StreamingChunk`s by their content
(or their reasoning text when they carry no content), `None` as nothing, anything else as JSON
(falling back to `str`). Hayhooks `PipelineEvent`s (UI events) are skipped.

Under `make run` the body streams. On Lambda, API Gateway delivers a response whole, so the generator is
drained before the response starts: an exception half-way is then a normal 500 with a JSON body, not a
truncated 200.

A generator wrapped in `SSEStream` is served as `text/event-stream` instead: each item, formatted as
above, becomes one event, a `data: ` line per line of its text and a blank line (`data:` alone for an
empty item), byte for byte as Hayhooks writes it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from pathlib import Path
from typing import Any

from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response, StreamingResponse

STREAM_TYPES = (Generator, AsyncGenerator)


def format_item(item: Any) -> str | bytes | None:
    if isinstance(item, (str, bytes)):
        return item
    if item is None:
        return ""
    kind = type(item).__name__
    if kind == "PipelineEvent":
        return None
    if kind == "StreamingChunk":
        if item.content:
            return item.content
        reasoning = getattr(item, "reasoning", None)
        return (getattr(reasoning, "reasoning_text", "") or "") if reasoning is not None else ""
    try:
        return json.dumps(item)
    except TypeError:
        return str(item)


def _bytes(part: str | bytes) -> bytes:
    return part if isinstance(part, bytes) else part.encode()


def _render(item: Any, sse: bool) -> str | bytes | None:
    part = format_item(item)
    return sse_event(part) if sse and part is not None else part


def _media_type(sse: bool) -> str:
    return "text/event-stream" if sse else "text/plain"


async def drain(result: Iterator[Any] | AsyncIterator[Any], *, sse: bool = False) -> Response:
    """The whole stream as one response (sync generators are iterated inline)."""
    parts: list[bytes] = []
    if isinstance(result, AsyncIterator):
        async for item in result:
            if (part := _render(item, sse)) is not None:
                parts.append(_bytes(part))
    else:
        for item in result:
            if (part := _render(item, sse)) is not None:
                parts.append(_bytes(part))
    return Response(b"".join(parts), media_type=_media_type(sse))


def stream(result: Iterator[Any] | AsyncIterator[Any], *, sse: bool = False) -> StreamingResponse:
    if isinstance(result, AsyncIterator):

        async def agen() -> AsyncIterator[str | bytes]:
            async for item in result:
                if (part := _render(item, sse)) is not None:
                    yield part

        return StreamingResponse(agen(), media_type=_media_type(sse))
    return StreamingResponse(
        (part for item in result if (part := _render(item, sse)) is not None), media_type=_media_type(sse)
    )


def sse_event(part: str | bytes) -> str:
    text = part.decode("utf-8", errors="replace") if isinstance(part, bytes) else part
    lines = text.splitlines()
    return "".join(f"data: {line}\n" for line in lines) + "\n" if lines else "data:\n\n"


def sse_stream_of(result: Any) -> Iterator[Any] | AsyncIterator[Any] | None:
    """The generator of an `SSEStream` (Hayhooks' or core's, matched by name: neither is imported here)."""
    if type(result).__name__ != "SSEStream" or not hasattr(result, "stream"):
        return None
    if not isinstance(result.stream, STREAM_TYPES):
        raise TypeError(f"SSEStream.stream must be a generator or async generator, got {type(result.stream)!r}")
    return result.stream


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
