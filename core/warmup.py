"""Warm the app at cold start so the first request costs what any other does.

FastAPI builds each route's dependency and validation state on the first request that reaches it
(~4 ms for a handful of routes); Haystack imports `haystack.tools` on the first `Pipeline.run`; and
Python runs code faster once it has run it a few times (it specialises bytecode as it goes). All of this
happens here, in the init phase, instead:

* one internal request per route with a body no route can accept (invalid JSON, or multipart without a
  boundary: a 4xx before any wrapper code runs), so no pipeline is executed;
* a few successful runs of a built-in pipeline that only echoes its input, through a route added for the
  warm-up and removed after it (`warmup_route`): the run path every pipeline shares (validation, the
  wrapper call, the deadline, the response model, JSON) has then run before the first real request.

These requests are not logged and do not count as served requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message

from core.request_context import WARMUP_KEY, warming  # noqa: F401  (warming: the Lambda handler's, from here)

# discovery skips names starting with "_": no pipeline of the user's can ever be called this
WARMUP_PIPELINE = "_haystack_lambda_warmup"
WARMUP_RUN_PATH = f"/{WARMUP_PIPELINE}/run"
WARMUP_RUN_BODY = b'{"text": "warm", "count": 2}'
WARMUP_REPEAT = 3  # enough runs for the interpreter to specialise the shared run path


class _EchoWrapper:
    def run_api(self, text: str, count: int = 1) -> dict[str, Any]:
        """Echo the text: the built-in pipeline the warm-up runs."""
        return {"text": text, "count": count}


@contextmanager
def warmup_route(app: Any) -> Iterator[str]:
    """Add the built-in echo pipeline's run route for the duration of a warm-up; yields its path."""
    from core.models import build_run_spec
    from core.registry import LoadedPipeline
    from core.routes.run import add_run_route

    wrapper = _EchoWrapper()
    spec = build_run_spec(WARMUP_PIPELINE, wrapper.run_api, is_async=False)
    pipeline = LoadedPipeline(WARMUP_PIPELINE, "wrapper", Path(__file__), wrapper, spec, 0.0)
    routes = list(app.router.routes)
    add_run_route(app, pipeline, show_tracebacks=False, sync_inline=app.state.sync_inline)
    try:
        yield WARMUP_RUN_PATH
    finally:
        app.router.routes[:] = routes
        app.openapi_schema = None


async def _request(
    app: ASGIApp, method: str, path: str, content_type: bytes = b"application/json", body: bytes = b"["
) -> None:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}  # default: invalid JSON, a 422

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
        "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        WARMUP_KEY: True,
    }
    await app(scope, receive, send)


def warm_up(app: Any, run_routes: list[tuple[str, bool]], *, shared_paths: bool = True) -> None:
    """`run_routes`: (pipeline name, whether its endpoint is multipart). `shared_paths=False` leaves out
    `/status` and the echo runs, for a caller that replays them through its own layers (the Lambda handler)."""
    import haystack.tools  # noqa: F401  (Pipeline.run imports it on first use)

    async def run() -> None:
        for name, multipart in run_routes:
            # a body no route accepts: invalid JSON, or multipart without a boundary (a 400)
            await _request(app, "POST", f"/{name}/run", b"multipart/form-data" if multipart else b"application/json")
        for path in ("/v1/chat/completions", "/v1/responses", "/v1/files"):
            await _request(app, "POST", path)
        if shared_paths:
            await _request(app, "GET", "/status")
            with warmup_route(app) as path:
                for _ in range(WARMUP_REPEAT):
                    await _request(app, "POST", path, body=WARMUP_RUN_BODY)

    # a private loop, never set as the current one: the caller's (or Mangum's) loop stays as it is
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(run())
    finally:
        loop.close()
