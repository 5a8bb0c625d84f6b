"""The FastAPI app that serves a registry of loaded pipelines."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.routing import BaseRoute, Match, get_route_path
from starlette.types import ASGIApp, Receive, Scope, Send

from core import no_pydantic_v1
from core.app_services import AppServices, attach, services_of
from core.error_reply import unexpected_error
from core.lazy import PendingRunRoute
from core.registry import FailedPipeline, LoadedPipeline, Registry
from core.routes.run import add_failed_run_route, add_run_route
from core.service_middleware import wrap_in_service_middleware
from core.settings import Settings
from core.warmup import INIT_WARM_UP_KEY, answer_echo_run

TITLE = "haystack-lambda"
DESCRIPTION = "Haystack pipelines served with Hayhooks' endpoints, from AWS Lambda."


class PipelineApp(FastAPI):
    """FastAPI with the service's middleware (core/service_middleware.py) outside its error handler.

    FastAPI puts user middleware inside its `ServerErrorMiddleware`, so a 500 it produces would go out
    without `X-Request-Id` and without CORS headers; a browser would then report a CORS failure instead
    of the error. Wrapping the whole stack keeps both on every response.
    """

    @property
    def routes(self) -> list[BaseRoute]:
        """The routes served, a lazy pipeline's built run route in its place once it is loaded (core/lazy.py):
        what the OpenAPI document is made of. The router's own list is never edited after start-up."""
        return [route.built or route if isinstance(route, PendingRunRoute) else route for route in self.router.routes]

    # False when the lean front (core/front.py) serves this app: the front wraps both in the same layers
    service_middleware = True

    def build_middleware_stack(self):  # type: ignore[override]
        stack = super().build_middleware_stack()
        if not self.service_middleware:
            return stack
        return wrap_in_service_middleware(stack, services_of(self))


def create_app(
    settings: Settings,
    registry: Registry,
    *,
    sync_inline: bool = False,
    api_keys: tuple[bytes, ...] = (),
    durable_runs: Any = None,
    behind: AppServices | None = None,
) -> FastAPI:
    """Build the app. `sync_inline` calls sync wrappers on the event loop (right for Lambda only).

    Durable wrappers (HAYHOOKS_DURABLE_MODE) get Hayhooks' durable routes after their run routes; their
    executions are the durable worker function's (`durable_runs`, by default the one HAYHOOKS_DURABLE_WORKER_ARN
    names: core/durable_runs.py). With the mode off nothing durable is imported.

    `behind`: the services of the lean front (core/front.py) this app is built for, on its first request
    that needs FastAPI; the app then shares them and leaves the service's middleware to the front.

    `settings.root_path` is applied by the server in front (uvicorn under `make run`, the handler on Lambda).
    Every route is added here, in the order requests are matched against them, and none after: the run
    routes first (runs are the hot path, and `/undeploy/run` must be a pipeline's), a lazy pipeline's among
    them (core/lazy.py), then the fixed routes, then FastAPI's documentation routes.
    """
    # Before any route is declared, here and by the route modules imported below: the one place FastAPI's
    # private `_compat` is patched (docs/decisions.md).
    no_pydantic_v1.install()
    from core.mcp_route import add_mcp_route
    from core.openai import chat as openai_chat
    from core.openai import files as openai_files
    from core.openai import model_list as openai_model_list
    from core.openai import responses as openai_responses
    from core.routes import deploy, status

    # FastAPI adds its documentation routes when built; without an OpenAPI URL it adds none (added last, below)
    app = PipelineApp(title=TITLE, description=DESCRIPTION, openapi_url=None)
    if behind is not None:
        attach(app, behind)
        app.service_middleware = False
    else:
        attach(app, AppServices(settings, registry, sync_inline=sync_inline, api_keys=api_keys))

    for pipeline in registry.loaded.values():
        if pipeline.run is not None:
            add_run_route(app, pipeline, **_run_route_options(app))
    if durable := [p for p in registry.loaded.values() if p.durable]:
        _add_durable_routes(app, durable, durable_runs)
    for failed in registry.failed.values():
        add_failed_run_route(app, failed.name, registry.failure_detail(failed.name) or "")
    if registry.pending:
        pending = {name: PendingRunRoute(name, registry) for name in registry.pending}
        app.router.routes.extend(pending.values())
        registry.on_load.append(lambda result: _build_loaded_route(app, pending[result.name], result))
    app.include_router(status.router)
    app.include_router(deploy.router)
    app.include_router(openai_model_list.router)
    app.include_router(openai_chat.router)
    app.include_router(openai_responses.router)
    app.include_router(openai_files.router)
    add_mcp_route(app)  # the MCP SDK is imported by the first /mcp request, not here
    app.openapi_url = "/openapi.json"
    app.setup()  # FastAPI's own: /openapi.json, /docs, /docs/oauth2-redirect, /redoc

    app.router.redirect_slashes = False  # Starlette's redirect is absolute, to whatever Host the client sent
    app.router.default = _slash_redirect_or_not_found(app.router.default)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, unexpected_error)

    return app


