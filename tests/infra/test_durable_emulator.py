"""Durable runs end to end without AWS: the HTTP function (`handler`'s LambdaHandler, API Gateway HTTP API 2.0
events) in this process, the worker (`handler.durable_worker.lambda_handler`) in the built artifact under the
Runtime Interface Emulator, its executions driven by dex-local-runner, and the local Lambda front door
(infra/lambda_front_door.py) joining them (infra/durable_local.py).

The HTTP function's botocore client goes to the front door through `AWS_ENDPOINT_URL_LAMBDA`, as on AWS: its
`Invoke(DurableExecutionName=…)` starts an execution in the runner, which invokes the worker in the emulator;
the worker's SDK checkpoints to the runner; reads, stop and callbacks are the runner's. The worker's timeout
is 10 s (the emulator ends an invocation that overruns it), so the 35 s run must cross invocations.

The artifact is the one tests/infra/test_runtime.py runs (tests/infra/conftest.py); the durable pipelines are
tests/fixtures/durable_pipelines, mounted beside it (their wrappers live in tests/fixtures/durable_wrappers).
"""

from __future__ import annotations

import time

import pytest

from core.settings import Settings
from handler.entry import LambdaHandler
from infra.durable_local import LocalDurable
from infra.lambda_events import Context, http_v2, parse
from tests.cold import ROOT

DURABLE_PIPELINES = ROOT / "tests" / "fixtures" / "durable_pipelines"
WORKER_TIMEOUT_S = 10
TERMINAL = ("completed", "failed", "canceled")


