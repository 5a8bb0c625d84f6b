"""One log line per request, and the same record for whoever observes requests (metrics on Lambda).

Fields: method, path, pipeline (set by the run and OpenAI routes), status, duration_ms, request_id (the
Lambda request id when Mangum passes the context), correlation_id (API Gateway's request id) and
cold_start (true for the first request this process serves).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.request_context import is_init_warm_up, lambda_request_id, pipeline_of

logger = logging.getLogger("core.access")


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    pipeline: str | None
    status: int
    duration_ms: float
    request_id: str | None
    correlation_id: str | None
    cold_start: bool

    def as_log(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


Observer = Callable[[RequestRecord], None]


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, observers: list[Observer]) -> None:
        self.app = app
        self.observers = observers
        self.served = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_init_warm_up(scope):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            self.served += 1
            event = scope.get("aws.event") or {}
            context = event.get("requestContext") if isinstance(event, dict) else None
            record = RequestRecord(
                method=scope["method"],
                path=scope["path"],
                pipeline=pipeline_of(scope),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
                request_id=lambda_request_id(scope),
                correlation_id=context.get("requestId") if isinstance(context, dict) else None,
                cold_start=self.served == 1,
            )
            logger.info("%s %s %s", record.method, record.path, record.status, extra=record.as_log())
            for observe in self.observers:
                observe(record)
