"""The OpenAI endpoints' side of core/invocation.py: the wrapper for `model` called for an operation, its
failures raised as Hayhooks' `HTTPException`s, a whole answer's text."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import HTTPException, Request

from core.chunks import chunk_text
from core.invocation import InvocationError, Invoker, Kind, WrapperRefused

# What `call_wrapper` answers besides the wrapper's own result, for the OpenAPI document of both endpoints
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No pipeline of that name (the `model` field)"},
    501: {"description": "The pipeline does not implement this endpoint (Hayhooks' answer)"},
    503: {"description": "The pipeline failed to load"},
    504: {"description": "The pipeline did not finish within the invocation's remaining time"},
}


@contextmanager
def http_errors() -> Iterator[None]:
    """An `InvocationError` as the `HTTPException` Hayhooks raises for it (the wrapper's own, as it is)."""
    try:
        yield
    except WrapperRefused as refused:
        raise refused.exception  # noqa: B904  (the wrapper's own exception, with its own cause)
    except InvocationError as error:
        raise HTTPException(status_code=error.status_code, detail=error.detail) from error


async def call_wrapper(request: Request, kind: Kind, model: str, arguments: dict[str, Any], *, stream: bool) -> Any:
    """The result of `model`'s method for `kind`; a stream is gathered (`Chunks`) unless `stream`."""
    with http_errors():
        return await Invoker.of(request.app).invoke(
            model, kind, {"model": model, **arguments}, scope=request.scope, headers=request.headers, whole=not stream
        )


def whole_text(chunks: list[Any]) -> str:
    """A stream asked for whole (`stream: false`): the text of its chunks, joined (a chunk that carries
    none adds nothing, as in Hayhooks)."""
    return "".join([chunk_text(chunk) or "" for chunk in chunks])
