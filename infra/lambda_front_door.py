"""A local Lambda API endpoint for durable functions: `Invoke` as Lambda answers it, the durable APIs from
dex-local-runner.

dex-local-runner (aws-durable-execution-sdk-python-testing) serves the durable execution APIs
(`GetDurableExecution`, history, stop, callbacks, checkpoints) but starts executions only through its own
`POST /start-durable-execution`; and it runs each invocation of a durable function by calling `Invoke` on a
Lambda endpoint, marking those calls with `X-Dex-Handler-Invoke: true`. The Runtime Interface Emulator answers
`Invoke` for one function named `function` only. This server stands between them, so that a botocore client
pointed here (`AWS_ENDPOINT_URL_LAMBDA`) sees one Lambda:

- a caller's `Invoke(DurableExecutionName=…, InvocationType=Event)` starts an execution in the runner and
  answers 202 with `X-Amz-Durable-Execution-Arn`, as Lambda does for a durable function;
- the runner's marked `Invoke` runs the handler once in an emulator of that function (one invocation per
  emulator at a time, as a Lambda execution environment);
- everything else is the runner's (the function name in `ListDurableExecutionsByFunction` reduced to the
  bare name, as the runner keys executions by it).
"""

from __future__ import annotations

import json
import queue
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

import httpx

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")
LIST_BY_FUNCTION_PATH = re.compile(r"^/2025-12-01/functions/([^/]+)/durable-executions$")
HANDLER_INVOKE_HEADER = "X-Dex-Handler-Invoke"  # the runner's mark on the invocations it sends
RIE_INVOKE_PATH = "/2015-03-31/functions/function/invocations"
ACCOUNT_ID = "123456789012"


def function_name(identifier: str) -> str:
    """The bare name of `name`, `name:qualifier` or a function ARN (Lambda accepts each as FunctionName)."""
    if identifier.startswith("arn:"):
        return identifier.split(":")[6]
    return identifier.split(":", 1)[0]


def qualifier_of(identifier: str, query: str) -> str:
    """The version or alias an Invoke names: its `Qualifier`, else the identifier's suffix, else $LATEST."""
    given = parse_qs(query).get("Qualifier")
    if given:
        return given[0]
    parts = identifier.split(":")
    if identifier.startswith("arn:"):
        return parts[7] if len(parts) == 8 else "$LATEST"
    return parts[1] if len(parts) == 2 else "$LATEST"


class LambdaFrontDoor:
    """The server; `functions` maps a function name to its emulators' base URLs (`http://host:port`)."""

    def __init__(
        self,
        runner_url: str,
        functions: dict[str, list[str]],
        *,
        execution_timeout_s: int = 3600,
        invocation_timeout_s: float = 900,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.runner_url = runner_url.rstrip("/")
        self.execution_timeout_s = execution_timeout_s
        self.invocation_timeout_s = invocation_timeout_s
        self.idle: dict[str, queue.Queue[str]] = {}
        for name, endpoints in functions.items():
            self.idle[name] = queue.Queue()
            for endpoint in endpoints:
                self.idle[name].put(endpoint.rstrip("/"))
        self.started: list[str] = []  # the names of the executions a caller's Invoke started
        self.invocations: list[tuple[str, float]] = []  # (function, seconds) of every handler invocation
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LambdaFrontDoor:
        self._thread = threading.Thread(target=self._server.serve_forever, name="lambda-front-door", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() waits for serve_forever(), which must have started
            self._server.shutdown()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> LambdaFrontDoor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what each request becomes --

    def start_execution(self, name: str, qualifier: str, headers: dict[str, str], payload: bytes) -> _Answer:
        if headers.get("x-amz-invocation-type", "RequestResponse") != "Event":
            # a synchronous Invoke would wait for the whole run: nothing here needs it
            return _error(400, "InvalidParameterValueException", "only InvocationType=Event starts a durable run here")
        start = {
            "AccountId": ACCOUNT_ID,
            "FunctionName": name,
            "FunctionQualifier": qualifier,
            "ExecutionName": headers.get("x-amz-durable-execution-name") or uuid.uuid4().hex,
            "ExecutionTimeoutSeconds": self.execution_timeout_s,
            "ExecutionRetentionPeriodDays": 1,
            "Input": payload.decode() or "{}",
        }
        answer = httpx.post(f"{self.runner_url}/start-durable-execution", json=start, timeout=30)
        if answer.status_code >= 300:
            return _Answer(answer.status_code, _passed_headers(answer.headers), answer.content)
        arn = answer.json()["ExecutionArn"]
        self.started.append(start["ExecutionName"])
        return _Answer(202, {"X-Amz-Durable-Execution-Arn": arn, "X-Amz-Executed-Version": qualifier}, b"")

    def run_handler(self, name: str, payload: bytes) -> _Answer:
        idle = self.idle.get(name)
        if idle is None:
            return _error(404, "ResourceNotFoundException", f"Function not found: {name}")
        endpoint = idle.get()  # one invocation per emulator at a time: wait for a free one
        try:
            started = time.monotonic()
            answer = httpx.post(f"{endpoint}{RIE_INVOKE_PATH}", content=payload, timeout=self.invocation_timeout_s)
            self.invocations.append((name, time.monotonic() - started))
        finally:
            idle.put(endpoint)
        headers = {"Content-Type": "application/json", **_passed_headers(answer.headers)}
        return _Answer(200 if answer.status_code < 300 else answer.status_code, headers, answer.content)

    def forward(self, method: str, target: str, headers: dict[str, str], body: bytes) -> _Answer:
        parts = urlsplit(target)
        path = parts.path
        listed = LIST_BY_FUNCTION_PATH.match(path)
        if listed:
            path = f"/2025-12-01/functions/{quote(function_name(unquote(listed.group(1))), safe='')}/durable-executions"
        url = f"{self.runner_url}{path}" + (f"?{parts.query}" if parts.query else "")
        sent = {k: v for k, v in headers.items() if k in ("content-type",)}
        answer = httpx.request(method, url, content=body or None, headers=sent, timeout=60)
        return _Answer(answer.status_code, _passed_headers(answer.headers), answer.content)

    def route(self, method: str, target: str, headers: dict[str, str], body: bytes) -> _Answer:
        parts = urlsplit(target)
        invoke = INVOKE_PATH.match(parts.path)
        if method == "POST" and invoke:
            identifier = unquote(invoke.group(1))
            name = function_name(identifier)
            if headers.get(HANDLER_INVOKE_HEADER.lower()) == "true":
                return self.run_handler(name, body)
            return self.start_execution(name, qualifier_of(identifier, parts.query), headers, body)
        return self.forward(method, target, headers, body)


class _Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


def _error(status: int, kind: str, message: str) -> _Answer:
    body = json.dumps({"Type": "User", "message": message}).encode()
    return _Answer(status, {"Content-Type": "application/json", "X-Amzn-ErrorType": kind}, body)


def _passed_headers(headers: httpx.Headers) -> dict[str, str]:
    kept = ("content-type", "x-amzn-errortype", "x-amz-function-error", "x-amzn-requestid")
    return {k: v for k, v in headers.items() if k.lower() in kept}


def _handler_for(door: LambdaFrontDoor) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                answer = door.route(self.command, self.path, headers, body)
            except httpx.HTTPError as exc:
                answer = _error(502, "ServiceException", f"{type(exc).__name__}: {exc}")
            self.send_response(answer.status)
            for key, value in answer.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: object) -> None:  # quiet: the runner logs its own requests
            pass

    return Handler
