"""The one shape of the service's own error replies (core/error_reply.py): as an ASGI response and as text."""

import asyncio
import json

from core.error_reply import error_body, error_response


def test_the_asgi_reply_and_the_text_body_say_the_same():
    sent = []

    async def send(message):
        sent.append(message)

    reply = error_response(401, "Unauthorized: no API key", headers={"www-authenticate": "Bearer"})
    asyncio.run(reply({"type": "http", "method": "GET", "path": "/"}, None, send))
    start, body = sent
    assert start["status"] == 401
    assert (b"www-authenticate", b"Bearer") in start["headers"]
    assert (b"content-type", b"application/json") in start["headers"]
    assert json.loads(body["body"]) == json.loads(error_body("Unauthorized: no API key"))


def test_the_text_body_keeps_unicode_and_structured_details():
    assert error_body("Pipeline 'é' not found") == '{"detail":"Pipeline \'é\' not found"}'
    assert json.loads(error_body([{"loc": ["body"], "msg": "x"}])) == {"detail": [{"loc": ["body"], "msg": "x"}]}
