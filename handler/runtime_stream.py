"""Streamed answers to Function URL events, in Lambda's HTTP-integration streaming format.

`POST /runtime/invocation/{id}/response` with `Lambda-Runtime-Function-Response-Mode: streaming`, chunked:
a JSON prelude (`statusCode`, `headers`, `cookies`), eight NUL bytes, then the body as the app sends it.
The app is driven directly (Mangum builds only the request scope: it would buffer the answer), under the
same layers as `lambda_handler`: its bookkeeping (log fields, traces, metrics) and RootPathMiddleware.
The scope carries `haystack_lambda.streaming`, which tells the app not to drain generators
(core/lambda_response.py, core/routes/run.py, core/openai).

Once bytes are out, a failure cannot change the status: the stream ends with an SSE error event (for
`text/event-stream`) and the `Lambda-Runtime-Function-Error-Type` / `-Error-Body` trailers, never with an
`/error` post. A watchdog thread sends SSE keep-alive comments while the app is quiet (API Gateway and
proxies drop idle connections) and ends the stream that way before the function's timeout would cut it.

Only Function URL events stream: Lambda does not tell the runtime how it was invoked, and a buffered
caller (HTTP API, REST API, ALB, `Invoke`) would get the prelude and NUL bytes as its payload. The
template's Function URL is `InvokeMode: RESPONSE_STREAM` whenever the wrapper is set.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import threading
import time
from typing import Any

from core.invocation import DeadlineExpired
from core.redact import redact
from core.request_context import STREAM_FAILURE, STREAMED
from handler.entry import LambdaHandler, error_result, malformed_event_result, unreadable_event_result

logger = logging.getLogger("handler.stream")

NUL_SEPARATOR = b"\0" * 8
CONTENT_TYPE = "application/vnd.awslambda.http-integration-response"
ERROR_TYPE = "Lambda-Runtime-Function-Error-Type"
ERROR_BODY = "Lambda-Runtime-Function-Error-Body"
KEEPALIVE = b": keep-alive\n\n"
_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive"}


def is_function_url(event: Any) -> bool:
    context = event.get("requestContext") if isinstance(event, dict) else None
    return isinstance(context, dict) and "http" in context and ".lambda-url." in str(context.get("domainName", ""))


class StreamClosed(OSError):
    """The stream was already ended (the deadline, or the Runtime API went away): stop producing."""


class StreamedResponse:
    """One invocation's streamed answer. Sends are serialised by a lock: the watchdog writes too."""

    def __init__(self, api: Any, context: Any, *, keepalive_s: float, margin_ms: int) -> None:
        self.api = api
        self.request_id = context.aws_request_id
        deadline_ms = getattr(context, "deadline_ms", 0)
        self.cut_at = (deadline_ms - margin_ms) / 1000 if deadline_ms else None  # epoch seconds
        self.keepalive_s = keepalive_s
        self.started = False
        self.finished = False
        self.sse = False
        self._at_boundary = True  # SSE: the last bytes ended an event, a comment may go in
        self._last_write = time.monotonic()
        self._lock = threading.Lock()
        self._done = threading.Event()

    def start(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        prelude = _prelude(status, headers)
        self.sse = prelude["headers"].get("content-type", "").startswith("text/event-stream")
        headers = {
            "Lambda-Runtime-Function-Response-Mode": "streaming",
            "Transfer-Encoding": "chunked",
            "Content-Type": CONTENT_TYPE,
            "Trailer": f"{ERROR_TYPE}, {ERROR_BODY}",
        }
        with self._lock:
            self.api.send_head("POST", f"/2018-06-01/runtime/invocation/{self.request_id}/response", headers)
            self.started = True
            self._chunk(json.dumps(prelude).encode() + NUL_SEPARATOR)
        if self.cut_at is not None or self.sse:
            threading.Thread(target=self._watch, name="stream-watchdog", daemon=True).start()

    def write(self, data: bytes) -> None:
        with self._lock:
            if self.finished:
                raise StreamClosed("the response stream has ended")
            self._chunk(data)
            if data:
                self._at_boundary = data.endswith(b"\n\n")

    def finish(self, trailers: dict[str, str] | None = None) -> None:
        with self._lock:
            self._finish(trailers)

    def fail(self, error_type: str, message: str) -> None:
        """End the stream as failed: an SSE error event the client can read, then the error trailers."""
        with self._lock:
            if self.finished:
                return
            if self.sse:
                error = {"message": message, "type": "server_error", "param": None, "code": None}
                if not self._at_boundary:
                    self._chunk(b"\n\n")  # end the event the app left open
                self._chunk(b"event: error\ndata: " + json.dumps({"error": error}).encode() + b"\n\n")
            self._finish(_error_trailers(error_type, message))

    def whole(self, response: dict[str, Any]) -> None:
        """A buffered answer (a dict as `lambda_handler` returns it) sent in the streaming format."""
        headers = [(k.encode(), str(v).encode()) for k, v in (response.get("headers") or {}).items()]
        headers += [(b"set-cookie", c.encode()) for c in response.get("cookies") or []]
        body = response.get("body") or ""
        data = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
        self.start(int(response.get("statusCode", 200)), headers)
        self.write(data)
        self.finish()

    def _chunk(self, data: bytes) -> None:
        if not data:
            return  # a zero-length chunk would end the body
        self.api.send(b"%x\r\n%b\r\n" % (len(data), data))
        self._last_write = time.monotonic()

    def _finish(self, trailers: dict[str, str] | None) -> None:
        if self.finished:
            return
        self.finished = True
        self._done.set()
        if not self.started:
            return
        lines = "".join(f"{name}: {value}\r\n" for name, value in (trailers or {}).items())
        try:
            self.api.send(b"0\r\n" + lines.encode() + b"\r\n")
            status, _, answer = self.api.read_response()
        except OSError:
            logger.exception("The Runtime API went away while the response was streamed")
            self.api.close()
            return
        if status != 202:
            logger.error("The Runtime API refused the streamed response: %s %r", status, answer[:300])

    def _watch(self) -> None:
        """Keep-alive comments while the app is quiet, and the end of the stream before the timeout."""
        while not self._done.is_set():
            waits = []
            if self.cut_at is not None:
                left = self.cut_at - time.time()
                if left <= 0:
                    logger.error("The invocation is about to time out: the stream ends before the answer does")
                    self.fail("TimeoutError", "The answer did not complete within the function's timeout")
                    return
                waits.append(left)
            if self.sse:
                idle = time.monotonic() - self._last_write
                if idle >= self.keepalive_s:
                    with self._lock:
                        if not self.finished and self._at_boundary:
                            self._chunk(KEEPALIVE)
                    idle = 0
                waits.append(self.keepalive_s - idle)
            self._done.wait(max(min(waits), 0.01))


def _error_trailers(error_type: str, message: str) -> dict[str, str]:
    """Lambda's trailers for a stream that failed after its status went out: Lambda counts a function error."""
    body = {"errorMessage": message, "errorType": error_type, "stackTrace": []}
    return {ERROR_TYPE: error_type, ERROR_BODY: base64.b64encode(json.dumps(body).encode()).decode()}


def _failure_trailers(failure: BaseException | None) -> dict[str, str] | None:
    """The trailers for a failure the app itself ended the body on (an SSE error event), if there was one."""
    if failure is None:
        return None
    if isinstance(failure, DeadlineExpired):  # the invocation's time ran out: one error type, whichever layer saw it
        return _error_trailers("TimeoutError", redact(str(failure)))
    cause = failure.__cause__ or failure  # the wrapper's own exception, not the invoker's PipelineFailed around it
    return _error_trailers(type(cause).__name__, f"Pipeline execution failed: {redact(str(cause))}")


def _prelude(status: int, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    values: dict[str, str] = {}
    cookies: list[str] = []
    for raw_name, raw_value in headers:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        if name == "set-cookie":
            cookies.append(value)
        elif name not in _HOP_BY_HOP:
            values[name] = f"{values[name]},{value}" if name in values else value
    return {"statusCode": status, "headers": values, "cookies": cookies}


class Invocations:
    """Answers each invocation: Function URL events streamed, anything else through `lambda_handler`."""

    def __init__(self, api: Any, handler: LambdaHandler) -> None:
        self.api = api
        self.handler = handler
        self.keepalive_s = float(os.environ.get("HAYHOOKS_STREAM_KEEPALIVE_SECONDS", "15"))
        self.margin_ms = handler.settings.timeout_margin_ms

    def __call__(self, event: Any, context: Any) -> dict[str, Any] | None:
        """The buffered answer to post, or None when the answer was streamed."""
        if not is_function_url(event):
            return self.handler(event, context)
        stream = StreamedResponse(self.api, context, keepalive_s=self.keepalive_s, margin_ms=self.margin_ms)
        try:
            self.handler(event, context, answer=lambda e, c: self._stream(stream, e, c))
        except Exception as exc:  # the handler's own bookkeeping failed (a trace export, a metric)
            if not stream.started:
                raise  # nothing sent yet: an /error post, as lambda_handler's failure would be
            logger.exception("Failed after the response started")
            stream.fail(type(exc).__name__, redact(str(exc)))
        stream.finish()
        return None

    def _stream(self, stream: StreamedResponse, event: dict[str, Any], context: Any) -> None:
        handler = self.handler
        request_id = getattr(context, "aws_request_id", "")
        if refusal := malformed_event_result(event, context):
            stream.whole(refusal)
            return
        try:
            request = handler.adapter.infer(event, context)
            scope, body = request.scope, request.body
        except Exception as exc:  # Mangum could not build a request from the event
            stream.whole(unreadable_event_result(event, context, exc))
            return
        scope[STREAMED] = True
        asyncio.set_event_loop(handler.loop)
        handler.loop.run_until_complete(_run_app(handler.adapter.app, scope, body, stream, request_id))


async def _run_app(app: Any, scope: dict[str, Any], body: bytes, stream: StreamedResponse, request_id: str) -> None:
    answered = asyncio.Event()
    request_sent = False

    async def receive() -> dict[str, Any]:
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await answered.wait()  # the client is there until the answer is complete
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            stream.start(message["status"], message.get("headers", []))
        elif message["type"] == "http.response.body":
            stream.write(message.get("body", b""))
            if not message.get("more_body", False):
                stream.finish(_failure_trailers(scope.get(STREAM_FAILURE)))
                answered.set()

    try:
        await app(scope, receive, send)
    except (Exception, SystemExit) as exc:  # sys.exit() in a wrapper must not end the environment
        if not stream.started:
            logger.exception("The app failed before answering")
            stream.whole(error_result(500, "Internal Server Error", request_id))
        elif stream.finished:  # the deadline ended it, or the app's own 500 went out before it re-raised
            logger.warning("The app failed after its answer had ended: %s", type(exc).__name__, exc_info=exc)
        else:
            logger.exception("The app failed after its answer started")
            stream.fail(type(exc).__name__, f"Pipeline execution failed: {redact(str(exc))}")
    finally:
        answered.set()
