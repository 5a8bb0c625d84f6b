"""The durable worker under the durable SDK's local runner (DurableFunctionTestRunner): attempts as steps,
retries as waits, suspension as a callback answered with a typed resume."""

from __future__ import annotations

import json
import time

import pytest

pytest.importorskip("aws_durable_execution_sdk_python_testing", reason="in requirements-dev.lock")

from aws_durable_execution_sdk_python.execution import InvocationStatus
from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner

from handler.durable_worker import DurableWorker, retry_delay_seconds
from tests.fixtures.durable_wrappers.wrappers import wrapper_for


def _input(pipeline: str, request: dict) -> str:
    return json.dumps({"pipeline": pipeline, "execution_id": "e" * 32, "request": request})


def _step_result(result, name: str) -> dict:
    return json.loads(result.get_step(name).result)


@pytest.fixture
def runner():
    with DurableFunctionTestRunner(handler=DurableWorker(wrapper_for)) as runner:
        yield runner


def test_three_one_second_steps_report_progress(runner):
    started = time.monotonic()
    result = runner.run(input=_input("steps", {"steps": 3, "seconds": 1.0}), execution_timeout=60)
    elapsed = time.monotonic() - started

    assert result.status is InvocationStatus.SUCCEEDED
    assert json.loads(result.result) == {"result": {"done": 3}}
    attempt = _step_result(result, "attempt-1")
    assert [event["message"] for event in attempt["progress"]] == ["step 1 of 3", "step 2 of 3", "step 3 of 3"]
    assert [event["metadata"] for event in attempt["progress"]] == [{"step": 1}, {"step": 2}, {"step": 3}]
    assert elapsed >= 3.0  # the steps really ran


def test_suspend_then_resume_with_a_typed_answer(runner):
    arn = runner.run_async(input=_input("approval", {"item": "invoice 7"}), execution_timeout=60)
    callback_id = runner.wait_for_callback(arn, name="resume-1", timeout=30)
    runner.send_callback_success(callback_id, json.dumps({"approved": True, "note": "ok"}).encode())
    result = runner.wait_for_result(arn, timeout=30)

    assert result.status is InvocationStatus.SUCCEEDED
    assert json.loads(result.result) == {"result": {"item": "invoice 7", "approved": True, "note": "ok"}}
    first = _step_result(result, "attempt-1")
    assert first["kind"] == "suspended"
    assert first["wait"] == {"kind": "approval", "message": "Approve invoice 7?"}
    assert first["state"] == {"asked": True}
    second = _step_result(result, "attempt-2")
    assert second["kind"] == "completed" and second["progress"][0]["kind"] == "approval"


def test_raises_once_and_is_retried_after_a_durable_wait(runner):
    result = runner.run(input=_input("flaky", {"value": 21}), execution_timeout=60)

    assert result.status is InvocationStatus.SUCCEEDED
    assert json.loads(result.result) == {"result": {"value": 42, "attempt": 2}}
    assert _step_result(result, "attempt-1")["kind"] == "retry"
    assert _step_result(result, "attempt-1")["state"] == {"failed_once": True}  # committed by checkpoint()
    assert result.get_wait("retry-1") is not None


def test_a_failure_is_recorded_by_type_without_its_message(runner):
    result = runner.run(input=_input("fails", {"value": 1}), execution_timeout=60)

    assert result.status is InvocationStatus.FAILED
    record = json.loads(result.error.message)
    assert record == {"type": "KeyError", "message": "Durable execution failed", "retryable": False, "code": None}
    assert "secret" not in json.dumps(_step_result(result, "attempt-1"))


@pytest.mark.parametrize(("requested", "retries", "expected"), [(0.1, 0, 1), (2.5, 0, 3), (None, 2, 4), (500, 0, 60)])
def test_retry_delays_are_whole_seconds_of_at_least_one(requested, retries, expected):
    assert retry_delay_seconds(requested, retries) == expected


