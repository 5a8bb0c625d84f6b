"""An httpx transport that sends each request to the Lambda handler as an API Gateway HTTP API event.

Any httpx-based client (the `openai` SDK among them) then talks to `handler.lambda_handler` exactly as it
would through a deployed HTTP API: bodies base64-encoded when binary, headers lower-cased, the response
decoded from the proxy result.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx

from infra.lambda_events import Context, http_v2, parse


class LambdaTransport(httpx.BaseTransport):
    def __init__(self, handler: Any) -> None:
        self.handler = handler

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        headers = {k.lower(): v for k, v in request.headers.items() if k.lower() != "host"}
        event = http_v2(request.method, request.url.path, headers=headers, query=request.url.query.decode())
        if body:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
        reply = parse(self.handler(event, Context()))
        return httpx.Response(reply.status, headers=reply.headers, content=reply.body, request=request)
