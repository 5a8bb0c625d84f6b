"""The built artifact under the real Lambda Runtime Interface Emulator, with /var/task read-only.

The emulator (`aws-lambda-rie`, shipped inside the aws-sam-cli wheel) and the runtime interface client
(`awslambdaric`, in a bare Python 3.13 venv like Lambda's /var/runtime) run the handler exactly as Lambda
does: init phase, then invocations over the Runtime API. Events are the `sam local generate-event`
templates (infra/event_templates/) edited per case.

The artifact is `$LAMBDA_ARTIFACT` (what `make release-check` passes: sam build's output) or, by default, one built
here by infra/build.py for this machine's architecture: the same code `sam build` runs. Either is built from
tests/fixtures/deployed: the examples, a pipeline importing a package that only the folder's
requirements.txt brings (not requirements.lock, not the test venv), and one streaming tokens
(tests/infra/test_runtime_streaming.py runs it behind the exec wrapper).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from infra.emulator import CAN_MOUNT_READ_ONLY, Emulator, free_port
from infra.lambda_events import http_v2, parse
from infra.requirements import locked_pins
from tests.conftest import DEPLOYED, EXAMPLE_PIPELINES, ROOT

DEPLOYED_PIPELINES = sorted([*EXAMPLE_PIPELINES, "humanized", "tokens"])


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


@pytest.fixture(scope="module")
def emulator(artifact, tmp_path_factory):
    before = _files(artifact)
    rie = Emulator(artifact, {}, tmp_path_factory.mktemp("rie") / "rie.log")
    yield rie
    rie.stop()
    # every module shipped precompiled: nothing was (or, read-only, could have been) written
    assert _files(artifact) == before


def test_status_and_init_report(emulator):
    reply = parse(emulator.invoke(http_v2("GET", "/status")))
    assert reply.status == 200
    body = reply.json()
    assert body["pipelines"] == DEPLOYED_PIPELINES
    assert body["failed"] == []
    init_ms = emulator.init_ms()
    print(f"\nINIT REPORT of the built artifact under the emulator: {init_ms:.0f} ms")
    assert 0 < init_ms < 10_000  # Lambda's init limit
    assert "Loaded 8 pipeline(s)" in emulator.log.read_text()


def test_a_requirement_of_the_pipelines_folder_is_in_the_package(emulator, artifact):
    """humanize is in tests/fixtures/deployed/requirements.txt only: the build installed it for the target."""
    assert "humanize" not in locked_pins(ROOT / "requirements.lock")
    assert (DEPLOYED / "requirements.txt").read_text().count("humanize==") == 1
    assert (artifact / "humanize").is_dir() and list(artifact.glob("humanize-*.dist-info"))
    reply = parse(emulator.invoke(http_v2("POST", "/humanized/run", body={"size_bytes": 3_000_000})))
    assert reply.status == 200, reply.body
    assert reply.json()["result"]["size"] == "3.0 MB"
    task_root = "/var/task" if CAN_MOUNT_READ_ONLY else str(artifact)
    assert reply.json()["result"]["module"] == f"{task_root}/humanize/__init__.py"


def test_run(emulator):
    reply = parse(emulator.invoke(http_v2("POST", "/search_docs/run", body={"query": "lambda cold start", "top_k": 1})))
    assert reply.status == 200
    assert "cold start" in reply.json()["result"][0]["content"]


def test_validation_error_422(emulator):
    reply = parse(emulator.invoke(http_v2("POST", "/greeting/run", body={"name": "Ann"})))
    assert reply.status == 422
    assert reply.json()["detail"][0]["loc"] == ["body", "place"]


def test_binary_multipart_upload(emulator):
    text = "naïve café ".encode("latin-1") * 30  # not UTF-8: must arrive byte for byte
    request = httpx.Request(
        "POST", "http://x/file_stats/run", data={"encoding": "latin-1"}, files=[("files", ("notes.txt", text))]
    )
    event = http_v2(
        "POST", "/file_stats/run", body=request.read(), headers={"content-type": request.headers["content-type"]}
    )
    reply = parse(emulator.invoke(event))
    assert reply.status == 200, reply.body
    assert reply.json() == {"result": [{"name": "notes.txt", "bytes": len(text), "words": 60, "chunks": 1}]}


def test_pipeline_failure_500(artifact, tmp_path):
    """The LLM behind chat_with_docs is unreachable: a 500 with Hayhooks' message, no traceback."""
    closed = free_port()
    rie = Emulator(
        artifact,
        {
            "OPENAI_API_KEY": "sk-test-not-a-real-key",
            "OPENAI_BASE_URL": f"http://127.0.0.1:{closed}/v1",
            "OPENAI_MAX_RETRIES": "0",
            "OPENAI_TIMEOUT": "2",
        },
        tmp_path / "rie.log",
    )
    try:
        reply = parse(rie.invoke(http_v2("POST", "/chat_with_docs/run", body={"question": "What is it?"})))
    finally:
        rie.stop()
    assert reply.status == 500
    detail = reply.json()["detail"]
    assert detail.startswith("Pipeline execution failed: ") and "Connection error" in detail
    assert "Traceback" not in detail


