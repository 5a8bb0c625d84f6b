"""Our own Lambda Runtime API loop, in place of the managed runtime's, so that responses can stream.

Started by `handler/runtime-loop` (the `AWS_LAMBDA_EXEC_WRAPPER`), which runs this file by path with
`python -P`: importing it as `handler.runtime_loop` would import the `handler` package first, and that
import *is* the cold start, which must happen inside the loop so that its failure is posted to
`/runtime/init/error` as the managed runtime does.

It does what awslambdaric's loop does, with the standard library's `http.client` only: the runtime's log
handler (when /var/runtime has it), init errors, `GET /invocation/next` and its headers (request id,
deadline, function ARN, trace id into `_X_AMZN_TRACE_ID`, client context, Cognito identity), a context
object, `/response` and `/error` posts, and SnapStart's before-snapshot and after-restore hooks. An
invocation's spans are exported after its answer is posted, before the next `GET /invocation/next`.
Function URL events are answered streamed (handler/runtime_stream.py); every other event through
`handler.lambda_handler` and a normal `/response`.

On Lambda Managed Instances (`AWS_LAMBDA_MAX_CONCURRENCY` set) it hands over to the runtime's own loop,
which forks workers and buffers; so does any handler other than `handler.lambda_handler`.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import time
import traceback
from typing import Any

API = "/2018-06-01/runtime"
ERROR_TYPE = "Lambda-Runtime-Function-Error-Type"
OUR_HANDLER = "handler.lambda_handler"


class RuntimeAPI:
    """The Runtime API over one keep-alive connection (Lambda serves one request at a time on it)."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.connection = http.client.HTTPConnection(address)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None):
        try:
            self.connection.request(method, path, body, headers or {})
            response = self.connection.getresponse()
            return response, response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()  # a dropped keep-alive connection: once more on a new one
            self.connection.request(method, path, body, headers or {})
            response = self.connection.getresponse()
            return response, response.read()

    def next(self) -> tuple[http.client.HTTPMessage, bytes]:
        response, body = self.request("GET", f"{API}/invocation/next")
        if response.status != 200:
            raise RuntimeError(f"GET /invocation/next answered {response.status}: {body[:200]!r}")
        return response.headers, body

    def respond(self, request_id: str, payload: bytes, content_type: str = "application/json") -> None:
        response, body = self.request(
            "POST", f"{API}/invocation/{request_id}/response", payload, {"Content-Type": content_type}
        )
        if response.status != 202:  # e.g. 413 for a payload over 6 MB: logged, the loop goes on
            print(f"POST /response for {request_id} answered {response.status}: {body[:300]!r}", file=sys.stderr)

    def error(self, path: str, error: dict[str, Any], error_type: str | None = None) -> int:
        headers = {ERROR_TYPE: error_type or error["errorType"], "Content-Type": "application/json"}
        response, _ = self.request("POST", f"{API}/{path}", json.dumps(error).encode(), headers)
        return response.status


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
        response, body = api.request("GET", f"{API}/restore/next")
        if response.status != 200:
            raise RuntimeError(f"GET /restore/next answered {response.status}: {body[:200]!r}")
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
    if os.environ.get("AWS_LAMBDA_MAX_CONCURRENCY"):
        _hand_over(argv, "Lambda Managed Instances (AWS_LAMBDA_MAX_CONCURRENCY)")
    if os.environ.get("_HANDLER", OUR_HANDLER) != OUR_HANDLER:
        _hand_over(argv, f"the handler is {os.environ['_HANDLER']!r}, not {OUR_HANDLER}")
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
        if status != 202:
            print(f"POST /init/error answered {status}", file=sys.stderr)
        sys.exit(1)
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
        _snapstart(api)
    invocations = Invocations(api, lambda_handler)
    lambda_handler.export_after_response = True  # spans go once the answer is posted, before the next event
    while True:
        serve(api, invocations, *api.next(), runtime)
        lambda_handler.after_response()


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
