"""The Runtime API loop (handler/runtime_loop.py), started as the exec wrapper starts it, against a fake
Runtime API that records when each part of a streamed answer arrives (infra/fake_runtime_api.py)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handler.entry import LambdaHandler
from infra.fake_runtime_api import FakeRuntimeAPI, Invocation
from infra.lambda_events import Context, function_url, http_v2
from tests.conftest import FIXTURE_PIPELINES, FIXTURE_PYTHON_PATH, ROOT, fixture_settings
from tests.handler.test_event_fuzz import OTHER_EVENTS, hostile_events, mutated_http_events

STREAMING_PIPELINES = Path(__file__).resolve().parent.parent / "fixtures" / "streaming"
WRAPPER = ROOT / "handler" / "runtime-loop"


def start_loop(api: FakeRuntimeAPI, pipelines: Path, *runtime_args: str, **env: str) -> subprocess.Popen:
    """The loop as Lambda's bootstrap starts it: `$AWS_LAMBDA_EXEC_WRAPPER <python> <runtime's args>`."""
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/tmp",
        "LAMBDA_TASK_ROOT": str(ROOT),
        "AWS_LAMBDA_RUNTIME_API": api.address,
        "AWS_LAMBDA_FUNCTION_NAME": "haystack-lambda",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "2048",
        "AWS_REGION": "us-east-1",
        "_HANDLER": "handler.lambda_handler",
        "HAYSTACK_TELEMETRY_ENABLED": "False",
        "HAYHOOKS_PIPELINES_DIR": str(pipelines),
        "HAYHOOKS_ADDITIONAL_PYTHON_PATH": str(FIXTURE_PYTHON_PATH),
        "HAYHOOKS_LOG_LEVEL": "WARNING",
        "HAYHOOKS_STREAM_KEEPALIVE_SECONDS": "1",
        **env,
    }
    args = runtime_args or ("/var/runtime/bootstrap.py",)
    return subprocess.Popen([str(WRAPPER), sys.executable, *args], cwd=ROOT, env=environ, stderr=subprocess.PIPE)


def stop(process: subprocess.Popen) -> None:
    process.kill()
    process.wait()
    process.stderr.close()


@pytest.fixture(scope="module")
def streaming_loop() -> Iterator[FakeRuntimeAPI]:
    with FakeRuntimeAPI() as api:
        process = start_loop(api, STREAMING_PIPELINES)
        api.process = process
        try:
            assert api.invoke(function_url("GET", "/status")).wait(120).prelude()["statusCode"] == 200
            yield api
        finally:
            stop(process)


def sse_data(body: bytes) -> list[str]:
    """The `data:` of each event in an SSE body (comments and event names left out)."""
    out = []
    for block in body.decode().split("\n\n"):
        lines = [line[5:].lstrip() for line in block.split("\n") if line.startswith("data:")]
        if lines:
            out.append("\n".join(lines))
    return out


def chat_body(**extra) -> dict:
    return {"model": "tokens", "messages": [{"role": "user", "content": "hi"}], "stream": True, **extra}


def chat_tokens(body: bytes) -> list[str]:
    data = sse_data(body)
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    return [c["choices"][0]["delta"].get("content") for c in chunks if c["choices"][0]["delta"].get("content")]


# -- what streams ---------------------------------------------------------------------------------------


def test_chat_tokens_arrive_as_they_are_produced(streaming_loop):
    invocation = streaming_loop.invoke(function_url("POST", "/v1/chat/completions", body=chat_body())).wait()
    assert invocation.streamed
    assert invocation.headers["content-type"] == "application/vnd.awslambda.http-integration-response"
    prelude = invocation.prelude()
    assert prelude["statusCode"] == 200
    assert prelude["headers"]["content-type"].startswith("text/event-stream")
    assert "content-length" not in prelude["headers"]
    assert chat_tokens(invocation.body()) == [f"token{i} " for i in range(6)]
    times = invocation.body_times()
    first_token = next(at for at, data in times if b"token0" in data)
    total = times[-1][0]
    assert total >= 1.5  # five gaps of 0.3 s
    assert first_token <= 0.4 * total, f"first token at {first_token:.2f} s of {total:.2f} s"
    assert not invocation.trailers


def test_run_api_generator_streams_as_text(streaming_loop):
    invocation = streaming_loop.invoke(function_url("POST", "/tokens/run", body={"count": 4, "delay": 0.3})).wait()
    assert invocation.prelude()["headers"]["content-type"].startswith("text/plain")
    assert invocation.body() == b"token0 token1 token2 token3 "
    times = [at for at, data in invocation.body_times() if data]
    assert times[0] <= 0.4 * times[-1]


def test_the_same_request_as_an_http_api_event_answers_buffered_sse(streaming_loop):
    invocation = streaming_loop.invoke(http_v2("POST", "/v1/chat/completions", body=chat_body(delay=0.05))).wait()
    assert not invocation.streamed
    assert invocation.headers["content-type"] == "application/json"
    result = json.loads(invocation.payload)
    assert result["statusCode"] == 200
    assert result["headers"]["content-type"].startswith("text/event-stream")
    assert chat_tokens(result["body"].encode()) == [f"token{i} " for i in range(6)]


def test_a_json_answer_streams_whole(streaming_loop):
    invocation = streaming_loop.invoke(function_url("GET", "/status")).wait()
    prelude = invocation.prelude()
    assert prelude["headers"]["x-request-id"] == invocation.request_id  # the context's, as lambda_handler says
    assert json.loads(invocation.body())["status"] == "Up!"


def test_cookies_go_in_the_prelude_and_a_404_keeps_its_status(streaming_loop):
    invocation = streaming_loop.invoke(function_url("GET", "/nowhere")).wait()
    assert invocation.prelude()["statusCode"] == 404
    assert invocation.prelude()["cookies"] == []


# -- failures -------------------------------------------------------------------------------------------


def test_a_failure_mid_stream_ends_with_an_error_event_and_trailers(streaming_loop):
    event = function_url("POST", "/sse_tokens/run", body={"count": 5, "delay": 0.1, "fail_after": 2})
    invocation = streaming_loop.invoke(event).wait()
    assert invocation.prelude()["statusCode"] == 200
    data = sse_data(invocation.body())
    assert data[:2] == ["event0", "event1"]
    assert json.loads(data[2])["error"]["message"] == "Pipeline execution failed: the model connection dropped"
    assert b"event: error\n" in invocation.body()
    assert invocation.trailers["lambda-runtime-function-error-type"] == "RuntimeError"
    error = json.loads(base64.b64decode(invocation.trailers["lambda-runtime-function-error-body"]))
    assert error["errorType"] == "RuntimeError"
    assert "dropped" in error["errorMessage"]
    assert invocation.error is None  # never an /error post once bytes are out
    # and the loop serves the next invocation
    assert streaming_loop.invoke(function_url("GET", "/status")).wait().prelude()["statusCode"] == 200


def test_a_text_stream_that_fails_ends_with_trailers(streaming_loop):
    event = function_url("POST", "/tokens/run", body={"count": 4, "delay": 0.05, "fail_after": 2})
    invocation = streaming_loop.invoke(event).wait()
    assert invocation.body() == b"token0 token1 "
    assert invocation.trailers["lambda-runtime-function-error-type"] == "RuntimeError"


def test_a_chat_stream_that_fails_ends_with_the_openai_error_event(streaming_loop):
    event = function_url("POST", "/v1/chat/completions", body=chat_body(fail_after=2))
    invocation = streaming_loop.invoke(event).wait()
    data = sse_data(invocation.body())
    assert [json.loads(d)["choices"][0]["delta"].get("content") for d in data[:2]] == ["token0 ", "token1 "]
    assert "dropped" in json.loads(data[-1])["error"]["message"]
    # the app ended the body with its error event; Lambda still hears of the failure
    assert invocation.trailers["lambda-runtime-function-error-type"] == "RuntimeError"
    error = json.loads(base64.b64decode(invocation.trailers["lambda-runtime-function-error-body"]))
    assert error["errorMessage"] == "Pipeline execution failed: the model connection dropped"


def test_the_stream_ends_cleanly_before_the_function_times_out(streaming_loop):
    event = function_url("POST", "/v1/chat/completions", body=chat_body(count=20, delay=0.3))
    started = time.monotonic()
    invocation = streaming_loop.invoke(event, timeout_s=2.0).wait()
    assert time.monotonic() - started < 2.0  # the default margin is 500 ms
    data = sse_data(invocation.body())
    assert "timeout" in json.loads(data[-1])["error"]["message"]
    assert invocation.trailers["lambda-runtime-function-error-type"] == "TimeoutError"
    assert streaming_loop.invoke(function_url("GET", "/status")).wait().prelude()["statusCode"] == 200


def test_quiet_streams_get_keep_alive_comments(streaming_loop):
    event = function_url("POST", "/sse_tokens/run", body={"count": 2, "delay": 1.6})
    invocation = streaming_loop.invoke(event).wait()
    assert b": keep-alive\n\n" in invocation.body()
    assert sse_data(invocation.body()) == ["event0", "event1"]


def test_an_event_that_is_not_json_is_a_runtime_error_and_the_loop_goes_on(streaming_loop):
    invocation = streaming_loop.invoke(None, raw=b"{not json").wait()
    assert invocation.error["errorType"] == "Runtime.UnmarshalError"
    assert invocation.headers["lambda-runtime-function-error-type"] == "Runtime.UnmarshalError"
    bad_context = streaming_loop.invoke({}, **{"Lambda-Runtime-Client-Context": "{nope"}).wait()
    assert bad_context.error["errorType"] == "Runtime.LambdaContextUnmarshalError"
    assert streaming_loop.invoke({"warmup": True}).wait().payload == b'{"warm": true, "pipelines": 2}'


# -- hostile events, through both paths ------------------------------------------------------------------


@pytest.fixture(scope="module")
def fixture_loop() -> Iterator[FakeRuntimeAPI]:
    with FakeRuntimeAPI() as api:
        process = start_loop(api, FIXTURE_PIPELINES)
        try:
            assert json.loads(api.invoke(http_v2("GET", "/status")).wait(120).payload)["statusCode"] == 200
            yield api
        finally:
            stop(process)


@pytest.fixture(scope="module")
def in_process() -> LambdaHandler:
    return LambdaHandler(fixture_settings())


def _as_function_url(event):
    if isinstance(event, dict) and isinstance(event.get("requestContext"), dict):
        event["requestContext"]["domainName"] = "abcdefgh.lambda-url.us-east-1.on.aws"
    return event


def _outcome(invocation: Invocation):
    if invocation.error is not None:
        return ("error", invocation.error["errorType"])
    if invocation.streamed:
        return ("http", invocation.prelude()["statusCode"])
    result = json.loads(invocation.payload)
    return ("http", result["statusCode"]) if isinstance(result, dict) and "statusCode" in result else result


def _expected(handler: LambdaHandler, event):
    try:
        result = handler(json.loads(json.dumps(event)), Context())
    except Exception as exc:
        return ("error", type(exc).__name__)
    return ("http", result["statusCode"]) if "statusCode" in result else result


EVENTS = mutated_http_events().map(lambda e: e[0]) | hostile_events().map(lambda e: e[0]) | OTHER_EVENTS


@settings(max_examples=int(os.environ.get("FUZZ_MAX_EXAMPLES", "150")) // 3, deadline=None, database=None)
@given(event=EVENTS, function_url_domain=st.booleans())
def test_hostile_events_answer_as_lambda_handler_does(fixture_loop, in_process, event, function_url_domain):
    if function_url_domain:
        event = _as_function_url(event)
    invocation = fixture_loop.invoke(event).wait()
    assert _outcome(invocation) == _expected(in_process, event)


def test_the_loop_survives_the_hostile_events(fixture_loop):
    assert json.loads(fixture_loop.invoke(http_v2("GET", "/status")).wait().payload)["statusCode"] == 200


# -- init, hand-over ------------------------------------------------------------------------------------


def test_an_init_failure_is_posted_and_ends_the_process(tmp_path):
    with FakeRuntimeAPI() as api:
        process = start_loop(api, tmp_path / "missing")
        try:
            assert process.wait(120) == 1
        finally:
            stop(process)
        [(headers, error)] = api.init_errors
        assert "is not a directory" in error["errorMessage"]
        assert headers["Lambda-Runtime-Function-Error-Type"] == error["errorType"]


def test_another_handler_is_handed_over_to_the_runtimes_own_loop(tmp_path):
    marker = tmp_path / "handed-over"
    runtime = tmp_path / "bootstrap.py"
    runtime.write_text(f"import sys, pathlib; pathlib.Path({str(marker)!r}).write_text(repr(sys.argv[1:]))\n")
    with FakeRuntimeAPI() as api:
        process = start_loop(api, STREAMING_PIPELINES, str(runtime), "extra", _HANDLER="app.handler")
        try:
            assert process.wait(60) == 0
        finally:
            stop(process)
    assert marker.read_text() == "['extra']"


def test_managed_instances_serve_that_many_invocations_at_once():
    """AWS_LAMBDA_MAX_CONCURRENCY=3: three workers, each its own init, each one invocation at a time."""
    with FakeRuntimeAPI() as api:
        process = start_loop(api, STREAMING_PIPELINES, AWS_LAMBDA_MAX_CONCURRENCY="3")
        try:
            for _ in range(3):  # every worker has finished its init and waits for work
                api.invoke(function_url("GET", "/status")).wait(180)
            deadline = time.monotonic() + 180
            while len(api.polled) < 6 and time.monotonic() < deadline:
                time.sleep(0.05)
            slow = [
                api.invoke(function_url("POST", "/tokens/run", body={"count": 4, "delay": 0.4})),
                api.invoke(http_v2("POST", "/tokens/run", body={"count": 4, "delay": 0.4})),
                api.invoke(function_url("POST", "/v1/chat/completions", body=chat_body(count=4, delay=0.4))),
            ]
            for invocation in slow:
                invocation.wait(60)
            fourth = api.invoke(function_url("GET", "/status")).wait(60)
            assert process.poll() is None
        finally:
            stop(process)
    # all three were handed out before any was answered: served side by side, not one after another
    assert max(i.handed_out for i in slow) < min(i.answered for i in slow)
    assert slow[0].body() == b"token0 token1 token2 token3 "
    assert slow[0].streamed and not slow[1].streamed
    assert json.loads(slow[1].payload)["body"] == "token0 token1 token2 token3 "
    assert chat_tokens(slow[2].body()) == [f"token{i} " for i in range(4)]
    times = [at for at, data in slow[2].body_times() if b"token" in data]
    assert times[0] <= 0.4 * times[-1]  # still streamed, token by token
    assert fourth.prelude()["statusCode"] == 200


def test_managed_instances_report_an_init_failure_and_end(tmp_path):
    with FakeRuntimeAPI() as api:
        process = start_loop(api, tmp_path / "missing", AWS_LAMBDA_MAX_CONCURRENCY="2")
        try:
            assert process.wait(120) == 1  # the parent ends once every worker has, failed as they did
        finally:
            stop(process)
    assert len(api.init_errors) == 2  # each worker's (Lambda answers the second with 403)
    assert all("is not a directory" in error["errorMessage"] for _, error in api.init_errors)


# -- the Runtime API client's HTTP/1.1 ------------------------------------------------------------------


def _one_answer_server(answer: bytes) -> tuple[str, list[bytes]]:
    """A loopback server that reads one request head and sends `answer` (then closes); returns its address and
    the request heads it got."""
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", 0))
    heads: list[bytes] = []

    def serve() -> None:
        connection, _ = server.accept()
        with connection, server:
            data = b""
            while b"\r\n\r\n" not in data:
                data += connection.recv(65536)
            heads.append(data)
            connection.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    return f"127.0.0.1:{server.getsockname()[1]}", heads


@pytest.mark.parametrize(
    "answer",
    [
        b'HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: abc\r\nContent-Length: 11\r\n\r\n{"a": "b"}\n',
        b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: abc\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'4\r\n{"a"\r\n7;ext=1\r\n: "b"}\n\r\n0\r\nX-Trailer: t\r\n\r\n',
        b'HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: abc\r\nConnection: close\r\n\r\n{"a": "b"}\n',
    ],
    ids=["content-length", "chunked", "until-close"],
)
def test_the_client_reads_each_http_framing(answer):
    from handler.runtime_loop import RuntimeAPI

    address, heads = _one_answer_server(answer)
    api = RuntimeAPI(address)
    headers, body = api.next()
    assert headers.get("Lambda-Runtime-Aws-Request-Id") == headers.get("lambda-runtime-aws-request-id") == "abc"
    assert json.loads(body) == {"a": "b"}
    assert heads[0].startswith(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1:")
    if b"Connection: close" in answer or (b"chunked" not in answer and b"Content-Length" not in answer):
        assert api.sock is None  # closed: the next request opens a new connection


def test_a_refused_next_is_an_error():
    from handler.runtime_loop import RuntimeAPI

    address, _ = _one_answer_server(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops")
    with pytest.raises(RuntimeError, match="answered 500: b'oops'"):
        RuntimeAPI(address).next()


def test_a_stream_the_pipeline_deadline_ended_reports_a_timeout():
    """The pipeline's deadline (core/deadline.py) and the stream's own cut race near the function's timeout:
    whichever ends the stream, Lambda hears of a TimeoutError."""
    from core.invocation import DeadlineExpired
    from handler.runtime_stream import ERROR_BODY, ERROR_TYPE, _failure_trailers

    trailers = _failure_trailers(DeadlineExpired("Pipeline 'tokens' did not finish within the time left"))
    assert trailers[ERROR_TYPE] == "TimeoutError"
    assert "did not finish" in json.loads(base64.b64decode(trailers[ERROR_BODY]))["errorMessage"]
