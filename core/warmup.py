"""The init warm-up: requests through the app at cold start, so the first caller's request runs warm code.

FastAPI builds each route's dependency and validation state on the first request that reaches it;
Haystack imports `haystack.tools` on the first `Pipeline.run`; Python runs code faster once it has run it a
few times (it specialises bytecode as it goes). The warm-up pays those costs in the init phase instead:

* one request per run route and OpenAI-compatible endpoint with a body no route accepts (invalid JSON, or
  multipart without a boundary: a 4xx before any wrapper code runs), so no pipeline is executed;
* `GET /status`;
* a few successful runs of a built-in pipeline that only echoes its input: the run path every pipeline
  shares (validation, the wrapper call, the deadline, the response model, JSON). Its route is in no route
  list: the router finds no route for its path and its not-found answer hands the request to the route the
  scope carries (`answer_echo_run`, called from core/app.py); no request from outside carries one. Behind
  the lean front (core/front.py, on Lambda) the scope carries the echo's `RunCall`, which the front runs
  as it runs a pipeline's. The invalid bodies above are FastAPI's to answer there: the warm-up builds the
  FastAPI app behind the front, in an init paid ahead.

Each request carries `INIT_WARM_UP_KEY` in its ASGI scope (no client can set a scope key): it is neither
authenticated, logged nor counted. It runs only when it pays (`wanted`): under SnapStart and provisioned
concurrency the init is paid before any caller waits; on an on-demand cold start the caller waits for
init plus the first request, and the warm-up made that sum longer (docs/decisions.md has the figures).
`HAYHOOKS_INIT_WARM_UP=on|off` overrides the rule. `make run` (core/__main__.py) warms up unless it is
`off`: a server's start-up, too, is over before anyone calls it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.routing import BaseRoute, get_route_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.app_services import services_of
from core.request_context import INIT_WARM_UP_KEY

logger = logging.getLogger("core.warmup")


# discovery skips names starting with "_": no pipeline of the user's can ever be called this
WARMUP_PIPELINE = "_haystack_lambda_warmup"
WARMUP_RUN_PATH = f"/{WARMUP_PIPELINE}/run"
WARMUP_RUN_BODY = b'{"text": "warm", "count": 2}'
WARMUP_REPEAT = 3  # enough runs for the interpreter to specialise the shared run path

# AWS_LAMBDA_INITIALIZATION_TYPE values whose init no caller waits for
PAID_AHEAD = ("snap-start", "provisioned-concurrency")


def wanted(setting: str, environ: Mapping[str, str]) -> bool:
    """`setting`: HAYHOOKS_INIT_WARM_UP (`auto`, `on`, `off`)."""
    if setting != "auto":
        return setting == "on"
    return environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") in PAID_AHEAD


class _EchoWrapper:
    def run_api(self, text: str, count: int = 1) -> dict[str, Any]:
        """Echo the text: the built-in pipeline the warm-up runs."""
        return {"text": text, "count": count}


def _echo_pipeline() -> Any:
    from core.registry import LoadedPipeline
    from core.run_spec import build_run_spec

    wrapper = _EchoWrapper()
    spec = build_run_spec(WARMUP_PIPELINE, wrapper.run_api, is_async=False)
    return LoadedPipeline(WARMUP_PIPELINE, "wrapper", Path(__file__), wrapper, spec, 0.0)


def _echo_route(app: Any) -> Any:
    """What answers the echo run, carried in its scope: for the lean front (core/front.py) the run it calls,
    as it calls a pipeline's; for the FastAPI app, a run route built as it builds them, in a router of its own."""
    # the lean front (core/front.py) has one; asked, not imported: core.front -> core.app -> here would be a cycle
    run_call = getattr(app, "run_call", None)
    if run_call is not None:
        return run_call(_echo_pipeline(), show_tracebacks=False)
    from fastapi import APIRouter

    from core.routes.run import add_run_route

    router = APIRouter(dependency_overrides_provider=app)
    add_run_route(router, _echo_pipeline(), show_tracebacks=False, sync_inline=services_of(app).sync_inline)
    (route,) = router.routes
    return route


async def answer_echo_run(scope: Scope, receive: Receive, send: Send) -> bool:
    """For the app's not-found answer: a warm-up request for the echo run is answered by the route its scope
    carries (True); anything else is not this function's (False)."""
    route = scope.get(INIT_WARM_UP_KEY)
    if not isinstance(route, BaseRoute) or get_route_path(scope) != WARMUP_RUN_PATH:
        return False
    _, child_scope = route.matches(scope)
    scope.update(child_scope)
    await route.handle(scope, receive, send)
    return True


async def _request(
    entry: ASGIApp,
    method: str,
    path: str,
    content_type: bytes = b"application/json",
    body: bytes = b"[",  # default: invalid JSON, a 422
    marker: Any = True,
) -> int:
    sent = False
    status = 0

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "server": ("warmup", 443),
        "client": ("127.0.0.1", 0),
        "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        INIT_WARM_UP_KEY: marker,
    }
    await entry(scope, receive, send)
    return status


def warm_up(app: Any, entry: ASGIApp | None = None) -> list[int]:
    """Run the warm-up's requests into `entry` (the app's outermost ASGI layer the host calls; `app` itself
    by default). Returns the statuses of `GET /status` and the echo runs (200s unless the user's own
    middleware refused them); never raises: a warm-up must not fail a cold start."""
    import haystack.tools  # noqa: F401  (Pipeline.run imports it on first use)

    entry = entry or app
    registry = services_of(app).registry
    statuses: list[int] = []

    async def run() -> None:
        for pipeline in registry.loaded_pipelines():
            if pipeline.run is not None:
                # a body no route accepts: invalid JSON, or multipart without a boundary (a 400)
                kind = b"multipart/form-data" if pipeline.run.requires_files else b"application/json"
                await _request(entry, "POST", f"/{pipeline.name}/run", kind)
        for path in ("/v1/chat/completions", "/v1/responses", "/v1/files"):
            await _request(entry, "POST", path)
        echo = _echo_route(app)
        for _ in range(WARMUP_REPEAT):
            statuses.append(await _request(entry, "GET", "/status", body=b""))
            statuses.append(await _request(entry, "POST", WARMUP_RUN_PATH, body=WARMUP_RUN_BODY, marker=echo))

    # a private loop, never set as the current one: the caller's (or Mangum's) loop stays as it is
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(run())
    except Exception:
        logger.warning("The init warm-up failed", exc_info=True)
    finally:
        loop.close()
    return statuses
