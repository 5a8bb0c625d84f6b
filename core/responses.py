"""Turning a generator returned by `run_api` into a `text/plain` body, as Hayhooks does.

Items are concatenated: strings and bytes as they are, Haystack `StreamingChunk`s by their content
(or their reasoning text when they carry no content), `None` as nothing, anything else as JSON
(falling back to `str`). `PipelineEvent`s (UI events, for the OpenAI endpoints) are skipped.

Under `make run` the body streams. On Lambda, API Gateway delivers a response whole, so the generator is
drained before the response starts: an exception half-way is then a normal 500 with a JSON body, not a
truncated 200.
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
    kinds = _class_names(item)
    if "PipelineEvent" in kinds:  # UI events (Open WebUI's, Chainlit's too) belong to the OpenAI endpoints
        return None
    if "StreamingChunk" in kinds:
        if item.content:
            return item.content
        reasoning = getattr(item, "reasoning", None)
        return (getattr(reasoning, "reasoning_text", "") or "") if reasoning is not None else ""
    try:
        return json.dumps(item)
    except TypeError:
        return str(item)


def _class_names(item: Any) -> set[str]:
    """By name, not isinstance: neither `core.events` nor Haystack is imported for a pipeline that never
    yields them, and `hayhooks.events.PipelineEvent` (the real package, when installed) is skipped too."""
    return {cls.__name__ for cls in type(item).__mro__}


def _bytes(part: str | bytes) -> bytes:
    return part if isinstance(part, bytes) else part.encode()


async def drain(result: Iterator[Any] | AsyncIterator[Any]) -> Response:
    """The whole stream as one text/plain response (sync generators are iterated inline)."""
    parts: list[bytes] = []
    if isinstance(result, AsyncIterator):
        async for item in result:
            if (part := format_item(item)) is not None:
                parts.append(_bytes(part))
    else:
        for item in result:
            if (part := format_item(item)) is not None:
                parts.append(_bytes(part))
    return Response(b"".join(parts), media_type="text/plain")


def stream(result: Iterator[Any] | AsyncIterator[Any]) -> StreamingResponse:
    if isinstance(result, AsyncIterator):

        async def agen() -> AsyncIterator[str | bytes]:
            async for item in result:
                if (part := format_item(item)) is not None:
                    yield part

        return StreamingResponse(agen(), media_type="text/plain")
    return StreamingResponse(
        (part for item in result if (part := format_item(item)) is not None), media_type="text/plain"
    )


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
