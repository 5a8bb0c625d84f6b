"""Turning a generator returned by `run_api` into a `text/plain` body, as Hayhooks does.

Items are concatenated: strings and bytes as they are, Haystack `StreamingChunk`s by their content,
anything else as JSON (falling back to `str`). Through API Gateway the body arrives whole.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from starlette.responses import StreamingResponse


def format_item(item: Any) -> str | bytes:
    if isinstance(item, (str, bytes)):
        return item
    if item is None:
        return ""
    content = getattr(item, "content", None)
    if isinstance(content, str) and type(item).__name__ == "StreamingChunk":
        return content
    try:
        return json.dumps(item)
    except TypeError:
        return str(item)


def stream_response(result: Iterator[Any] | AsyncIterator[Any]) -> StreamingResponse:
    if isinstance(result, AsyncIterator):

        async def agen() -> AsyncIterator[str | bytes]:
            async for item in result:
                yield format_item(item)

        return StreamingResponse(agen(), media_type="text/plain")

    return StreamingResponse((format_item(item) for item in result), media_type="text/plain")
