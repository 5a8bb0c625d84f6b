"""The invocation's remaining time (core/deadline.py): a JSON 504 naming the pipeline before Lambda's timeout,
through the handler and on its own."""

import asyncio
import signal
import time

import pytest

from core.deadline import Deadline, budget_seconds
from infra.lambda_events import Context, assert_still_serving, http_v2


@pytest.mark.parametrize("pipeline", ["slow", "slow_async"])
def test_pipeline_out_of_time_answers_504_and_the_function_keeps_serving(invoke, fixture_handler, pipeline):
    started = time.monotonic()
    reply = invoke(http_v2("POST", f"/{pipeline}/run", body={"seconds": 5}), context=Context(remaining_ms=1500))
    elapsed = time.monotonic() - started
    assert reply.status == 504
    assert reply.json() == {
        "detail": f"Pipeline '{pipeline}' did not finish within the time this invocation had left (1000 ms): "
        "raise the function timeout or make the pipeline faster"
    }
    assert 0.9 < elapsed < 2.5
    assert invoke(http_v2("POST", f"/{pipeline}/run", body={"seconds": 0.01})).json() == {"result": "done"}
    assert_still_serving(fixture_handler)


def test_a_pipelines_own_timeout_error_is_a_500_not_a_504(invoke):
    reply = invoke(http_v2("POST", "/slow/run", body={"seconds": 0, "own_timeout": True}))
    assert reply.status == 500
    assert reply.json() == {"detail": "Pipeline execution failed: the vector store did not answer"}


def test_chat_completion_out_of_time_is_504(invoke, fixture_handler):
    event = http_v2(
        "POST", "/v1/chat/completions", body={"model": "chat_slow", "messages": [{"role": "user", "content": "hi"}]}
    )
    reply = invoke(event, context=Context(remaining_ms=1500))
    assert reply.status == 504
    assert reply.json() == {
        "detail": "Pipeline 'chat_slow' did not finish within the time this invocation had left (1000 ms): "
        "raise the function timeout or make the pipeline faster"
    }
    assert_still_serving(fixture_handler)


class _Lambda:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_budget_is_the_remaining_time_less_the_margin_and_none_off_lambda():
    assert budget_seconds({}, margin_ms=500) is None  # make run: nothing is limited
    assert budget_seconds({"aws.context": object()}, margin_ms=500) is None
    assert budget_seconds({"aws.context": _Lambda(3000)}, margin_ms=500) == 2.5
    assert budget_seconds({"aws.context": _Lambda(200)}, margin_ms=500) == 0.001  # already late: expire at once


def _limited(deadline: Deadline, work) -> None:
    async def main() -> None:
        async with deadline.limit():
            await work()

    asyncio.run(main())


def test_a_call_past_its_deadline_is_cut_short_and_marked_expired():
    deadline = Deadline(0.05)
    started = time.monotonic()
    _limited(deadline, lambda: asyncio.sleep(5))
    assert deadline.expired and time.monotonic() - started < 1


def test_a_blocking_call_is_interrupted_by_the_alarm_even_when_it_swallows_exceptions():
    def blocking() -> None:
        until = time.monotonic() + 5
        while time.monotonic() < until:
            try:
                time.sleep(0.01)
            except Exception:  # a wrapper's broad except must not keep it running
                pass

    async def work() -> None:
        blocking()

    deadline = Deadline(0.05)
    started = time.monotonic()
    _limited(deadline, work)
    assert deadline.expired and time.monotonic() - started < 1
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # disarmed afterwards


def test_no_deadline_and_a_fast_call_leave_it_unexpired():
    for seconds in (None, 5):
        deadline = Deadline(seconds)
        _limited(deadline, lambda: asyncio.sleep(0))
        assert not deadline.expired


def test_a_timeout_error_of_the_pipelines_own_is_not_the_deadline():
    async def own_timeout() -> None:
        raise TimeoutError("the vector store did not answer")

    deadline = Deadline(5)
    with pytest.raises(TimeoutError, match="vector store"):
        _limited(deadline, own_timeout)
    assert not deadline.expired


def test_the_detail_names_the_pipeline_and_the_time_it_had():
    assert Deadline(1.25).detail("rag") == (
        "Pipeline 'rag' did not finish within the time this invocation had left (1250 ms): "
        "raise the function timeout or make the pipeline faster"
    )
