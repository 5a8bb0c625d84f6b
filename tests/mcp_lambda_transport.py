"""An httpx2 transport (the MCP SDK's HTTP client) that sends each request to the Lambda handler as an API
Gateway HTTP API event, as tests/lambda_transport.py does for httpx clients.

The handler runs its own event loop, as on Lambda, so each invocation runs in a worker thread while the
client's loop waits; one invocation at a time, as one execution environment answers them.
"""

from __future__ import annotations

import base64
import threading
from typing import Any

import anyio.to_thread
import httpx2

from infra.lambda_events import Context, http_v2, parse


class AsyncLambdaTransport(httpx2.AsyncBaseTransport):
    def __init__(self, handler: Any) -> None:
        self.handler = handler
        self.invocations = 0
        self._one_at_a_time = threading.Lock()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        headers = {k.lower(): v for k, v in request.headers.items() if k.lower() != "host"}
        event = http_v2(request.method, request.url.path, headers=headers, query=request.url.query.decode())
        if body:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
        reply = parse(await anyio.to_thread.run_sync(self._invoke, event))
        return httpx2.Response(reply.status, headers=reply.headers, content=reply.body, request=request)

    def _invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        with self._one_at_a_time:
            self.invocations += 1
            return self.handler(event, Context())