class HttpFunction:
    """The HTTP function's handler, called with API Gateway events; every invocation's duration is kept."""

    def __init__(self, handler: LambdaHandler) -> None:
        self.handler = handler
        self.durations: list[float] = []

    def __call__(self, method: str, path: str, **kwargs):
        started = time.monotonic()
        reply = parse(self.handler(http_v2(method, path, **kwargs), Context()))
        self.durations.append(time.monotonic() - started)
        return reply

    def until(self, url: str, done, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            record = self("GET", url).json()
            if done(record) or time.monotonic() > deadline:
                return record
            time.sleep(0.5)


@pytest.fixture(scope="module")
def local(artifact, tmp_path_factory):
    logs = tmp_path_factory.mktemp("durable-local")
    with LocalDurable(
        artifact, logs, pipelines=DURABLE_PIPELINES, timeout_s=WORKER_TIMEOUT_S, python_path=(ROOT,)
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def http(local):
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {**local.http_function_env(), "HAYHOOKS_PIPELINES_DIR": str(DURABLE_PIPELINES)}.items():
            patch.setenv(key, value)
        patch.setattr("core.settings._in_use", None)  # the handler sets the settings in use: undone after
        patch.setattr("boto3.DEFAULT_SESSION", None)  # its session keeps the local credentials: dropped after
        function = HttpFunction(LambdaHandler(Settings.from_env()))
        yield function
    # no invocation of the HTTP function waited for a run
    assert function.durations and max(function.durations) < 10, max(function.durations)


def _worker_invocations(local) -> int:
    return sum(log.read_text().count("INVOKE START") for log in local.logs.glob("worker-*.log"))


def test_three_one_second_steps_report_progress(local, http):
    before = len(local.door.invocations)
    answer = http("POST", "/steps/run-durable", body={"steps": 3, "seconds": 1.0})
    assert answer.status == 202, answer.body
    record = answer.json()
    assert answer.headers["location"] == record["links"]["self"]
    assert record["status"] in ("queued", "running")

    done = http.until(record["links"]["self"], lambda r: r["status"] in TERMINAL)
    assert done["status"] == "completed", done
    assert done["result"] == {"done": 3} and done["error"] is None and done["attempt"] == 1
    assert [(p["sequence"], p["message"], p["metadata"]) for p in done["progress"]] == [
        (1, "step 1 of 3", {"step": 1}), (2, "step 2 of 3", {"step": 2}), (3, "step 3 of 3", {"step": 3}),
    ]  # fmt: skip
    # the worker ran in the emulator, invoked by the runner through the front door
    ran = local.door.invocations[before:]
    assert ran and all(name == "worker" for name, _ in ran)
    assert sum(seconds for _, seconds in ran) >= 3.0
    assert _worker_invocations(local) >= len(local.door.invocations)


def test_suspended_then_resumed_with_a_typed_answer(http):
    record = http("POST", "/approval/run-durable", body={"item": "invoice 7"}).json()
    waiting = http.until(record["links"]["self"], lambda r: r["status"] in ("waiting", *TERMINAL))
    assert waiting["status"] == "waiting", waiting
    assert waiting["waiting"] == {"kind": "approval", "message": "Approve invoice 7?"}

    assert http("POST", record["links"]["resume"], body={"approved": "perhaps"}).status == 422
    resumed = http("POST", record["links"]["resume"], body={"approved": True, "note": "fine"})
    assert resumed.status == 202, resumed.body
    done = http.until(record["links"]["self"], lambda r: r["status"] in TERMINAL)
    assert done["status"] == "completed", done
    assert done["result"] == {"item": "invoice 7", "approved": True, "note": "fine"}
    assert done["attempt"] == 2
    assert http("POST", record["links"]["resume"], body={"approved": True}).status == 409  # not waiting


def test_raises_once_and_is_retried(http):
    record = http("POST", "/flaky/run-durable", body={"value": 4}).json()
    done = http.until(record["links"]["self"], lambda r: r["status"] in TERMINAL)
    assert done["status"] == "completed", done
    assert done["result"] == {"value": 8, "attempt": 2} and done["attempt"] == 2 and done["error"] is None


def test_idempotent_resubmission(local, http):
    body = {"steps": 1, "seconds": 0}
    started = len(local.door.started)
    first = http("POST", "/steps/run-durable", body=body, headers={"Idempotency-Key": "e2e-1"})
    again = http("POST", "/steps/run-durable", body=body, headers={"Idempotency-Key": "e2e-1"})
    assert first.status == 202 and "idempotent-replay" not in first.headers
    assert again.status in (200, 202) and again.headers["idempotent-replay"] == "true"
    assert again.json()["execution_id"] == first.json()["execution_id"]
    assert len(local.door.started) == started + 1  # one Invoke reached Lambda
    other = http("POST", "/steps/run-durable", body={"steps": 2, "seconds": 0}, headers={"Idempotency-Key": "e2e-1"})
    assert other.status == 409
    done = http.until(first.json()["links"]["self"], lambda r: r["status"] in TERMINAL)
    assert done["status"] == "completed" and done["result"] == {"done": 1}


def test_cancel_of_a_running_execution(http):
    record = http("POST", "/steps/run-durable", body={"steps": 5, "seconds": 1.0}).json()
    running = http.until(record["links"]["self"], lambda r: r["status"] != "queued")
    assert running["status"] == "running", running
    canceled = http("POST", record["links"]["cancel"])
    assert canceled.status == 200, canceled.body
    assert canceled.json()["status"] == "canceled" and canceled.json()["cancellation_requested_at"]
    time.sleep(1.5)  # the attempt in the emulator goes on until its step ends: the execution stays canceled
    after = http("GET", record["links"]["self"]).json()
    assert after["status"] == "canceled" and after["result"] is None


def test_unknown_and_malformed_ids(http):
    unknown = "0" * 32
    assert http("GET", f"/steps/executions/{unknown}").status == 404
    assert http("POST", f"/steps/executions/{unknown}/cancel").status == 404
    assert http("POST", f"/approval/executions/{unknown}/resume", body={"approved": True}).status == 404
    assert http("GET", "/steps/executions/not%20an%20id").status == 422


@pytest.mark.slow
def test_a_35_second_run_completes_while_no_invocation_lasts_10_seconds(local, http):
    """35 one-second steps on a worker whose invocations the emulator ends after 10 s: checkpoint() near the
    deadline continues the run in the next invocation. The HTTP function is asked every second meanwhile."""
    before = len(local.door.invocations)
    requests_before = len(http.durations)
    started = time.monotonic()
    record = http("POST", "/long/run-durable", body={"steps": 35, "seconds": 1.0}).json()
    statuses = set()
    while record["status"] not in TERMINAL and time.monotonic() - started < 120:
        time.sleep(1.0)
        record = http("GET", record["links"]["self"]).json()
        statuses.add(record["status"])
    elapsed = time.monotonic() - started

    worker = [seconds for _, seconds in local.door.invocations[before:]]
    assert record["status"] == "completed", (record, worker)
    assert record["result"]["done"] == 35 and record["result"]["attempts"] >= 4
    assert record["error"] is None and len(record["progress"]) == 35
    assert statuses <= {"queued", "running", "completed"}  # a continuation is not a retry
    assert elapsed >= 35
    timed_out = [line for log in local.logs.glob("worker-*.log") for line in log.read_text().splitlines()]
    timed_out = [line for line in timed_out if "timed out" in line.lower() or "Timedout" in line]
    assert len(worker) >= 4 and max(worker) < WORKER_TIMEOUT_S and not timed_out, (worker, timed_out)
    requests = http.durations[requests_before:]
    assert len(requests) >= 15 and max(requests) < 10, requests  # polled all along (each poll ~1 s under load)
    print(
        f"\n35 s run: {elapsed:.1f} s, {len(worker)} worker invocations (longest {max(worker):.1f} s), "
        f"{len(requests)} HTTP requests (longest {max(requests):.2f} s)"
    )
