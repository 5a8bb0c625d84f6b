"""Request limits checked before anything parses the request: body size, headers, JSON nesting.

Authentication runs first (core/app.py): an unauthenticated request is answered before its body is read.

* Body over `HAYHOOKS_MAX_REQUEST_BYTES` (6 MiB): 413. Lambda accepts 6 MB per synchronous invocation and
  API Gateway sends binary bodies base64-encoded (a third larger) inside that event; a bigger body would
  fail outside the function with an error the client cannot act on.
* Headers over `HAYHOOKS_MAX_HEADER_BYTES` (16 KiB) or 100 of them: 431. FastAPI has no limit of its own.
* A JSON body that is not UTF-8 (or UTF-16/32) text: 422 `json_invalid`, as for malformed JSON, instead of
  FastAPI's bare 400 "There was an error parsing the body".
* A JSON body with NaN or Infinity (which Python's parser accepts and JSON has not), or a number too large
  for a float (`1e999`, which Python reads as infinity): 422 `json_invalid`; accepted, they made the answer
  unrenderable (a 500).
* Two `Content-Type` (or `Content-Length`) headers: 400. These checks and FastAPI would read different ones.
* The size is the bytes that arrive, whatever `content-length` says.
* A JSON body nested deeper than `HAYHOOKS_MAX_JSON_DEPTH` (64): 422. Python's parser and pydantic
  recurse per level; a few thousand levels end in a RecursionError (a 500) instead of a clear answer.

The JSON check costs two C-speed byte counts for ordinary bodies: only a body with more brackets than
the limit is scanned.
"""

from __future__ import annotations

import json
import math
import re

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.error_reply import error_response

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
        header_bytes = 0
        content_types: list[bytes] = []
        lengths: list[bytes] = []
        for name, value in headers:
            header_bytes += len(name) + len(value)
            if name == b"content-type":
                content_types.append(value)
            elif name == b"content-length":
                lengths.append(value)
        if len(headers) > MAX_HEADERS or header_bytes > self.max_header_bytes:
            await error_response(
                431,
                f"Request headers too large: {len(headers)} headers, {header_bytes} bytes; the "
                f"limits are {MAX_HEADERS} headers and {self.max_header_bytes} bytes "
                "(HAYHOOKS_MAX_HEADER_BYTES)",
            )(scope, receive, send)
            return
        # two of either (separate, or joined with a comma as REST APIs join multi-value headers): the checks
        # below and FastAPI would each read a different one
        types = len(content_types) + (content_types[0].count(b",") if content_types else 0)
        if types > 1 or len(lengths) > 1:
            name, count = ("Content-Type", types) if types > 1 else ("Content-Length", len(lengths))
            await error_response(400, f"Request has {count} {name} headers; send one")(scope, receive, send)
            return
        if lengths and lengths[0].isdigit() and int(lengths[0]) > self.max_body:
            await self._too_large(int(lengths[0]))(scope, receive, send)  # declared too large: refused unread
            return
        is_json = bool(content_types) and b"json" in content_types[0].lower()
        # read the body (at most the limit), counting the bytes that really arrive, whatever content-length
        # says; check it, then replay it to the app
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.max_body:  # "more than" only while part of the body is still unread
                await self._too_large(size, at_least=bool(message.get("more_body", False)))(scope, receive, send)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        if is_json and size:
            body = messages[0]["body"] if len(messages) == 1 else b"".join(m.get("body", b"") for m in messages)
            if body.count(b"[") + body.count(b"{") > self.max_json_depth and json_depth(body) > self.max_json_depth:
                detail = f"JSON body nested deeper than {self.max_json_depth} levels (HAYHOOKS_MAX_JSON_DEPTH)"
                await error_response(422, detail)(scope, receive, send)
                return
            if problem := _undecodable(body) or _non_standard_number(body) or _lone_surrogate(body):
                await error_response(422, [problem])(scope, receive, send)
                return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    def _too_large(self, size: int, *, at_least: bool = False) -> JSONResponse:
        return error_response(
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


# a number whose exponent has three digits or more: the only ones that can overflow a float
_BIG_EXPONENT = re.compile(rb"[0-9][eE][+-]?[0-9]{3}")


def _non_standard_number(body: bytes) -> dict | None:
    """FastAPI's json_invalid error for NaN, Infinity, -Infinity or a number too large for a float (`1e999`)
    in a JSON body, else None.

    Python's parser accepts NaN and Infinity though JSON has no such numbers, and turns `1e999` into
    infinity; pydantic then passes them on, and the answer (a 422 quoting the input, or a result carrying
    the value) cannot be rendered as JSON: a 500. Only bodies holding one of the words, or a number with a
    three-digit exponent, are parsed here.
    """
    if b"NaN" not in body and b"Infinity" not in body and not _BIG_EXPONENT.search(body):
        return None
    try:
        json.loads(body, parse_constant=_refuse_constant, parse_float=_finite)
    except _Constant as exc:
        name = str(exc)
        position = _STRINGS.sub(lambda m: b" " * len(m.group()), body).find(name.encode())
        return {
            "type": "json_invalid",
            "loc": ["body", position],
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": f"{name} is not a JSON number" if name in _CONSTANTS else f"{name} is too large"},
        }
    except ValueError:
        return None  # not JSON at all: FastAPI says where
    return None


_CONSTANTS = ("NaN", "Infinity", "-Infinity")
# a backslash escape, so that escaped backslashes pair up (`\\ud800` is text, not an escape)
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|.)", re.S)


def _lone_surrogate(body: bytes) -> dict | None:
    """FastAPI's json_invalid error for a `\\uD800`–`\\uDFFF` escape without its other half, else None.

    JSON writes a character beyond U+FFFF as a pair of such escapes; one alone is no Unicode character, yet
    Python's parser returns it in the string, and an answer quoting it cannot be encoded as UTF-8: a 500
    (from a plain FastAPI app too). Only bodies holding a `\\u` escape are scanned.
    """
    encoding = json.detect_encoding(body)
    if encoding.startswith("utf-8") and b"\\u" not in body:
        return None
    text = body.decode(encoding)
    pending: tuple[int, int, int] | None = None  # a high half: (code, where, where it ends)
    for match in _ESCAPE.finditer(text):
        code = int(match.group(1), 16) if match.group(1) else None
        if pending is not None:
            if match.start() == pending[2] and code is not None and 0xDC00 <= code <= 0xDFFF:
                pending = None
                continue
            return _surrogate_problem(*pending[:2])
        if code is not None and 0xD800 <= code <= 0xDBFF:
            pending = (code, match.start(), match.end())
        elif code is not None and 0xDC00 <= code <= 0xDFFF:
            return _surrogate_problem(code, match.start())
    return _surrogate_problem(*pending[:2]) if pending is not None else None


def _surrogate_problem(code: int, position: int) -> dict:
    half = "high" if code < 0xDC00 else "low"
    return {
        "type": "json_invalid",
        "loc": ["body", position],
        "msg": "JSON decode error",
        "input": {},
        "ctx": {"error": f"\\u{code:04x} is the {half} half of a surrogate pair without the other: no character"},
    }


def _finite(text: str) -> float:
    value = float(text)
    if value in (math.inf, -math.inf):
        raise _Constant(text)
    return value
