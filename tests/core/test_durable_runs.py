"""The record projected from a Lambda durable execution and its history, without the SDK."""

from __future__ import annotations

import json

from core.durable_runs import LambdaDurableRuns, execution_id_for, fingerprint, pending_callback, project


def _step(name: str, outcome: dict) -> dict:
    return {
        "EventType": "StepSucceeded", "Id": name, "Name": name,
        "StepSucceededDetails": {"Result": {"Payload": json.dumps(outcome)}},
    }  # fmt: skip


def test_the_same_key_gives_the_same_id_per_pipeline_and_no_key_a_fresh_one():
    assert execution_id_for("a", "k") == execution_id_for("a", "k") != execution_id_for("b", "k")
    assert execution_id_for("a", None) != execution_id_for("a", None)
    assert fingerprint("a", {"x": 1, "y": 2}) == fingerprint("a", {"y": 2, "x": 1}) != fingerprint("a", {"x": 2})


def test_the_worker_is_called_through_its_alias():
    runs = LambdaDurableRuns("arn:aws:lambda:eu-west-1:1:function:worker:live", client=object())
    assert (runs.function_name, runs.qualifier) == ("arn:aws:lambda:eu-west-1:1:function:worker", "live")


def test_a_pending_callback_is_waiting_and_an_answered_one_is_not():
    started = {"EventType": "CallbackStarted", "Id": "c1", "CallbackStartedDetails": {"CallbackId": "cb-1"}}
    assert pending_callback([started]) == "cb-1"
    assert pending_callback([started, {"EventType": "CallbackSucceeded", "Id": "c1"}]) is None


def test_a_retry_wait_is_queued_with_hayhooks_retry_error():
    events = [
        {"EventType": "StepStarted", "Id": "attempt-1", "Name": "attempt-1"},
        _step("attempt-1", {"kind": "retry", "attempt": 1, "progress": [], "chunks": [], "state": {}}),
        {"EventType": "WaitStarted", "Id": "retry-1", "Name": "retry-1"},
    ]
    record = project("id1", {"Status": "RUNNING"}, events, {})
    assert record["status"] == "queued" and record["attempt"] == 1
    assert record["error"] == {
        "type": "RetryRequestedError",
        "message": "retry requested",
        "retryable": True,
        "code": None,
    }
