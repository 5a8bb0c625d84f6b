"""One attempt of a durable method, without the durable SDK: outcomes, committed state, the resume answer."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from core import BasePipelineWrapper, DurableContext, current_durable_context
from core.durable_attempt import DurableRunnerError, durable_runner, run_attempt
from tests.fixtures.durable_wrappers.wrappers import wrapper_for


def _run(name: str, request: dict, **carried):
    carried.setdefault("attempt", 1)
    carried.setdefault("state", {})
    return run_attempt(wrapper_for(name), request, execution_id="x1", **carried)


def test_a_completed_attempt_carries_its_result_and_progress():
    outcome = _run("steps", {"steps": 2, "seconds": 0})
    assert outcome["kind"] == "completed" and outcome["result"] == {"done": 2}
    assert [event["message"] for event in outcome["progress"]] == ["step 1 of 2", "step 2 of 2"]
    assert outcome["progress"][0]["timestamp"].endswith("Z")


def test_suspend_commits_its_update_and_the_wait():
    outcome = _run("approval", {"item": "a"})
    assert outcome["kind"] == "suspended"
    assert outcome["wait"] == {"kind": "approval", "message": "Approve a?"}
    assert outcome["state"] == {"asked": True}


def test_the_resume_answer_reaches_the_next_attempt_and_a_bad_one_fails_it():
    done = _run("approval", {"item": "a"}, attempt=2, resume_input={"approved": False, "note": "no"})
    assert done["kind"] == "completed" and done["result"] == {"item": "a", "approved": False, "note": "no"}
    bad = _run("approval", {"item": "a"}, attempt=2, resume_input={"approved": "perhaps"})
    assert bad["kind"] == "failed" and bad["error"]["type"] == "ValidationError"


def test_retry_keeps_only_the_committed_state():
    outcome = _run("flaky", {"value": 1})
    assert outcome["kind"] == "retry" and outcome["delay"] == 0.1
    assert outcome["state"] == {"failed_once": True}
    assert _run("flaky", {"value": 1}, attempt=2, state=outcome["state"])["result"] == {"value": 2, "attempt": 2}


def test_state_changed_without_a_checkpoint_is_not_committed():
    class Forgets(BasePipelineWrapper):
        def setup(self) -> None:
            self.pipeline = None

        def run_durable(self, context: DurableContext, request: Req) -> None:
            context.state["lost"] = True
            raise RuntimeError("boom")

    outcome = run_attempt(Forgets(), {}, execution_id="x", attempt=1, state={"kept": 1})
    assert outcome["state"] == {"kept": 1}
    assert outcome["error"] == {
        "type": "RuntimeError",
        "message": "Durable execution failed",
        "retryable": False,
        "code": None,
    }


def test_the_context_is_current_inside_the_attempt_only():
    seen = []

    class Looks(BasePipelineWrapper):
        def setup(self) -> None:
            self.pipeline = None

        def run_durable(self, context: DurableContext, request: Req) -> dict:
            seen.append(current_durable_context() is context)
            from core import durable_streaming_callback

            durable_streaming_callback({"text": "hi"})
            return {}

    outcome = run_attempt(Looks(), {}, execution_id="x", attempt=1, state={})
    assert seen == [True] and current_durable_context() is None
    assert outcome["chunks"] == [{"text": "hi"}]


class Req(BaseModel):
    pass


def test_a_method_without_hayhooks_shape_is_refused():
    class NoModel(BasePipelineWrapper):
        def setup(self) -> None: ...

        def run_durable(self, context: DurableContext, request: dict) -> None: ...

    with pytest.raises(DurableRunnerError, match="Pydantic model"):
        durable_runner(NoModel())