def test_a_run_longer_than_one_invocation_continues_at_checkpoints(monkeypatch):
    """A 6 s run on a worker whose invocations time out after 2 s: checkpoint() near the deadline ends the
    attempt as a continuation, and the next invocation goes on from the committed state."""
    from tests.durable_lambda import TimedInvocations

    monkeypatch.setenv("HAYHOOKS_DURABLE_CONTINUE_MARGIN_MS", "300")
    worker = TimedInvocations(DurableWorker(wrapper_for), timeout_s=2)
    with DurableFunctionTestRunner(handler=worker, invocation_timeout=2) as runner:
        started = time.monotonic()
        result = runner.run(input=_input("long", {"steps": 12, "seconds": 0.5}), execution_timeout=60)
        elapsed = time.monotonic() - started

    assert result.status is InvocationStatus.SUCCEEDED, result.error
    final = json.loads(result.result)["result"]
    assert final["done"] == 12 and final["attempts"] >= 4  # 6 s of work cannot fit in fewer 2 s invocations
    kinds = [_step_result(result, f"attempt-{n}")["kind"] for n in range(1, final["attempts"] + 1)]
    assert kinds == ["continue"] * (final["attempts"] - 1) + ["completed"]
    assert result.get_wait("continue-1") is not None
    steps = [_step_result(result, f"attempt-{n}")["state"]["done"] for n in range(1, final["attempts"])]
    assert steps == sorted(steps) and steps[0] >= 1  # each attempt went on from the last committed step
    assert len(worker.durations) >= 4 and max(worker.durations) < 2.0  # no invocation ran into its timeout
    assert elapsed >= 6.0


def test_with_time_left_a_checkpoint_does_not_end_the_attempt(runner):
    result = runner.run(input=_input("long", {"steps": 3, "seconds": 0}), execution_timeout=60)
    assert json.loads(result.result) == {"result": {"done": 3, "attempts": 1}}


def test_the_templates_handler_loads_the_pipelines_in_durable_mode_when_read(monkeypatch):
    """`handler.durable_worker.lambda_handler` (the template's Handler): reading it loads the pipelines folder
    with durable mode on, whatever HAYHOOKS_DURABLE_MODE says, and runs an execution of one of them."""
    import handler.durable_worker as module
    from tests.core.test_durable_mode import DURABLE_PIPELINES

    monkeypatch.setenv("HAYHOOKS_PIPELINES_DIR", str(DURABLE_PIPELINES))
    monkeypatch.delenv("HAYHOOKS_DURABLE_MODE", raising=False)
    monkeypatch.setattr("core.settings._in_use", None)  # the worker sets the settings in use: undone after
    monkeypatch.delitem(module.__dict__, "lambda_handler", raising=False)
    worker = module.lambda_handler
    assert module.lambda_handler is worker  # built once
    with DurableFunctionTestRunner(handler=worker) as runner:
        result = runner.run(input=_input("steps", {"steps": 1, "seconds": 0}), execution_timeout=60)
    assert json.loads(result.result) == {"result": {"done": 1}}
    monkeypatch.delitem(module.__dict__, "lambda_handler")


def test_the_workers_cold_start_prepares_imports_as_the_http_functions_does():
    """Reading the worker's `lambda_handler` in a fresh process (Lambda's init): NetworkX stays light and
    posthog unexecuted, as on the HTTP function (handler.prepare_imports)."""
    import subprocess
    import sys

    from tests.cold import ROOT, clean_env
    from tests.core.test_durable_mode import DURABLE_PIPELINES

    code = (
        "import json, sys\n"
        "import handler.durable_worker as worker\n"
        "worker.lambda_handler\n"
        "from core.light_packages import is_light\n"
        "print(json.dumps([is_light(sys.modules.get('networkx')), 'posthog.client' in sys.modules]))\n"
    )
    env = clean_env(PYTHONPATH=str(ROOT), HAYHOOKS_PIPELINES_DIR=str(DURABLE_PIPELINES))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [True, False]
