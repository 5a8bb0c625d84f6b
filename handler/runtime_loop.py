"""Our own Lambda Runtime API loop, in place of the managed runtime's, so that responses can stream.

Started by `handler/runtime-loop` (the `AWS_LAMBDA_EXEC_WRAPPER`), which runs this file by path with
`python -P`: importing it as `handler.runtime_loop` would import the `handler` package first, and that
import *is* the cold start, which must happen inside the loop so that its failure is posted to
`/runtime/init/error` as the managed runtime does.

It does what awslambdaric's loop does, with the standard library only (HTTP/1.1 on a socket): the runtime's log
handler (when /var/runtime has it), init errors, `GET /invocation/next` and its headers (request id,
deadline, function ARN, trace id into `_X_AMZN_TRACE_ID`, client context, Cognito identity), a context
object, `/response` and `/error` posts, and SnapStart's before-snapshot and after-restore hooks. An
invocation's spans are exported after its answer is posted, before the next `GET /invocation/next`.
Function URL events are answered streamed (handler/runtime_stream.py); every other event through
`handler.lambda_handler` and a normal `/response`.

On Lambda Managed Instances (`AWS_LAMBDA_MAX_CONCURRENCY` set) it forks that many workers before the init,
each serving one invocation at a time, as the runtime's own loop does. Any handler other than
`handler.lambda_handler` is handed over to the runtime's own loop.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import traceback
from typing import Any

API = "/2018-06-01/runtime"
ERROR_TYPE = "Lambda-Runtime-Function-Error-Type"
OUR_HANDLER = "handler.lambda_handler"


class Headers(dict):
    """Response headers by lower-cased name; `get` takes any case."""

    def get(self, name: str, default: Any = None) -> Any:
        return dict.get(self, name.lower(), default)


class RuntimeAPI:
    """The Runtime API over one persistent keep-alive socket, HTTP/1.1 spoken directly (as awslambdaric's C
    client does): http.client's message parsing was most of the loop's own time per invocation. Lambda
    serves one request at a time on it; a streamed answer writes its body chunks straight to the socket."""

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self.address = (host.encode("ascii"), int(port))  # bytes: a str host would import the idna codec
        self.host = address.encode("ascii")
        self.sock: socket.socket | None = None
        self.reader: Any = None

    def _connect(self) -> None:
        self.sock = socket.create_connection(self.address)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # each chunk out as written
        self.reader = self.sock.makefile("rb")

    def close(self) -> None:
        if self.sock is not None:
            self.reader.close()
            self.sock.close()
        self.sock = self.reader = None

    def send_head(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> None:
        """A request's line and headers (and a whole body, in the same write)."""
        if self.sock is None:
            self._connect()
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.sock.sendall(
            b"%s %s HTTP/1.1\r\nHost: %s\r\n%s\r\n%s"
            % (method.encode(), path.encode(), self.host, lines.encode(), body)
        )

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_response(self) -> tuple[int, Headers, bytes]:
        reader = self.reader
        status_line = reader.readline()
        if not status_line:
            raise ConnectionError("the Runtime API closed the connection")
        status = int(status_line.split(None, 2)[1])
        headers = Headers()
        while (line := reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = reader.read(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = self._read_chunked()
        else:
            body = reader.read()  # the body ends with the connection
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def _read_chunked(self) -> bytes:
        parts = []
        while size := int(self.reader.readline().split(b";")[0], 16):
            parts.append(self.reader.read(size))
            self.reader.readline()
        while self.reader.readline() not in (b"\r\n", b"\n", b""):  # trailers
            pass
        return b"".join(parts)

    def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None):
        head = {"Content-Length": str(len(body))} if method == "POST" else {}
        head.update(headers or {})
        for attempt in (1, 2):
            try:
                self.send_head(method, path, head, body)
                return self.read_response()
            except OSError:
                self.close()  # a dropped keep-alive connection: once more on a new one
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def next(self) -> tuple[Headers, bytes]:
        status, headers, body = self.request("GET", f"{API}/invocation/next")
        if status != 200:
            raise RuntimeError(f"GET /invocation/next answered {status}: {body[:200]!r}")
        return headers, body

    def respond(self, request_id: str, payload: bytes, content_type: str = "application/json") -> None:
        status, _, body = self.request(
            "POST", f"{API}/invocation/{request_id}/response", payload, {"Content-Type": content_type}
        )
        if status != 202:  # e.g. 413 for a payload over 6 MB: logged, the loop goes on
            print(f"POST /response for {request_id} answered {status}: {body[:300]!r}", file=sys.stderr)

    def error(self, path: str, error: dict[str, Any], error_type: str | None = None) -> int:
        headers = {ERROR_TYPE: error_type or error["errorType"], "Content-Type": "application/json"}
        status, _, _ = self.request("POST", f"{API}/{path}", json.dumps(error).encode(), headers)
        return status


class LambdaContext:
    """The context object a handler gets (the attributes awslambdaric's has)."""

    def __init__(self, headers: Any) -> None:
        self.aws_request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn")
        self.tenant_id = headers.get("Lambda-Runtime-Aws-Tenant-Id")
        self.deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms") or 0)
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.client_context = _json_header(headers.get("Lambda-Runtime-Client-Context"), "Client Context")
        self.identity = _Identity(_json_header(headers.get("Lambda-Runtime-Cognito-Identity"), "Cognito Identity"))

    def get_remaining_time_in_millis(self) -> int:
        return max(self.deadline_ms - int(time.time() * 1000), 0)


class _Identity:
    def __init__(self, identity: dict[str, Any] | None) -> None:
        identity = identity if isinstance(identity, dict) else {}
        self.cognito_identity_id = identity.get("cognitoIdentityId")
        self.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId")


class _BadContext(ValueError):
    pass


def _json_header(value: str | None, name: str) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError as exc:
        raise _BadContext(f"Unable to parse {name} JSON: {exc}") from exc


def error_result(exc: BaseException, request_id: str = "") -> dict[str, Any]:
    """An exception as Lambda's error JSON (errorMessage, errorType, requestId, stackTrace)."""
    frames = traceback.format_list(traceback.extract_tb(exc.__traceback__))
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": frames,
    }


