"""The lean front: the Lambda handler's app, which answers the hot routes without importing FastAPI.

A cold start's first requests are `GET /status` and `POST /{name}/run`; FastAPI's import (its parameter
classes, OpenAPI models and routing: about a fifth of the import floor) serves neither, only the docs and the
routes FastAPI validates for us. The front answers these itself, on Starlette and pydantic:

* `GET /status` and `GET /status/{name}`: the bodies and models of core/status_report.py;
* `POST /{name}/run` of a loaded pipeline that takes JSON: the body parsed and validated with the pipeline's
  request model, then core/run_call.py's `RunCall`, as FastAPI's route calls it; the answer serialized as
  FastAPI serializes a response model.

Everything else goes to the FastAPI app of core/app.py, built (and FastAPI imported) on the first request
that needs it, from the same code as without the front: `/docs`, `/openapi.json`, the OpenAI endpoints,
`/mcp`, multipart runs, failed, pending and unknown pipelines, other methods, 404s. So does a run whose body
FastAPI would refuse (no JSON content type, no body, invalid JSON, a validation error): its 422 or 400 is
FastAPI's own, byte for byte, the body handed over as it was read. The front only answers what FastAPI would
answer 200 (or the wrapper's own status), the same way.

The service's middleware (core/service_middleware.py) wraps the front once; the FastAPI app behind it is
built without it, sharing the front's `AppServices`, so a request gets the same layers whichever answers.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from starlette.datastructures import State
from starlette.exceptions import HTTPException
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import get_route_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.app_services import AppServices, attach
from core.error_reply import http_exception_response, unexpected_error
from core.registry import LoadedPipeline
from core.request_context import INIT_WARM_UP_KEY
from core.run_call import RunCall
from core.service_middleware import wrap_in_service_middleware
from core.status_report import pipeline_status_body, pipeline_status_json, status_body, status_json

if TYPE_CHECKING:
    from fastapi import FastAPI


@dataclass(frozen=True)
class HandOver:
    """A lean answer's "FastAPI answers this one"; `body`: what was read of the request's (None: nothing)."""

    body: bytes | None = None


Answer = Callable[[Request], Awaitable[Response | HandOver]]
# scope keys between the dispatch and the lean answer inside Starlette's error middleware
_ANSWER = "haystack_lambda.lean_answer"
_HANDED_OVER = "haystack_lambda.handed_over"


class LeanFront:
    """An ASGI app with `state.services` (core/app_services.py), as the FastAPI app has."""

    def __init__(self, services: AppServices) -> None:
        self.state = State()
        self.services = attach(self, services)
        self.middleware_stack: ASGIApp | None = None  # built by the first request, as Starlette's is
        self._full: FastAPI | None = None
        self._runs: dict[str, RunCall | None] = {}  # pipeline name -> its lean run (None: FastAPI's)
        self._answer_lean = ServerErrorMiddleware(self._lean, handler=unexpected_error)

    @property
    def full_app(self) -> FastAPI:
        """The FastAPI app behind the front, built (FastAPI imported) on first use."""
        if self._full is None:
            from core.app import create_app

            services = self.services
            self._full = create_app(
                services.settings,
                services.registry,
                sync_inline=services.sync_inline,
                api_keys=services.api_keys,
                behind=services,
            )
        return self._full

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self  # `request.app`, as Starlette sets it; FastAPI's app sets itself when it answers
        if self.middleware_stack is None:
            self.middleware_stack = wrap_in_service_middleware(self._dispatch, self.services)
        await self.middleware_stack(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = self._lean_answer(scope) if scope["type"] == "http" else None
        if answer is not None:
            scope[_ANSWER] = answer
            await self._answer_lean(scope, receive, send)
            handed: HandOver | None = scope.pop(_HANDED_OVER, None)
            if handed is None:
                return
            if handed.body is not None:
                receive = _replay(handed.body, receive)
        await self.full_app(scope, receive, send)

    async def _lean(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer: Answer = scope.pop(_ANSWER)
        request = Request(scope, receive)
        try:
            response = await answer(request)
        except HTTPException as exc:
            response = http_exception_response(exc)
        if isinstance(response, HandOver):
            scope[_HANDED_OVER] = response
            return
        await response(scope, receive, send)

    def _lean_answer(self, scope: Scope) -> Answer | None:
        """The front's answer for this request, or None when FastAPI's app answers it (as the answer may too)."""
        path = get_route_path(scope)
        method = scope["method"]
        if method == "GET":
            if path == "/status":
                return self._status
            name = path.removeprefix("/status/")
            if name != path and name and "/" not in name:
                return lambda request: self._pipeline_status(name)
            return None
        if method != "POST" or not path.endswith("/run"):
            return None
        marker = scope.get(INIT_WARM_UP_KEY)
        if isinstance(marker, RunCall) and path == f"/{marker.name}/run":
            run: RunCall | None = marker  # the init warm-up's echo run (core/warmup.py)
        else:
            name = path[1:-4]
            run = self._run_of(name) if name and "/" not in name else None
        return None if run is None else lambda request: _run(run, request)

    async def _status(self, request: Request) -> Response:
        return _json(status_json(status_body(self.services)))

    async def _pipeline_status(self, name: str) -> Response:
        return _json(pipeline_status_json(pipeline_status_body(self.services, name)))

    def _run_of(self, name: str) -> RunCall | None:
        """`name`'s lean run: loaded, with a run method taking JSON. Failed, pending (lazy strategy), unknown
        and multipart pipelines are FastAPI's (a pending one is not cached: it may load later)."""
        if name in self._runs:
            return self._runs[name]
        pipeline = self.services.registry.get(name)
        if pipeline is None:
            return None
        run = None
        if pipeline.run is not None and not pipeline.run.requires_files:
            run = self.run_call(pipeline, show_tracebacks=self.services.settings.show_tracebacks)
        self._runs[name] = run
        return run

    def run_call(self, pipeline: LoadedPipeline, *, show_tracebacks: bool) -> RunCall:
        """`pipeline`'s run as this app calls it (also the init warm-up's echo run, core/warmup.py)."""
        services = self.services
        return RunCall(
            pipeline,
            show_tracebacks=show_tracebacks,
            sync_inline=services.sync_inline,
            timeout_margin_ms=services.settings.timeout_margin_ms,
        )


