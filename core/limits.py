"""Request limits checked before anything parses the request: body size, headers, JSON nesting.

* Body over `HAYHOOKS_MAX_REQUEST_BYTES` (6 MiB): 413. Lambda accepts 6 MB per synchronous invocation and
  API Gateway sends binary bodies base64-encoded (a third larger) inside that event; a bigger body would
  fail outside the function with an error the client cannot act on.
* Headers over `HAYHOOKS_MAX_HEADER_BYTES` (16 KiB) or 100 of them: 431. FastAPI has no limit of its own.
* A JSON body that is not UTF-8 (or UTF-16/32) text: 422 `json_invalid`, as for malformed JSON, instead of
  FastAPI's bare 400 "There was an error parsing the body".
* A JSON body with NaN or Infinity (which Python's parser accepts and JSON has not): 422 `json_invalid`;
  accepted, they made the answer unrenderable (a 500).
* A JSON body nested deeper than `HAYHOOKS_MAX_JSON_DEPTH` (64): 422. Python's parser and pydantic
  recurse per level; a few thousand levels end in a RecursionError (a 500) instead of a clear answer.

The JSON check costs two C-speed byte counts for ordinary bodies: only a body with more brackets than
the limit is scanned.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_HEADERS = 100
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth(body: bytes) -> int:
    brackets = _STRINGS.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        if byte in (91, 123):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class RequestLimitsMiddleware:
    def __init__(self, app: ASGIApp, *, max_body: int, max_header_bytes: int, max_json_depth: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_header_bytes = max_header_bytes
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        header_bytes = sum(len(k) + len(v) for k, v in headers)
        if len(headers) > MAX_HEADERS or header_bytes > self.max_header_bytes:
            await _answer(
                send,
                431,
                f"Request headers too large: {len(headers)} headers, {header_bytes} bytes; the "
                f"limits are {MAX_HEADERS} headers and {self.max_header_bytes} bytes "
                "(HAYHOOKS_MAX_HEADER_BYTES)",
            )
            return
        fields = dict(headers)
        length = fields.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await self._too_large(int(length), send)
            return
        is_json = b"json" in fields.get(b"content-type", b"").lower()
        if length is not None and not is_json:
            await self.app(scope, receive, send)  # size known and fine, nothing to inspect
            return
        # read the body (it is small: at most the limit), check it, then replay it to the app
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.max_body:  # "more than" only while part of the body is still unread
                await self._too_large(size, send, at_least=bool(message.get("more_body", False)))
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        if is_json:
            body = b"".join(m.get("body", b"") for m in messages)
            if body.count(b"[") + body.count(b"{") > self.max_json_depth and json_depth(body) > self.max_json_depth:
                await _answer(
                    send, 422, f"JSON body nested deeper than {self.max_json_depth} levels (HAYHOOKS_MAX_JSON_DEPTH)"
                )
                return
            if problem := _undecodable(body) or _non_standard_number(body):
                await _send_json(send, 422, {"detail": [problem]})
                return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, size: int, send: Send, *, at_least: bool = False) -> None:
        await _answer(
            send,
            413,
            (
                f"Request body too large: {'more than ' if at_least else ''}{size} bytes; the limit is "
                f"{self.max_body} bytes (HAYHOOKS_MAX_REQUEST_BYTES; Lambda accepts 6 MB per request, and "
                "API Gateway sends binary bodies base64-encoded, a third larger)"
            ),
        )


# Room the Lambda event takes besides the body: the request's headers (twice in REST API events, as
# `headers` and `multiValueHeaders`) and about 2 KB of request context, rounded up.
_EVENT_CONTEXT_BYTES = 8 * 1024


def largest_binary_body(max_body: int, max_header_bytes: int) -> int:
    """The largest binary body (a multipart upload) whose event fits `max_body` once API Gateway or a
    Function URL has base64-encoded it (4 bytes for every 3) next to the headers. A larger one never
    reaches the function on Lambda: Lambda refuses the invocation with an error of its own."""
    room = max_body - 2 * max_header_bytes - _EVENT_CONTEXT_BYTES
    return max(room, 0) // 4 * 3


def _undecodable(body: bytes) -> dict | None:
    """FastAPI's json_invalid error for a JSON body that is not text in a JSON encoding, else None.

    FastAPI answers such a body with a bare 400 "There was an error parsing the body"; invalid JSON text
    gets a 422 that says where. Bytes that cannot be decoded get the same 422, with the offending offset.
    """
    encoding = json.detect_encoding(body)
    try:
        body.decode(encoding)
    except UnicodeDecodeError as exc:
        return {
            "type": "json_invalid",
            "loc": ["body", exc.start],
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": f"the body is not valid {encoding.upper()} text: {exc.reason} at byte {exc.start}"},
        }
    return None


class _Constant(Exception):
    pass


def _refuse_constant(name: str) -> None:
    raise _Constant(name)


def _non_standard_number(body: bytes) -> dict | None:
    """FastAPI's json_invalid error for NaN, Infinity or -Infinity in a JSON body, else None.

    Python's parser accepts them though JSON has no such numbers; pydantic then passes them on, and the
    answer (a 422 quoting the input, or a result carrying the value) cannot be rendered as JSON: a 500.
    Only bodies holding one of the words are parsed here.
    """
    if b"NaN" not in body and b"Infinity" not in body:
        return None
    try:
        json.loads(body, parse_constant=_refuse_constant)
    except _Constant as exc:
        name = str(exc)
        position = _STRINGS.sub(lambda m: b" " * len(m.group()), body).find(name.encode())
        return {
            "type": "json_invalid",
            "loc": ["body", position],
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": f"{name} is not a JSON number"},
        }
    except ValueError:
        return None  # not JSON at all: FastAPI says where
    return None


async def _answer(send: Send, status: int, detail: str) -> None:
    await _send_json(send, status, {"detail": detail})


async def _send_json(send: Send, status: int, payload: dict) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
