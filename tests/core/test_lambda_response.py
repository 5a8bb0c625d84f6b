"""The Lambda response guard (core/lambda_response.py) as a plain ASGI middleware: answers Lambda could not
deliver (over the payload limit as Lambda encodes them, or a header Mangum cannot read) become a JSON 500."""

import asyncio
import json

import pytest

from core.lambda_response import LambdaResponseMiddleware
from core.request_context import STREAMED


def _app(body_parts: list[bytes], headers: list[tuple[bytes, bytes]]):
    async def app(scope, receive, send):
        scope.setdefault("state", {})["pipeline"] = "echo"
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for index, part in enumerate(body_parts):
            await send({"type": "http.response.body", "body": part, "more_body": index < len(body_parts) - 1})

    return app


def _serve(middleware, **scope) -> tuple[int, dict[bytes, bytes], bytes]:
    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    asyncio.run(middleware({"type": "http", "method": "POST", "path": "/echo/run", **scope}, receive, send))
    start, *bodies = sent
    return start["status"], dict(start["headers"]), b"".join(m.get("body", b"") for m in bodies)


def test_an_ordinary_answer_passes_whole_and_unchanged():
    guard = LambdaResponseMiddleware(_app([b'{"result": ', b'"x"}'], [(b"content-type", b"application/json")]))
    assert _serve(guard) == (200, {b"content-type": b"application/json"}, b'{"result": "x"}')


@pytest.mark.parametrize(
    ("content_type", "refused"),
    [
        (b"text/plain", True),  # sent as JSON text: each control character escaped to six bytes
        (b"application/octet-stream", False),  # sent base64-encoded: a third larger, under the limit
    ],
)
def test_the_size_is_counted_as_lambda_encodes_the_body(content_type, refused):
    body = b"\x01" * 400
    guard = LambdaResponseMiddleware(_app([body], [(b"content-type", content_type)]), limit=1000)
    status, headers, sent = _serve(guard)
    if not refused:
        assert (status, sent) == (200, body)
        return
    assert status == 500 and headers[b"content-type"] == b"application/json"
    detail = json.loads(sent)["detail"]
    assert detail.startswith("Pipeline 'echo' answered, but the response is ")
    assert "over the 1000-byte limit of a synchronous invocation" in detail


def test_a_header_that_is_not_utf8_is_a_500_naming_it():
    guard = LambdaResponseMiddleware(_app([b"ok"], [(b"x-name", "é".encode("latin-1"))]))
    status, _, sent = _serve(guard)
    assert status == 500
    assert "the response header 'x-name' is not UTF-8 text" in json.loads(sent)["detail"]


def test_a_streamed_answer_is_not_held_or_measured():
    body = b"x" * 5000
    guard = LambdaResponseMiddleware(_app([body[:100], body[100:]], [(b"content-type", b"text/plain")]), limit=1000)
    assert _serve(guard, **{STREAMED: True})[::2] == (200, body)
