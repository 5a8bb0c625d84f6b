"""`X-Request-Id` on every answer (core/request_id.py): the Lambda request id, or a fresh one."""

import asyncio
import uuid

from core.request_id import HEADER, RequestIdMiddleware
from infra.lambda_events import Context


def test_every_response_carries_the_lambda_request_id(build, invoke):
    context = Context()
    for event in (
        build("GET", "/status"),
        build("POST", "/failing/run", body={"divisor": 0}),
        build("POST", "/echo/run", body={}),
    ):
        assert invoke(event, context=context).headers["x-request-id"] == context.aws_request_id


def _header(scope) -> bytes | None:
    sent = []

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b""})

    async def send(message):
        sent.append(message)

    asyncio.run(RequestIdMiddleware(app)(scope, None, send))
    return dict(sent[0]["headers"]).get(HEADER.encode()) if sent else None


def test_off_lambda_each_request_gets_a_fresh_uuid():
    first, second = _header({"type": "http"}), _header({"type": "http"})
    assert first != second
    assert str(uuid.UUID(first.decode())) == first.decode()


def test_on_lambda_it_is_the_invocations_request_id():
    context = Context()
    assert _header({"type": "http", "aws.context": context}) == context.aws_request_id.encode()
