"""Refuse request bodies over a size limit with a JSON 413, before anything reads them.

Lambda accepts at most 6 MB per synchronous invocation, and API Gateway base64-encodes binary bodies (a
third larger) inside that event, so a bigger body would fail outside the function with an error the client
cannot act on. `HAYHOOKS_MAX_REQUEST_BYTES` (6 MiB by default) makes the limit explicit and the same under
`make run`.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            if length.isdigit() and int(length) > self.max_bytes:
                await self._refuse(int(length), send)
                return
            await self.app(scope, receive, send)
            return
        # no Content-Length (chunked): read up to the limit, then replay what was read
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(size, send, at_least=True)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, size: int, send: Send, *, at_least: bool = False) -> None:
        detail = (
            f"Request body too large: {'more than ' if at_least else ''}{size} bytes; the limit is "
            f"{self.max_bytes} bytes (HAYHOOKS_MAX_REQUEST_BYTES; Lambda accepts 6 MB per request, and "
            "API Gateway sends binary bodies base64-encoded, a third larger)"
        )
        body = json.dumps({"detail": detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