def test_lazy_strategy(artifact, tmp_path):
    """HAYHOOKS_STARTUP_DEPLOY_STRATEGY=lazy on the real runtime: init loads nothing, the first request loads."""
    rie = Emulator(artifact, {"HAYHOOKS_STARTUP_DEPLOY_STRATEGY": "lazy"}, tmp_path / "rie.log")
    try:
        before = parse(rie.invoke(http_v2("GET", "/status"))).json()
        run = parse(rie.invoke(http_v2("POST", "/greeting/run", body={"name": "Ann", "place": "Lambda"})))
        after = parse(rie.invoke(http_v2("GET", "/status"))).json()
    finally:
        rie.stop()
    assert before["pipelines"] == [] and set(before["states"].values()) == {"pending"}
    assert run.status == 200
    assert run.json() == {"result": {"greeting_builder": {"prompt": "Hello Ann, welcome to Lambda!"}}}
    assert after["pipelines"] == ["greeting"] and after["states"]["greeting"] == "loaded"
    assert after["states"]["search_docs"] == "pending"


def test_failing_invocation_logs_under_the_runtime_handler(artifact, tmp_path):
    """With the function's log format JSON (Lambda's LoggingConfig), the runtime's own handler writes our
    lines: one JSON object per line, each carrying the invocation's request ids."""
    import json

    closed = free_port()
    rie = Emulator(
        artifact,
        {
            "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "AWS_LAMBDA_LOG_LEVEL": "INFO",
            "OPENAI_API_KEY": "sk-test-not-a-real-key",
            "OPENAI_BASE_URL": f"http://127.0.0.1:{closed}/v1",
            "OPENAI_MAX_RETRIES": "0",
            "OPENAI_TIMEOUT": "2",
        },
        tmp_path / "rie.log",
    )
    try:
        event = http_v2("POST", "/chat_with_docs/run", body={"question": "What is it?"})
        reply = parse(rie.invoke(event))
    finally:
        rie.stop()
    assert reply.status == 500
    request_id = reply.headers["x-request-id"]
    text = rie.log.read_text()
    ours = [json.loads(line) for line in text.splitlines() if line.startswith('{"level"')]
    during = [line for line in ours if "function_request_id" in line]
    assert {line["message"] for line in during} >= {"Pipeline 'chat_with_docs' failed", "POST /chat_with_docs/run 500"}
    for line in during:
        assert line["function_request_id"] == request_id
        assert line["correlation_id"] == event["requestContext"]["requestId"]
        assert line["cold_start"] is True and line["pipeline"] == "chat_with_docs"
    # every line from the invocation's first on carries the ids; the init's lines (before it) none
    first = ours.index(during[0])
    assert first > 0 and len(ours) - first == len(during)
