"""Every response carries the id of the request that produced it (`X-Request-Id`).

On Lambda it is the invocation's `aws_request_id` (Mangum puts the context in the ASGI scope), so a
client's error report leads straight to the CloudWatch log lines. Elsewhere a fresh UUID is used.
A plain ASGI middleware: it costs one header append per response.
"""

from __future__ import annotations

import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.request_context import lambda_request_id

HEADER = "x-request-id"


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = lambda_request_id(scope) or str(uuid.uuid4())
        header = (HEADER.encode(), request_id.encode("latin-1", "replace"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        await self.app(scope, receive, send_with_id)
