"""Hayhooks' durable routes through the HTTP app, the worker running under the durable SDK's local runner
behind a local stand-in for the Lambda durable APIs (tests/durable_lambda.py)."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("aws_durable_execution_sdk_python_testing", reason="in requirements-dev.lock")

from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient

from core.durable_runs import LambdaDurableRuns
from core.routes.durable import durable_router
from handler.durable_worker import DurableWorker
from tests.durable_lambda import LocalDurableLambda
from tests.fixtures.durable_wrappers.wrappers import wrapper_for

WORKER = "arn:aws:lambda:us-west-2:123456789012:function:worker:live"
RECORD_KEYS = {
    "execution_id", "status", "attempt", "sequence", "progress", "result", "error", "waiting",
    "cancellation_requested_at", "created_at", "updated_at", "links",
}  # fmt: skip


@pytest.fixture
def service():
    with DurableFunctionTestRunner(handler=DurableWorker(wrapper_for)) as runner:
        lam = LocalDurableLambda(runner)
        runs = LambdaDurableRuns(WORKER, client=lam)
        app = FastAPI()
        for name in ("steps", "approval", "flaky", "fails"):
            app.include_router(durable_router(name, wrapper_for(name), runs))
        with TestClient(app) as client:
            yield client, lam


def _until(client, url: str, done, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        record = client.get(url).json()
        if done(record) or time.monotonic() > deadline:
            return record
        time.sleep(0.1)


def test_submit_answers_202_with_the_record_and_runs_three_steps_with_progress(service):
    client, lam = service
    started = time.monotonic()
    answer = client.post("/steps/run-durable", json={"steps": 3, "seconds": 1.0})
    assert answer.status_code == 202 and time.monotonic() - started < 1.0  # nothing waits for the run
    record = answer.json()
    assert set(record) == RECORD_KEYS and record["status"] in ("queued", "running")
    assert answer.headers["Location"] == record["links"]["self"] == f"/steps/executions/{record['execution_id']}"

    done = _until(client, record["links"]["self"], lambda r: r["status"] == "completed")
    assert done["status"] == "completed" and done["result"] == {"done": 3}
    assert [(p["sequence"], p["message"]) for p in done["progress"]] == [
        (1, "step 1 of 3"), (2, "step 2 of 3"), (3, "step 3 of 3"),
    ]  # fmt: skip
    assert done["attempt"] == 1 and done["error"] is None
    assert "Invoke" in lam.calls


def test_suspend_waits_and_a_typed_resume_completes_it(service):
    client, _ = service
    record = client.post("/approval/run-durable", json={"item": "invoice 7"}).json()
    waiting = _until(client, record["links"]["self"], lambda r: r["status"] == "waiting")
    assert waiting["waiting"] == {"kind": "approval", "message": "Approve invoice 7?"}

    assert client.post(record["links"]["resume"], json={"approved": "perhaps"}).status_code == 422
    resumed = client.post(record["links"]["resume"], json={"approved": True, "note": "fine"})
    assert resumed.status_code == 202
    done = _until(client, record["links"]["self"], lambda r: r["status"] == "completed")
    assert done["result"] == {"item": "invoice 7", "approved": True, "note": "fine"}
    assert done["attempt"] == 2
    assert client.post(record["links"]["resume"], json={"approved": True}).status_code == 409  # not waiting


def test_raises_once_then_retried(service):
    client, _ = service
    record = client.post("/flaky/run-durable", json={"value": 4}).json()
    done = _until(client, record["links"]["self"], lambda r: r["status"] in ("completed", "failed"))
    assert done["status"] == "completed" and done["result"] == {"value": 8, "attempt": 2}


def test_a_failed_run_has_hayhooks_error_record(service):
    client, _ = service
    record = client.post("/fails/run-durable", json={"value": 1}).json()
    done = _until(client, record["links"]["self"], lambda r: r["status"] in ("completed", "failed"))
    assert done["status"] == "failed"
    assert done["error"] == {
        "type": "KeyError",
        "message": "Durable execution failed",
        "retryable": False,
        "code": None,
    }


def test_idempotent_resubmission_and_a_conflicting_body(service):
    client, lam = service
    first = client.post("/steps/run-durable", json={"steps": 1, "seconds": 0}, headers={"Idempotency-Key": "k1"})
    again = client.post("/steps/run-durable", json={"steps": 1, "seconds": 0}, headers={"Idempotency-Key": "k1"})
    assert first.status_code == 202 and "Idempotent-Replay" not in first.headers
    assert again.headers["Idempotent-Replay"] == "true"
    assert again.json()["execution_id"] == first.json()["execution_id"]
    assert lam.calls.count("Invoke") == 1
    other = client.post("/steps/run-durable", json={"steps": 2, "seconds": 0}, headers={"Idempotency-Key": "k1"})
    assert other.status_code == 409
    _until(client, first.json()["links"]["self"], lambda r: r["status"] == "completed")
    assert (
        client.post(
            "/steps/run-durable", json={"steps": 1, "seconds": 0}, headers={"Idempotency-Key": "k1"}
        ).status_code
        == 200
    )  # a terminal replay


def test_cancel_of_a_running_execution(service):
    client, _ = service
    record = client.post("/steps/run-durable", json={"steps": 5, "seconds": 1.0}).json()
    _until(client, record["links"]["self"], lambda r: r["status"] == "running")
    canceled = client.post(record["links"]["cancel"])
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled" and canceled.json()["cancellation_requested_at"]


def test_unknown_and_malformed_ids(service):
    client, _ = service
    assert client.get("/steps/executions/" + "0" * 32).status_code == 404
    assert client.get("/steps/executions/not%20an%20id").status_code == 422
    assert client.post("/steps/executions/" + "0" * 32 + "/cancel").status_code == 404


def test_an_execution_is_not_found_under_another_pipeline(service):
    client, _ = service
    record = client.post("/steps/run-durable", json={"steps": 1, "seconds": 0}).json()
    assert client.get(f"/flaky/executions/{record['execution_id']}").status_code == 404


def test_stream_replays_the_terminal_record_and_rejects_a_bad_cursor(service):
    client, _ = service
    record = client.post("/steps/run-durable", json={"steps": 1, "seconds": 0}).json()
    _until(client, record["links"]["self"], lambda r: r["status"] == "completed")
    body = client.get(record["links"]["stream"]).text
    assert body.startswith(": heartbeat\n\n") and "event: completed\n" in body
    assert client.get(record["links"]["stream"], headers={"Last-Event-ID": "x"}).status_code == 422


@pytest.mark.slow
def test_a_35_second_run_completes_while_no_http_request_lasts_10_seconds():
    """The worker's invocations time out after 10 s (the runner kills one that overruns); the run's checkpoints
    carry it across invocations. The HTTP function is asked for the record every second, each answer < 10 s."""
    from tests.durable_lambda import TimedInvocations

    worker = TimedInvocations(DurableWorker(wrapper_for), timeout_s=10)
    with DurableFunctionTestRunner(handler=worker, invocation_timeout=10) as runner:
        runs = LambdaDurableRuns(WORKER, client=LocalDurableLambda(runner))
        app = FastAPI()
        app.include_router(durable_router("long", wrapper_for("long"), runs))
        with TestClient(app) as client:
            requests: list[float] = []

            def timed(method, url, **kwargs):
                started = time.monotonic()
                answer = client.request(method, url, **kwargs)
                requests.append(time.monotonic() - started)
                return answer

            started = time.monotonic()
            record = timed("POST", "/long/run-durable", json={"steps": 35, "seconds": 1.0}).json()
            statuses = set()
            while record["status"] not in ("completed", "failed", "canceled") and time.monotonic() - started < 90:
                time.sleep(1.0)
                record = timed("GET", record["links"]["self"]).json()
                statuses.add(record["status"])
            elapsed = time.monotonic() - started

    assert record["status"] == "completed", record
    assert record["result"]["done"] == 35 and record["result"]["attempts"] >= 4
    assert record["error"] is None and len(record["progress"]) == 35
    assert statuses <= {"queued", "running", "completed"}  # a continuation is not a retry: never failed on the way
    assert elapsed >= 35
    assert max(requests) < 10 and len(requests) >= 30
    assert max(worker.durations) < 10 and len(worker.durations) >= 4
