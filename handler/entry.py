"""`lambda_handler`: API Gateway / Function URL / ALB events through Mangum into the core app."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from mangum import Mangum
from starlette.types import Scope

from core import warmup
from core.app_services import services_of
from core.auth import ApiKeysRead
from core.error_reply import error_body
from core.logs import bind_invocation, clear_invocation, update_invocation
from core.root_path import RootPathMiddleware
from core.service import build_service
from core.settings import Settings, server_only_variables_set
from handler import snapstart
from handler.events import classify, describe, malformed, stage_root_path
from handler.invocation_log import invocation_log_fields, xray_trace_id
from handler.metrics import PipelineMetrics
from handler.tracing import start_tracing

logger = logging.getLogger("handler")

UNSUPPORTED = "Unsupported event: this function answers API Gateway, Function URL and ALB HTTP events"


def _stage_root(scope: Scope) -> str:
    event = scope.get("aws.event")
    return stage_root_path(event) if isinstance(event, dict) else ""


class LambdaHandler:
    """Loads the pipelines (cold start) and answers invocations, one at a time."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        started = time.perf_counter()
        # the API-key secret's read starts first: its round trip overlaps the imports tracing and loading do
        keys_read = None if self.settings.app else ApiKeysRead()
        self.tracing = start_tracing(self.settings.show_tracebacks)
        if self.settings.app:  # the user's app from create_app(), with its own routes and middleware
            from core.app_factory import load_user_app

            self.app = load_user_app(self.settings, sync_inline=True)
            self.registry = services_of(self.app).registry
        else:
            # the lean front: FastAPI imported by the first request that needs it (core/front.py)
            self.app, self.registry = build_service(
                self.settings, sync_inline=True, lean_front=True, api_keys_read=keys_read
            )
        self.metrics = PipelineMetrics(init_ms=(time.perf_counter() - started) * 1000)
        observers = services_of(self.app).request_observers
        observers.append(self.metrics.observe)
        if self.tracing:
            observers.append(self.tracing.observe)
        self.invocations = 0
        self.export_after_response = False  # our Runtime API loop sets it and calls after_response()
        self.snapstart = snapstart.register(self)
        if ignored := server_only_variables_set():
            logger.info("Ignored on Lambda (they configure a long-running server): %s", ", ".join(ignored))
        # Mangum 0.22 asks asyncio for the current loop when built and on every invocation; on 3.13 that warns
        # or raises unless one is set. Set again per invocation: an asyncio.run() in between clears it.
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        # lifespan off: Mangum would run it on every invocation; pipelines are loaded above, at init.
        self.asgi = RootPathMiddleware(self.app, self.settings.root_path, _stage_root)
        self.adapter = Mangum(self.asgi, lifespan="off")
        # what the init warm-up's `/status` and echo runs answered (diagnostics); empty when it did not run
        self.init_warm_up_statuses: list[int] = []
        if warmup.wanted(self.settings.init_warm_up, os.environ):
            self.init_warm_up_statuses = warmup.warm_up(self.app, self.asgi)
            if self.tracing:
                self.tracing.spans.discard()  # the warm-up's pipeline runs are not anyone's request
            if any(status != 200 for status in self.init_warm_up_statuses):
                # the user's own middleware (HAYHOOKS_APP) may refuse them, e.g. with its own authentication
                log = logger.info if self.settings.app else logger.warning
                log("Init warm-up answered %s (expected 200s)", self.init_warm_up_statuses)
        if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != "snap-start":
            self.metrics.emit_cold_start()  # under SnapStart this init builds a snapshot: restores report it

    def __call__(self, event: Any, context: Any, answer: Callable[[Any, Any], Any] | None = None) -> Any:
        """`answer`: what answers the event instead of `_answer` (the streaming loop's, handler/runtime_stream.py)."""
        answer = answer or self._answer
        self.invocations += 1
        cold_start = self.invocations == 1
        known = [*self.registry.loaded, *self.registry.pending]
        bind_invocation(**invocation_log_fields(event, context, cold_start=cold_start, pipelines=known))
        try:
            if self.tracing is None:
                return answer(event, context)
            with self.tracing.invocation(event, context, cold_start=cold_start) as span:
                if (span_context := span.get_span_context()).is_valid:
                    update_invocation(xray_trace_id=xray_trace_id(span_context.trace_id))
                return answer(self.tracing.propagated(event), context)
        finally:
            self.metrics.flush()  # every invocation, error paths included
            if not self.export_after_response:
                self.after_response()

    def after_response(self) -> None:
        """Send the invocation's spans, then drop its log fields. Called by `__call__`, or, under our Runtime
        API loop (`export_after_response`), once the answer is posted: the caller does not wait for the
        export (an HTTPS round trip to X-Ray), and nothing is lost, since Lambda freezes the environment
        only when the loop asks for the next event."""
        if self.tracing is not None:
            self.tracing.flush()
        clear_invocation()

    def _answer(self, event: Any, context: Any) -> dict[str, Any]:
        kind = classify(event)
        if kind == "http":
            if refusal := malformed_event_result(event, context):
                return refusal
            asyncio.set_event_loop(self.loop)
            try:
                return self.adapter(event, context)
            except Exception as exc:  # Mangum could not build a request from the event
                return unreadable_event_result(event, context, exc)
        if kind == "keep_warm":
            logger.debug("Keep-warm ping answered without running a pipeline")
            return {"warm": True, "pipelines": len(self.registry.loaded)}
        if kind == "eventbridge":
            logger.info("EventBridge event (%s) answered without running a pipeline", describe(event))
            return {"handled": False, "detail": "EventBridge events run no pipeline: call the HTTP API"}
        logger.error("%s (got %s)", UNSUPPORTED, describe(event))
        return {"error": UNSUPPORTED}


def malformed_event_result(event: Any, context: Any) -> dict[str, Any] | None:
    """The 400 for an HTTP event that lacks what a request needs; None when it has it. Both ways in (this
    handler and the streaming loop) check an event with it before the app sees it."""
    if problem := malformed(event):
        logger.warning("Malformed HTTP event (%s): %s", describe(event), problem)
        return error_result(400, f"Malformed HTTP event: {problem}", getattr(context, "aws_request_id", ""))
    return None


def unreadable_event_result(event: Any, context: Any, exc: Exception) -> dict[str, Any]:
    """The 400 for an HTTP event Mangum could not turn into a request (call it inside the `except`)."""
    logger.exception("Could not handle the HTTP event (%s)", describe(event))
    detail = f"Malformed HTTP event: {type(exc).__name__}: {exc}"
    return error_result(400, detail, getattr(context, "aws_request_id", ""))


def error_result(status: int, detail: str, request_id: str) -> dict[str, Any]:
    """An HTTP error answered without the app (the event could not become a request), as a Lambda result."""
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", "x-request-id": request_id},
        "body": error_body(detail),
        "isBase64Encoded": False,
    }
