"""The one shape of an error this service answers on its own, before or around FastAPI: `{"detail": ...}`.

FastAPI's handlers reply this way too; the middleware layers (auth, request limits) and the Lambda entry,
which answer without reaching FastAPI, use these so every refusal reads the same.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse


def error_response(status: int, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON error reply, an ASGI app itself: `await error_response(...)(scope, receive, send)`."""
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def error_body(detail: Any) -> str:
    """The same body as text, for an answer built without ASGI (a Lambda result the handler returns)."""
    return json.dumps({"detail": detail}, ensure_ascii=False, separators=(",", ":"))