def _add_durable_routes(app: FastAPI, pipelines: list[LoadedPipeline], runs: Any) -> None:
    from core.durable_runs import LambdaDurableRuns
    from core.routes.durable import durable_router

    runs = runs if runs is not None else LambdaDurableRuns.from_env()  # no worker configured: init fails, saying so
    for pipeline in pipelines:
        app.include_router(durable_router(pipeline.name, pipeline.wrapper, runs))


def _run_route_options(app: FastAPI) -> dict[str, Any]:
    services = services_of(app)
    settings = services.settings
    return {
        "show_tracebacks": settings.show_tracebacks,
        "sync_inline": services.sync_inline,
        "timeout_margin_ms": settings.timeout_margin_ms,
    }


def _build_loaded_route(app: FastAPI, slot: PendingRunRoute, result: LoadedPipeline | FailedPipeline) -> None:
    """A pending pipeline finished loading (lazy strategy, in a worker thread): build the route cold start
    would have given it, outside the app's route list, and hand it to its `PendingRunRoute`."""
    # the router `app.add_api_route` adds to, but a private one: the route is built as the app builds it
    router = APIRouter(dependency_overrides_provider=app)
    services = services_of(app)
    if isinstance(result, FailedPipeline):
        add_failed_run_route(router, result.name, services.registry.failure_detail(result.name) or "")
    elif result.run is not None:
        add_run_route(router, result, **_run_route_options(app))
    # no run_api: no run route, as at cold start (its PendingRunRoute answers 404)
    if router.routes:
        (slot.built,) = router.routes
        app.openapi_schema = None  # /docs shows it from now on
    services.deployment_summaries = None  # /status rebuilds its per-pipeline summaries


def _slash_redirect_or_not_found(not_found: ASGIApp) -> ASGIApp:
    """`GET /status/` → 307 to `/status`, as Starlette answers, but with a relative `Location`: Starlette
    builds it from the request's Host header, so a client choosing the Host chose where a redirect went."""

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get(INIT_WARM_UP_KEY) and await answer_echo_run(scope, receive, send):
            return  # the init warm-up's echo run, whose route is in no route list (core/warmup.py)
        app = scope.get("app")
        path = scope["path"]
        if scope["type"] == "http" and app is not None and get_route_path(scope) != "/":
            other = dict(scope, path=path.rstrip("/") if path.endswith("/") else path + "/")
            if any(route.matches(other)[0] is not Match.NONE for route in app.router.routes):
                query = scope.get("query_string", b"").decode("latin-1")
                await RedirectResponse(other["path"] + (f"?{query}" if query else ""))(scope, receive, send)
                return
        await not_found(scope, receive, send)

    return answer


MAX_LISTED_ERRORS = 20  # a 422 lists the first ones, then says how many there were
MAX_INPUT_CHARS = 500  # each listed error's input, as JSON text, at most


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422, bounded: the first `MAX_LISTED_ERRORS` errors, each `input` cut to `MAX_INPUT_CHARS`,
    and `error_count` / `errors_shown` when some were left out.

    FastAPI lists every error with its input: a 400 KB body of a million wrong items answered 21 MB (over
    Lambda's 6 MB) after half a minute of encoding. Bytes in an input are decoded with replacement
    characters (FastAPI's own handler decodes them strictly: a non-UTF-8 body sent without a content type
    made the 422 itself fail, as a 500).
    """
    errors = exc.errors()
    listed = [_bounded_error(error) for error in errors[:MAX_LISTED_ERRORS]]
    content: dict[str, Any] = {"detail": jsonable_encoder(listed, custom_encoder={bytes: _lenient_text})}
    if len(errors) > len(listed):
        content.update(error_count=len(errors), errors_shown=len(listed))
    return JSONResponse(content, status_code=422)


def _lenient_text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


def _bounded_error(error: Any) -> Any:
    if not isinstance(error, dict) or isinstance(error.get("input"), (bool, int, float, type(None))):
        return error
    value = error["input"]
    if isinstance(value, (str, bytes)) and len(value) <= MAX_INPUT_CHARS:
        return error
    parts: list[str] = []
    complete = _preview(value, parts, MAX_INPUT_CHARS)
    if complete:
        return error
    return {**error, "input": "".join(parts)[:MAX_INPUT_CHARS] + "... (truncated)"}


def _preview(value: Any, parts: list[str], budget: int) -> bool:
    """Append `value` as JSON-like text to `parts`, stopping once `budget` characters are written: the input
    may be the whole body, and rendering it all just to cut it would cost what the cap saves. True if whole."""
    if isinstance(value, dict):
        items: Any = value.items()
        opening, closing = "{", "}"
    elif isinstance(value, (list, tuple)):
        items, opening, closing = value, "[", "]"
    else:
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        parts.append(json.dumps(text[:budget]) if isinstance(text, str) else repr(value)[:budget])
        return len(parts[-1]) < budget
    parts.append(opening)
    used = sum(map(len, parts))
    for index, item in enumerate(items):
        if index:
            parts.append(", ")
        if isinstance(value, dict):
            parts.append(json.dumps(str(item[0])[:budget]) + ": ")
            item = item[1]
        used = sum(map(len, parts))
        if used >= budget or not _preview(item, parts, budget - used):
            return False
    parts.append(closing)
    return True