def _task_paths() -> None:
    """sys.path as Lambda's Python runtime sets it: the task root first, then layers, then the runtime's own
    directory last (snapshot_restore_py and awslambdaric live there)."""
    task = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    layers = [f"/opt/python/lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages", "/opt/python"]
    for path in reversed([task, *layers]):
        if path not in sys.path:
            sys.path.insert(0, path)
    runtime = os.environ.get("LAMBDA_RUNTIME_DIR")
    if runtime and runtime not in sys.path:
        sys.path.append(runtime)


def _runtime_logging() -> Any:
    """The managed runtime's log handler (one framed record per log line, level tags with JSON logs), when
    its awslambdaric is importable; core/logs.py keeps it and gives it the project's formatter."""
    if "_LAMBDA_TELEMETRY_LOG_FD" not in os.environ:
        return None  # not on Lambda (tests, emulators): core/logs.py writes to stdout
    try:
        from awslambdaric import bootstrap
    except ImportError:
        return None
    if hasattr(bootstrap, "init_logging"):
        bootstrap.init_logging()
    else:
        sink = bootstrap.create_log_sink()
        sink.__enter__()
        bootstrap._setup_logging(bootstrap._AWS_LAMBDA_LOG_FORMAT, bootstrap._AWS_LAMBDA_LOG_LEVEL, sink)
    return bootstrap


def _hand_over(argv: list[str], why: str) -> None:
    """Run the managed runtime's own bootstrap, with the arguments it gave the wrapper."""
    print(f"haystack-lambda: {why}: the runtime's own loop serves this function (no streaming)", file=sys.stderr)
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *argv])


def _snapstart(api: RuntimeAPI) -> None:
    """The init of a SnapStart version: before-snapshot hooks, wait for the restore, after-restore hooks."""
    from snapshot_restore_py import get_after_restore, get_before_snapshot

    try:
        hooks = get_before_snapshot()
        while hooks:  # last registered runs first, as awslambdaric does
            function, args, kwargs = hooks.pop()
            function(*args, **kwargs)
        status, _, body = api.request("GET", f"{API}/restore/next")
        if status != 200:
            raise RuntimeError(f"GET /restore/next answered {status}: {body[:200]!r}")
    except Exception as exc:
        _log_error(exc)
        api.error("init/error", error_result(exc), "Runtime.BeforeSnapshotError")
        sys.exit(64)
    try:
        for function, args, kwargs in get_after_restore():
            function(*args, **kwargs)
    except Exception as exc:
        _log_error(exc)
        api.error("restore/error", error_result(exc), "Runtime.AfterRestoreError")
        sys.exit(65)


def _log_error(exc: BaseException) -> None:
    import logging

    logging.getLogger("handler.runtime_loop").error(
        "[ERROR] %s: %s", type(exc).__name__, exc, exc_info=(type(exc), exc, exc.__traceback__)
    )


def main(argv: list[str]) -> None:
    """`argv`: what the runtime's bootstrap gave the wrapper after the interpreter (its own script)."""
    if os.environ.get("_HANDLER", OUR_HANDLER) != OUR_HANDLER:
        _hand_over(argv, f"the handler is {os.environ['_HANDLER']!r}, not {OUR_HANDLER}")
    workers = os.environ.get("AWS_LAMBDA_MAX_CONCURRENCY")
    if workers:
        _serve_in_workers(int(workers))
    else:
        _serve(several=False)


