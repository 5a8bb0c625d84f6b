"""Answers Lambda can deliver: at most 6 MB, with headers Mangum can pass on (Lambda only).

A synchronous invocation returns at most 6,291,456 bytes of JSON: the body (escaped, or base64-encoded
for binary types, a third larger) and the headers. A bigger answer is replaced by Lambda with a bare
error (no JSON, no `X-Request-Id`) while the function's logs and metrics record a success. Mangum reads
response header values as UTF-8: a header Starlette encoded as Latin-1 (`é`) made the whole invocation
fail, and it was answered as a malformed *request*.

Both become a JSON 500 saying what to change, logged and counted as an error. Ordinary answers cost a
length comparison: only bodies over a megabyte are measured as Lambda will encode them.
"""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.request_context import STREAMED

logger = logging.getLogger("core.lambda_response")

LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024
_ESCAPE_FACTOR = 6  # JSON escaping (`\u00e9`) grows a body at most this much
# the content types Mangum sends as text (others are base64-encoded)
_TEXT_TYPES = (b"text/", b"application/json", b"application/javascript", b"application/xml", b"application/vnd")


class LambdaResponseMiddleware:
    def __init__(self, app: ASGIApp, limit: int = LAMBDA_RESPONSE_LIMIT) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get(STREAMED):
            await self.app(scope, receive, send)
            return
        held: list[Message] = []  # the start, then body parts: Mangum delivers the answer whole anyway

        async def checked_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                held.append(message)
                return
            if message["type"] != "http.response.body" or not held:
                await send(message)
                return
            held.append(message)
            if message.get("more_body", False):
                return
            start, parts = held[0], held[1:]
            held.clear()
            body = parts[0].get("body", b"") if len(parts) == 1 else b"".join(p.get("body", b"") for p in parts)
            if problem := self._problem(start["headers"], body):
                await _refuse(scope, send, problem)
                return
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, checked_send)

    def _problem(self, headers: list[tuple[bytes, bytes]], body: bytes) -> str | None:
        header_bytes = 0
        content_type = b""
        for name, value in headers:
            header_bytes += len(name) + len(value) + 8
            if not value.isascii():
                try:
                    value.decode()
                except UnicodeDecodeError:
                    return (
                        f"the response header {name.decode('latin-1')!r} is not UTF-8 text, which Lambda cannot "
                        "send: return ASCII header values (percent-encode others)"
                    )
            if name == b"content-type":
                content_type = value
        if (len(body) + header_bytes) * _ESCAPE_FACTOR < self.limit:
            return None
        size = _encoded_size(body, content_type) + header_bytes
        if size <= self.limit:
            return None
        return (
            f"the response is {size} bytes as Lambda sends it, over the {self.limit}-byte limit of a synchronous "
            "invocation: return less (paginate), or store the result (e.g. in S3) and return a link"
        )


def _encoded_size(body: bytes, content_type: bytes) -> int:
    if any(kind in content_type for kind in _TEXT_TYPES):
        try:
            return len(json.dumps(body.decode()))
        except UnicodeDecodeError:
            pass
    return (len(body) + 2) // 3 * 4


async def _refuse(scope: Scope, send: Send, problem: str) -> None:
    pipeline = (scope.get("state") or {}).get("pipeline")
    logger.error(
        "Response not sent for %s %s: %s", scope["method"], scope["path"], problem, extra={"pipeline": pipeline}
    )
    who = f"Pipeline '{pipeline}' answered, but " if pipeline else "The answer was ready, but "
    body = json.dumps({"detail": who + problem}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})
