"""This project's durable routes answer the recorded scenario (tests/durable_parity.py) as Hayhooks 2.1.0 did in
durable mode (tests/fixtures/durable_parity/, recorded by tests/record_hayhooks_durable.py): the same status
codes, keys, states, results, error records and details, but for the differences listed in ALLOWED (the README's
"Durable runs" section lists them too). Ids and timestamps are masked on both sides."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("aws_durable_execution_sdk_python_testing", reason="in requirements-dev.lock")

from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner
from fastapi.testclient import TestClient

from core.app import create_app
from core.durable_runs import LambdaDurableRuns
from core.loader import load_registry
from handler.durable_worker import DurableWorker
from tests.cold import ROOT
from tests.core.test_durable_mode import WORKER, durable_settings
from tests.durable_lambda import LocalDurableLambda
from tests.durable_parity import Recorder, run_scenario
from tests.fixtures.durable_wrappers.wrappers import wrapper_for

RECORDING = ROOT / "tests" / "fixtures" / "durable_parity" / "hayhooks-2.1.0.json"

# name of the exchange -> what may differ, and why
ALLOWED = {
    # Hayhooks answers before a worker claimed the run; here the record is read back from Lambda after the
    # Invoke, and the worker may have started already
    "submit": {"status": {"queued", "running"}, "attempt": {0, 1}},
    "submit long": {"status": {"queued", "running"}, "attempt": {0, 1}},
    "submit approval": {"status": {"queued", "running"}, "attempt": {0, 1}},
    "submit flaky": {"status": {"queued", "running"}, "attempt": {0, 1}},
    "submit failing": {"status": {"queued", "running"}, "attempt": {0, 1}},
    "idempotent first": {"status": {"queued", "running"}, "attempt": {0, 1}},
    # a replay answers 200 once the run ended, 202 before: whether it has ended by then is timing
    "idempotent replay": {
        "status_code": {200, 202},
        "status": {"queued", "running", "completed"},
        "attempt": {0, 1},
        "unfinished": True,  # then no result nor progress yet
    },
    # cancel is StopDurableExecution: the run is canceled when the answer is given (Hayhooks: 202, running, and
    # canceled once the wrapper checks), so the steps Hayhooks let run to their end are not run here
    "cancel running": {"status_code": {200}, "status": {"canceled"}},
    "status canceled": {"progress": "fewer"},
    "cancel canceled": {"progress": "fewer"},
    # after a resume the next attempt may already run
    "resume": {"status": {"queued", "running"}, "attempt": {1, 2}},
}
ALLOWED_EVERYWHERE = {
    "sequence",  # Hayhooks counts its store's events; here the execution history's events
}


@pytest.fixture(scope="module")
def ours():
    settings = durable_settings()
    with DurableFunctionTestRunner(handler=DurableWorker(wrapper_for)) as runner:
        runs = LambdaDurableRuns(WORKER, client=LocalDurableLambda(runner))
        app = create_app(settings, load_registry(settings), durable_runs=runs)
        with TestClient(app) as client:
            yield {e["name"]: e for e in run_scenario(Recorder(client))}


@pytest.fixture(scope="module")
def recorded():
    return {e["name"]: e for e in json.loads(RECORDING.read_text())["exchanges"]}


def test_the_recording_is_hayhooks_2_1_0_and_covers_the_scenario(recorded, ours):
    assert json.loads(RECORDING.read_text())["hayhooks"] == "2.1.0"
    assert list(recorded) == list(ours) and len(recorded) >= 25


def _check(name: str, theirs: dict, mine: dict) -> list[str]:
    allowed = ALLOWED.get(name, {})
    problems = []
    codes = allowed.get("status_code", {theirs["status_code"]})
    if mine["status_code"] not in codes:
        problems.append(f"status code {mine['status_code']} (Hayhooks {theirs['status_code']})")
    if theirs["headers"].get("idempotent-replay") != mine["headers"].get("idempotent-replay"):
        problems.append("Idempotent-Replay header")
    if ("location" in theirs["headers"]) != ("location" in mine["headers"]):
        problems.append("Location header")
    a, b = theirs["body"], mine["body"]
    if isinstance(a, dict) and "execution_id" in a:
        if set(a) != set(b):
            problems.append(f"record keys {sorted(set(a) ^ set(b))}")
        for key in ("status", "attempt"):
            if b.get(key) not in allowed.get(key, {a[key]}):
                problems.append(f"{key} {b.get(key)!r} (Hayhooks {a[key]!r})")
        unfinished = allowed.get("unfinished") and b.get("status") not in ("completed", "failed", "canceled")
        for key in ("error", "waiting", "links") if unfinished else ("result", "error", "waiting", "links"):
            if a[key] != b.get(key):
                problems.append(f"{key} {b.get(key)!r} (Hayhooks {a[key]!r})")
        if (a["cancellation_requested_at"] is None) != (b.get("cancellation_requested_at") is None):
            problems.append("cancellation_requested_at")
        theirs_progress = [(p["kind"], p["message"]) for p in a["progress"]]
        mine_progress = [(p["kind"], p["message"]) for p in b.get("progress", [])]
        if allowed.get("progress") == "fewer" or unfinished:
            if mine_progress != theirs_progress[: len(mine_progress)]:
                problems.append(f"progress {mine_progress}")
        elif mine_progress != theirs_progress:
            problems.append(f"progress {mine_progress} (Hayhooks {theirs_progress})")
        if a["progress"] and b.get("progress") and set(a["progress"][0]) != set(b["progress"][0]):
            problems.append("progress event keys")
    elif isinstance(a, dict) and "sse" in a:
        named = [e for e in a["sse"] if "event" in e]
        if named != [e for e in b.get("sse", []) if "event" in e]:
            problems.append(f"events {b.get('sse')} (Hayhooks {a['sse']})")
    elif isinstance(a, dict) and isinstance(a.get("detail"), list):
        shape = [(d["type"], d["loc"]) for d in a["detail"]]
        if shape != [(d["type"], d["loc"]) for d in b["detail"]]:
            problems.append(f"detail {b['detail']} (Hayhooks {a['detail']})")
    elif a != b:
        problems.append(f"body {b!r} (Hayhooks {a!r})")
    return problems


def test_every_answer_is_hayhooks_but_for_the_allowed_differences(recorded, ours):
    problems = {name: found for name in recorded if (found := _check(name, recorded[name], ours[name]))}
    assert problems == {}


def test_the_allowed_differences_are_the_readmes():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Durable runs", 1)[1].split("\n## ", 1)[0]
    for name in ("StopDurableExecution", "sequence", "Idempotent-Replay", "execution_enumeration"):
        assert name in section
