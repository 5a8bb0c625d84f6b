"""The one shape of an error this service answers on its own, before or around FastAPI: `{"detail": ...}`.

FastAPI's handlers reply this way too; the middleware layers (auth, request limits) and the Lambda entry,
which answer without reaching FastAPI, use these so every refusal reads the same.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

logger = logging.getLogger("core.app")  # the FastAPI app's logger: its unexpected errors were logged there


def error_response(status: int, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON error reply, an ASGI app itself: `await error_response(...)(scope, receive, send)`."""
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def error_body(detail: Any) -> str:
    """The same body as text, for an answer built without ASGI (a Lambda result the handler returns)."""
    return json.dumps({"detail": detail}, ensure_ascii=False, separators=(",", ":"))


def http_exception_response(exc: HTTPException) -> Response:
    """An `HTTPException` answered as FastAPI's default handler answers it (the lean front's, core/front.py):
    `{"detail": ...}` with its status and headers; no body for a status that allows none."""
    headers = getattr(exc, "headers", None)
    if exc.status_code < 200 or exc.status_code in (204, 205, 304):
        return Response(status_code=exc.status_code, headers=headers)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """A fault outside a pipeline: JSON, never a traceback in the body (the handler of Starlette's
    `ServerErrorMiddleware`, in the FastAPI app and the lean front alike)."""
    logger.exception("Unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "Internal Server Error")
