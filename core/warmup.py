"""Warm the app at cold start so the first request costs what any other does.

FastAPI builds each route's dependency and validation state on the first request that reaches it
(~4 ms for a handful of routes); Haystack imports `haystack.tools` on the first `Pipeline.run`. Both
happen here, in the init phase, instead: one internal request per route with a body no route can accept
(invalid JSON, or multipart without a boundary: a 4xx before any wrapper code runs), so no pipeline is
executed. These requests are not
logged and do not count as the first served request.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Message

WARMUP_KEY = "haystack_lambda.warmup"
# True while an entry point replays a request through its own layers at init (the Lambda handler's
# Mangum path): like WARMUP_KEY, such requests are neither logged nor counted. Not reachable from outside.
warming: ContextVar[bool] = ContextVar("warming", default=False)


async def _request(app: ASGIApp, method: str, path: str, content_type: bytes = b"application/json") -> None:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": b"[", "more_body": False}  # invalid JSON: a 422, never a run

    async def send(message: Message) -> None:
        pass

    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "server": ("warmup", 0),
        "client": ("127.0.0.1", 0),
        "headers": [(b"content-type", content_type), (b"content-length", b"1")],
        WARMUP_KEY: True,
    }
    await app(scope, receive, send)


def warm_up(app: Any, run_routes: list[tuple[str, bool]]) -> None:
    """`run_routes`: (pipeline name, whether its endpoint is multipart)."""
    import haystack.tools  # noqa: F401  (Pipeline.run imports it on first use)

    async def run() -> None:
        await _request(app, "GET", "/status")
        for name, multipart in run_routes:
            # a body no route accepts: invalid JSON, or multipart without a boundary (a 400)
            await _request(app, "POST", f"/{name}/run", b"multipart/form-data" if multipart else b"application/json")
        for path in ("/v1/chat/completions", "/v1/responses"):
            await _request(app, "POST", path)

    # a private loop, never set as the current one: the caller's (or Mangum's) loop stays as it is
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(run())
    finally:
        loop.close()