def _serve(*, several: bool) -> None:
    """Init, then invocations one at a time, for ever. `several`: one of Managed Instances' workers."""
    api = RuntimeAPI(os.environ["AWS_LAMBDA_RUNTIME_API"])
    _task_paths()
    runtime = None
    try:
        runtime = _runtime_logging()
        import handler

        lambda_handler = handler.lambda_handler  # reading it is the cold start: settings, pipelines, the app
        from handler.runtime_stream import Invocations
    except BaseException as exc:  # SystemExit from a pipeline's import included: Lambda must hear of it
        _log_error(exc)
        status = api.error("init/error", error_result(exc))
        if status != 202 and not (several and status == 403):  # 403: another worker reported it first
            print(f"POST /init/error answered {status}", file=sys.stderr)
        sys.exit(1)
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
        _snapstart(api)
    invocations = Invocations(api, lambda_handler)
    lambda_handler.export_after_response = True  # spans go once the answer is posted, before the next event
    while True:
        if not several:
            serve(api, invocations, *api.next(), runtime)
            lambda_handler.after_response()
            continue
        try:  # as awslambdaric's workers: a failed Runtime API call is logged, and the worker goes on
            serve(api, invocations, *_next_with_retries(api), runtime)
            lambda_handler.after_response()
        except OSError as exc:
            _log_error(exc)


def _next_with_retries(api: RuntimeAPI) -> tuple[Headers, bytes]:
    delay = 0.1
    for attempt in range(5):  # awslambdaric's: 5 attempts, 0.1 s apart at first, doubling
        try:
            return api.next()
        except (OSError, RuntimeError):
            if attempt == 4:
                raise
            api.close()
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def _serve_in_workers(count: int) -> None:
    """Lambda Managed Instances: `count` worker processes, each serving one invocation at a time, as the
    runtime's own loop does. Forked before the init, so each has its own app, event loop and Runtime API
    connection, and the parent holds no sockets or threads a fork could copy half-way."""
    children = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                _worker_output()
                _serve(several=True)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children.append(pid)
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
    sys.exit(next((code for code in codes if code), 0))  # the first failed worker's status


def _worker_output() -> None:
    """A worker's stdout and stderr to the socket Managed Instances gives for its logs, when it gives one."""
    path = os.environ.get("_LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET")
    if not path:
        return
    for fd in (1, 2):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as log:
            log.connect(path)
            os.dup2(log.fileno(), fd)


def serve(api: RuntimeAPI, answer: Any, headers: Any, body: bytes, runtime: Any = None) -> None:
    """One invocation: `answer(event, context)` returns what to post, or None when it streamed the answer."""
    request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
    trace = headers.get("Lambda-Runtime-Trace-Id")
    if trace:
        os.environ["_X_AMZN_TRACE_ID"] = trace
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    if runtime is not None:  # the runtime's log filter stamps each line with these
        runtime._GLOBAL_AWS_REQUEST_ID = request_id
        runtime._GLOBAL_TENANT_ID = headers.get("Lambda-Runtime-Aws-Tenant-Id")
    try:
        try:
            context = LambdaContext(headers)
        except _BadContext as exc:
            raise _Fault("Runtime.LambdaContextUnmarshalError", str(exc)) from None
        event: Any = body
        if headers.get("Content-Type", "application/json") == "application/json":
            try:
                event = json.loads(body)
            except ValueError as exc:
                raise _Fault("Runtime.UnmarshalError", f"Unable to unmarshal input: {exc}") from None
        result = answer(event, context)
        if result is None:
            return  # streamed
        if isinstance(result, bytes):
            payload, content_type = result, "application/unknown"
        else:
            try:
                payload, content_type = json.dumps(result, ensure_ascii=False).encode(), "application/json"
            except (TypeError, ValueError) as exc:
                raise _Fault("Runtime.MarshalError", f"Unable to marshal response: {exc}") from None
    except (Exception, SystemExit) as exc:  # as awslambdaric: the invocation fails, the loop goes on
        _log_error(exc)
        error = error_result(exc, request_id)
        if isinstance(exc, _Fault):
            error.update(errorType=exc.error_type, stackTrace=[])
        api.error(f"invocation/{request_id}/error", error)
        return
    api.respond(request_id, payload, content_type)


class _Fault(Exception):
    """A failure of the runtime's own (Lambda's `Runtime.*` error types), not of the function."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


if __name__ == "__main__":
    main(sys.argv[1:])