async def _run(run: RunCall, request: Request) -> Response | HandOver:
    """A run FastAPI would validate: handed over (FastAPI answers) unless the body is JSON its model accepts."""
    if not _is_json(request.headers.get("content-type")):
        return HandOver()  # FastAPI's answer: a 422 for a body it does not read as JSON
    body = await request.body()
    if not body:
        return HandOver(body)  # "Field required"
    try:
        run_req = run.spec.request_model.model_validate(json.loads(body), from_attributes=True)
    except (ValueError, ValidationError):  # JSON FastAPI cannot decode (JSONDecodeError is a ValueError), a 422
        return HandOver(body)
    result = await run(run_req, request)
    if isinstance(result, Response):
        return result
    if run.spec.response_model is not None:  # the route's response model, serialized as FastAPI does
        return _json(result.model_dump_json(by_alias=True))
    # no response model and not a Response: a wrapper returning other than it declares; FastAPI's encoding
    from fastapi.encoders import jsonable_encoder

    response_class: Any = run.spec.response_class
    return response_class(jsonable_encoder(result), background=None)


def _is_json(content_type: str | None) -> bool:
    """FastAPI's test for a JSON body (`application/json`, `application/*+json`), as the `email` package
    parses the header."""
    if not content_type:
        return False
    media = content_type.partition(";")[0].lower().strip()
    main, _, sub = media.partition("/")
    return media.count("/") == 1 and main == "application" and (sub == "json" or sub.endswith("+json"))


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")


def _replay(body: bytes, receive: Receive) -> Receive:
    """`receive` with the body already read given again first."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay
