"""The built artifact behind the exec wrapper, as Lambda starts it, on a read-only /var/task, answering a fake
Runtime API on loopback that records when each chunk of a streamed answer arrives (infra/fake_runtime_api.py).

Lambda's bootstrap runs `$AWS_LAMBDA_EXEC_WRAPPER <python> <its own arguments>` with /var/task as the working
directory: here the wrapper is the artifact's `handler/runtime-loop`, the Python is .venv-runtime's (a bare
3.13 with awslambdaric, as /var/runtime), and the artifact is bind-mounted read-only at /var/task in a private
mount namespace (as root; elsewhere it runs from where it was built). The artifact is `$LAMBDA_ARTIFACT` (sam
build's output in `make release-check`) or one tests/infra/conftest.py builds; both from tests/fixtures/deployed,
whose `tokens` pipeline yields tokens a set time apart (tests/fixtures/streaming/tokens).
"""

from __future__ import annotations

import base64
import itertools
import json
import subprocess
from collections.abc import Iterator

import pytest

from infra.emulator import CAN_MOUNT_READ_ONLY, RUNTIME_PYTHON, in_task_root, lambda_environment
from infra.fake_runtime_api import NUL_SEPARATOR, FakeRuntimeAPI, Invocation
from infra.lambda_events import function_url, http_v2

TOKENS = [f"token{i} " for i in range(6)]


def chat(**extra) -> dict:
    return {"model": "tokens", "messages": [{"role": "user", "content": "hi"}], "stream": True, **extra}


def sse_data(body: bytes) -> list[str]:
    return [
        "\n".join(line[5:].lstrip() for line in block.split("\n") if line.startswith("data:"))
        for block in body.decode().split("\n\n")
        if any(line.startswith("data:") for line in block.split("\n"))
    ]


def chat_tokens(data: list[str]) -> list[str]:
    deltas = [json.loads(d)["choices"][0]["delta"] for d in data if d != "[DONE]" and '"choices"' in d]
    return [delta["content"] for delta in deltas if delta.get("content")]


@pytest.fixture(scope="module")
def loop(artifact, tmp_path_factory) -> Iterator[FakeRuntimeAPI]:
    if not RUNTIME_PYTHON.exists():
        pytest.fail(f"{RUNTIME_PYTHON} is missing: run make install")
    log = tmp_path_factory.mktemp("loop") / "loop.log"
    before = {p.relative_to(artifact).as_posix() for p in artifact.rglob("*")}
    with FakeRuntimeAPI() as api:
        # exactly Lambda's command line: the wrapper, the runtime's interpreter, the runtime's own arguments
        command = 'exec "$AWS_LAMBDA_EXEC_WRAPPER" "$RUNTIME_PYTHON" /var/runtime/bootstrap.py'
        argv, task = in_task_root(command, CAN_MOUNT_READ_ONLY)
        task = str(artifact) if task == "$ARTIFACT" else task
        env = {
            **lambda_environment(task),
            "AWS_LAMBDA_EXEC_WRAPPER": f"{task}/handler/runtime-loop",
            "AWS_LAMBDA_RUNTIME_API": api.address,
            "_HANDLER": "handler.lambda_handler",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "RUNTIME_PYTHON": str(RUNTIME_PYTHON),
            "ARTIFACT": str(artifact),
        }
        process = subprocess.Popen(
            argv, cwd=artifact, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
        )
        api.log = log
        try:
            status = api.invoke(function_url("GET", "/status")).wait(120)
            assert status.prelude()["statusCode"] == 200, log.read_text()[-3000:]
            assert "tokens" in json.loads(status.body())["pipelines"]
            yield api
            assert process.poll() is None, f"the loop exited: {log.read_text()[-3000:]}"
        finally:
            process.kill()
            process.wait()
    # read-only: nothing written into the task root (no .pyc, no cache)
    assert {p.relative_to(artifact).as_posix() for p in artifact.rglob("*")} == before


def test_the_loop_imports_from_the_task_root(loop, artifact):
    event = http_v2("POST", "/humanized/run", body={"size_bytes": 3_000_000})
    reply = json.loads(loop.invoke(event).wait().payload)
    task_root = "/var/task" if CAN_MOUNT_READ_ONLY else str(artifact)
    assert json.loads(reply["body"])["result"]["module"] == f"{task_root}/humanize/__init__.py"


def test_tokens_stream_as_they_are_produced(loop):
    invocation = loop.invoke(function_url("POST", "/v1/chat/completions", body=chat())).wait()
    assert invocation.headers["lambda-runtime-function-response-mode"] == "streaming"
    assert invocation.headers["content-type"] == "application/vnd.awslambda.http-integration-response"
    assert invocation.headers["transfer-encoding"] == "chunked"
    # the format: a JSON prelude, exactly eight NUL bytes, then the SSE body
    head, separator, body = invocation.payload.partition(NUL_SEPARATOR)
    assert separator and not head.endswith(b"\0") and not body.startswith(b"\0")
    prelude = json.loads(head)
    assert prelude["statusCode"] == 200 and prelude["cookies"] == []
    assert prelude["headers"]["content-type"].startswith("text/event-stream")
    assert body.startswith(b"data: ")
    data = sse_data(body)
    assert data[-1] == "[DONE]"
    assert chat_tokens(data) == TOKENS
    times = invocation.body_times()
    first_token = next(at for at, part in times if b"token0" in part)
    total = invocation.answered - invocation.handed_out
    assert total >= 1.5  # five gaps of 0.3 s
    assert first_token <= 0.4 * total, f"first token at {first_token:.2f} s of {total:.2f} s"
    # each token came in its own time, not in one burst at the end
    token_times = [next(at for at, part in times if token.encode() in part) for token in TOKENS]
    assert all(later - earlier >= 0.2 for earlier, later in itertools.pairwise(token_times))
    assert invocation.trailers == {}


def test_the_same_request_through_the_http_api_answers_buffered_sse(loop):
    invocation = loop.invoke(http_v2("POST", "/v1/chat/completions", body=chat(delay=0.05))).wait()
    assert not invocation.streamed
    assert invocation.headers["content-type"] == "application/json"
    reply = json.loads(invocation.payload)  # a proxy response an HTTP API can read
    assert reply["statusCode"] == 200
    assert reply["headers"]["content-type"].startswith("text/event-stream")
    body = base64.b64decode(reply["body"]) if reply.get("isBase64Encoded") else reply["body"].encode()
    data = sse_data(body)
    assert data[-1] == "[DONE]"
    assert chat_tokens(data) == TOKENS


def test_a_failure_mid_stream_is_signalled_and_the_next_invocation_served(loop):
    invocation = loop.invoke(function_url("POST", "/v1/chat/completions", body=chat(delay=0.2, fail_after=2))).wait()
    assert invocation.prelude()["statusCode"] == 200  # sent before the failure
    data = sse_data(invocation.body())
    assert chat_tokens(data) == TOKENS[:2]
    # the OpenAI error event (the `openai` SDK raises APIError on it), then Lambda's error trailers
    assert json.loads(data[-1])["error"]["message"] == "Pipeline execution failed: the model connection dropped"
    first_token = next(at for at, part in invocation.body_times() if b"token0" in part)
    assert first_token <= invocation.answered - invocation.handed_out - 0.15  # token1 came 0.2 s after it
    assert invocation.trailers["lambda-runtime-function-error-type"] == "RuntimeError"
    error = json.loads(base64.b64decode(invocation.trailers["lambda-runtime-function-error-body"]))
    assert error["errorType"] == "RuntimeError" and "dropped" in error["errorMessage"]
    assert invocation.error is None  # no /error post after bytes were out
    following: Invocation = loop.invoke(function_url("GET", "/status")).wait()
    assert following.prelude()["statusCode"] == 200
    assert json.loads(following.body())["status"] == "Up!"
