"""core/invocation.py: resolving, calling (inline, thread pool, awaited), the deadline, and the typed
errors every entry maps to its own answer."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import HTTPException
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.app_services import AppServices, attach
from core.invocation import (
    Chunks,
    DeadlineExpired,
    InvocationError,
    Invoker,
    NotImplementedByPipeline,
    PipelineFailed,
    PipelineNotFound,
    PipelineUnavailable,
    Target,
    WrapperRefused,
    invoke,
    target_of,
)
from core.registry import FailedPipeline, LoadedPipeline, Registry
from core.request_context import current_pipeline
from core.run_spec import build_run_spec
from core.wrapper import BasePipelineWrapper, implements
from tests.conftest import fixture_settings


class Chat(BasePipelineWrapper):
    def setup(self) -> None:
        pass

    def run_chat_completion(self, model: str, messages: list[dict], body: dict, headers: Any = None) -> Any:
        return {"thread": threading.current_thread().name, "model": model, "headers": headers}


class AsyncChat(Chat):
    async def run_chat_completion_async(self, model: str, messages: list[dict], body: dict) -> Any:
        return "async"


class Echo(BasePipelineWrapper):
    def setup(self) -> None:
        pass

    def run_api(self, text: str) -> str:
        return text


class Uploads(BasePipelineWrapper):
    def setup(self) -> None:
        pass

    def run_api(self, text: str) -> str:
        return text

    async def run_file_upload(self, filename: str | None, content_type: str | None, content: bytes, purpose: str):
        return {"filename": filename}


def loaded(name: str, wrapper: Any) -> LoadedPipeline:
    run = build_run_spec(name, wrapper.run_api, is_async=False) if implements(type(wrapper), "run_api") else None
    return LoadedPipeline(name, "wrapper", Path(name), wrapper, run, 0.0)


def registry_of(*pipelines: LoadedPipeline) -> Registry:
    return Registry(loaded={p.name: p for p in pipelines})


def lambda_scope(remaining_ms: int) -> dict[str, Any]:
    return {"aws.context": SimpleNamespace(get_remaining_time_in_millis=lambda: remaining_ms)}


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


# resolving


def test_resolve_answers_hayhooks_404_and_503_and_501():
    registry = registry_of(loaded("chat", Chat()))
    registry.failed["broken"] = FailedPipeline("broken", "wrapper", Path("broken"), "setup", "boom")
    invoker = Invoker(registry, inline=True, margin_ms=0)
    with pytest.raises(PipelineNotFound) as missing:
        run(invoker.resolve("nope", "chat"))
    assert (missing.value.status_code, missing.value.detail) == (
        404,
        "Pipeline 'nope' not found or not a pipeline wrapper",
    )
    with pytest.raises(PipelineUnavailable) as broken:
        run(invoker.resolve("broken", "chat"))
    assert (broken.value.status_code, broken.value.detail) == (503, "Pipeline 'broken' failed to load: boom")
    with pytest.raises(NotImplementedByPipeline) as responses:
        run(invoker.resolve("chat", "responses"))
    assert (responses.value.status_code, responses.value.detail) == (
        501,
        "Responses endpoint not implemented for this model",
    )
    with pytest.raises(NotImplementedByPipeline, match="does not implement run_api"):
        run(invoker.resolve("chat", "run"))


def test_resolve_loads_a_pending_pipeline_first():
    registry = Registry(pending={"later": "candidate"}, load=lambda candidate: loaded("later", Chat()))
    target = run(Invoker(registry, inline=True, margin_ms=0).resolve("later", "chat"))
    assert target.pipeline == "later" and "later" in registry.loaded and not registry.pending


def test_the_async_method_wins_and_headers_are_read_from_the_signature():
    sync = target_of(loaded("a", Chat()), "chat")
    assert (sync.is_async, sync.takes_headers) == (False, True)
    both = target_of(loaded("b", AsyncChat()), "chat")
    assert (both.method.__name__, both.is_async, both.takes_headers) == ("run_chat_completion_async", True, False)
    upload = target_of(loaded("c", Uploads()), "file_upload")
    assert upload.is_async  # `async def run_file_upload` is awaited
    run_target = target_of(loaded("d", Echo()), "run")
    assert (run_target.method.__name__, run_target.is_async) == ("run_api", False)


# calling


def test_sync_methods_run_on_the_loop_inline_and_in_a_worker_thread_otherwise():
    registry = registry_of(loaded("chat", Chat()))

    async def thread(inline: bool) -> str:
        invoker = Invoker(registry, inline=inline, margin_ms=0)
        target = await invoker.resolve("chat", "chat")
        return (await invoker.call(target, {"model": "chat", "messages": [], "body": {}}))["thread"]

    assert run(thread(True)) == threading.current_thread().name
    assert run(thread(False)) != threading.current_thread().name


def test_headers_reach_only_a_method_that_takes_them():
    invoker = Invoker(None, inline=True, margin_ms=0)
    takes = target_of(loaded("a", Chat()), "chat")
    kwargs = {"model": "a", "messages": [], "body": {}}
    assert run(invoker.call(takes, kwargs, headers={"x": "1"}))["headers"] == {"x": "1"}
    takes_not = target_of(loaded("b", AsyncChat()), "chat")
    assert run(invoker.call(takes_not, kwargs, headers={"x": "1"})) == "async"  # no TypeError: not passed


# the guard: failures and the deadline


def guarded(invoker: Invoker, target: Target, scope: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    async def go() -> Any:
        async with invoker.guard(target.pipeline, scope):
            return await invoker.call(target, kwargs)

    return run(go())


def target(fn: Any, *, is_async: bool = False) -> Target:
    return Target("p", fn, is_async, False)


def test_a_raising_wrapper_is_pipeline_failed_with_the_message_masked(caplog):
    def fails() -> None:
        raise ValueError("cannot connect with api_key=abcd1234efgh")

    with caplog.at_level("ERROR", logger="core.invocation"), pytest.raises(PipelineFailed) as failed:
        guarded(Invoker(None, inline=True, margin_ms=0), target(fails))
    assert failed.value.status_code == 500
    assert failed.value.detail == "Pipeline execution failed: cannot connect with api_key=***"
    assert "abcd1234efgh" not in failed.value.traceback() and "in fails" in failed.value.traceback()
    assert [r.getMessage() for r in caplog.records] == ["Pipeline 'p' failed"]


def test_sys_exit_in_a_wrapper_is_a_failure_not_the_end_of_the_environment():
    def exits() -> None:
        raise SystemExit(3)

    with pytest.raises(PipelineFailed) as failed:
        guarded(Invoker(None, inline=True, margin_ms=0), target(exits))
    assert failed.value.detail == "Pipeline execution failed: 3"


def test_the_wrappers_own_http_exception_is_its_answer_masked():
    raised = HTTPException(status_code=418, detail="no tea: token=abcdef123456", headers={"x-tea": "none"})

    def refuses() -> None:
        raise raised

    with pytest.raises(WrapperRefused) as refused:
        guarded(Invoker(None, inline=False, margin_ms=0), target(refuses))
    assert refused.value.exception is raised and refused.value.status_code == 418
    assert raised.detail == refused.value.detail == "no tea: token=***"


def test_starlettes_http_exception_is_a_failure_as_in_hayhooks():
    def raises() -> None:
        raise StarletteHTTPException(status_code=404, detail="gone")

    with pytest.raises(PipelineFailed, match="Pipeline execution failed: 404: gone"):
        guarded(Invoker(None, inline=True, margin_ms=0), target(raises))


@pytest.mark.parametrize("is_async", [False, True])
def test_past_the_deadline_is_deadline_expired_whatever_the_wrapper_does(is_async, caplog):
    def blocks() -> str:
        try:
            time.sleep(2)
        except BaseException:  # a bare except swallowing the deadline: the alarm repeats
            time.sleep(2)
        return "late"

    async def sleeps() -> str:
        await asyncio.sleep(2)
        return "late"

    invoker = Invoker(None, inline=True, margin_ms=500)
    started = time.perf_counter()
    with pytest.raises(DeadlineExpired) as expired:
        guarded(invoker, target(sleeps if is_async else blocks, is_async=is_async), lambda_scope(600))
    assert time.perf_counter() - started < 1.5
    assert expired.value.status_code == 504
    assert expired.value.detail.startswith(
        "Pipeline 'p' did not finish within the time this invocation had left (100 ms)"
    )


def test_a_repeat_alarm_landing_in_the_limits_own_exit_is_still_a_504(monkeypatch):
    """The alarm repeats every 50 ms until the limit disarms it; on a loaded machine a repeat can fire in
    the limit's context-manager exit, after its own catch: the guard still answers 504, not a bare crash."""
    import contextlib

    from core import invocation
    from core.deadline import DeadlineExceeded

    class LateRepeat(invocation.Deadline):
        @contextlib.asynccontextmanager
        async def limit(self):
            yield
            self.expired = True
            raise DeadlineExceeded  # as the repeat would, outside the limit's try

    monkeypatch.setattr(invocation, "Deadline", LateRepeat)
    with pytest.raises(DeadlineExpired) as expired:
        guarded(Invoker(None, inline=True, margin_ms=500), target(lambda: "on time"), lambda_scope(600))
    assert expired.value.status_code == 504


def test_off_lambda_nothing_is_limited():
    invoker = Invoker(None, inline=True, margin_ms=500)
    assert invoker.budget(None) is None and invoker.budget({}) is None
    assert invoker.budget(lambda_scope(2500)) == 2.0
    assert guarded(invoker, target(lambda: "done"), {}) == "done"


# streams and invoke()


def words() -> Iterator[str]:
    yield from ("a", "b")


async def async_words() -> AsyncIterator[str]:
    for word in ("a", "b"):
        yield word


class Streams(BasePipelineWrapper):
    def setup(self) -> None:
        pass

    def run_chat_completion(self, model: str, messages: list[dict], body: dict) -> Any:
        return {"sync": words(), "async": async_words(), "list": ["a", "b"], "broken": self.broken()}[body["kind"]]

    def broken(self) -> Iterator[str]:
        yield "a"
        raise RuntimeError("half-way")


def app_of(registry: Registry, *, inline: bool = True) -> Any:
    app = SimpleNamespace(state=SimpleNamespace())
    attach(app, AppServices(fixture_settings(timeout_margin_ms=500), registry, sync_inline=inline, api_keys=()))  # type: ignore[arg-type]
    return app


@pytest.mark.parametrize("inline", [True, False])
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_invoke_gathers_a_stream_whole_and_names_the_request(kind, inline):
    app = app_of(registry_of(loaded("streams", Streams())), inline=inline)
    scope: dict[str, Any] = {}

    async def go() -> Any:
        result = await invoke(
            app, "streams", "chat", {"model": "m", "messages": [], "body": {"kind": kind}}, scope=scope
        )
        return result, current_pipeline.get()

    result, named = run(go())
    assert isinstance(result, Chunks) and result == ["a", "b"]
    assert named == "streams" and scope["state"]["pipeline"] == "streams"


def test_a_list_result_is_not_taken_for_a_stream_and_a_stream_is_left_whole_when_asked():
    app = app_of(registry_of(loaded("streams", Streams())))
    listed = run(invoke(app, "streams", "chat", {"model": "m", "messages": [], "body": {"kind": "list"}}))
    assert listed == ["a", "b"] and not isinstance(listed, Chunks)

    async def unconsumed() -> list[str]:
        stream = await invoke(
            app, "streams", "chat", {"model": "m", "messages": [], "body": {"kind": "async"}}, whole=False
        )
        assert not isinstance(stream, Chunks)
        return [chunk async for chunk in Invoker.of(app).iterate(stream)]

    assert run(unconsumed()) == ["a", "b"]


def test_each_chunk_as_it_comes_each_step_within_the_time_left():
    def slow() -> Iterator[str]:
        yield "first"
        time.sleep(2)
        yield "late"

    def fails() -> Iterator[str]:
        yield "first"
        raise RuntimeError("half-way")

    invoker = Invoker(None, inline=True, margin_ms=500)

    async def gather(stream: Iterator[str], scope: dict[str, Any]) -> tuple[list[str], InvocationError | None]:
        got: list[str] = []
        try:
            async for chunk in invoker.each_chunk(stream, "p", scope):
                got.append(chunk)
        except InvocationError as error:
            return got, error
        return got, None

    assert run(gather(words(), lambda_scope(600))) == (["a", "b"], None)
    got, error = run(gather(slow(), lambda_scope(600)))
    assert got == ["first"] and isinstance(error, DeadlineExpired)
    got, error = run(gather(fails(), {}))
    assert got == ["first"] and isinstance(error, PipelineFailed) and error.message == "half-way"


def test_a_stream_that_fails_half_way_is_the_calls_failure():
    app = app_of(registry_of(loaded("streams", Streams())))
    with pytest.raises(PipelineFailed, match="half-way"):
        run(invoke(app, "streams", "chat", {"model": "m", "messages": [], "body": {"kind": "broken"}}))


def test_every_error_is_an_invocation_error_with_an_http_answer():
    for error in (PipelineNotFound, PipelineUnavailable, NotImplementedByPipeline, DeadlineExpired):
        assert issubclass(error, InvocationError) and error("x").detail == "x"
    assert {PipelineNotFound.status_code, PipelineUnavailable.status_code, NotImplementedByPipeline.status_code} == {
        404,
        503,
        501,
    }


# through the app's entries: each answers the same errors its own way


class SlowStreams(BasePipelineWrapper):
    def setup(self) -> None:
        pass

    def slow(self) -> Iterator[str]:
        yield "first"
        time.sleep(3)
        yield "late"

    def run_api(self, text: str) -> Iterator[str]:
        return self.slow()

    def run_chat_completion(self, model: str, messages: list[dict], body: dict) -> Any:
        return self.slow()

    def run_response(self, model: str, input_items: list[dict], body: dict) -> Any:
        if body["input"] == "refuse":
            raise HTTPException(status_code=409, detail="busy")
        return self.slow()


def post_on_lambda(remaining_ms: int, path: str, body: dict[str, Any]) -> Any:
    """Through the app on this (the main) thread, as on Lambda: the deadline's alarm is armed only there."""
    import httpx

    from core.app import create_app
    from tests.conftest import fixture_settings

    app = create_app(fixture_settings(), registry_of(loaded("slow", SlowStreams())), sync_inline=True)

    async def on_lambda(scope: Any, receive: Any, send: Any) -> None:
        scope["aws.context"] = SimpleNamespace(get_remaining_time_in_millis=lambda: remaining_ms)
        await app(scope, receive, send)

    async def post() -> Any:
        transport = httpx.ASGITransport(app=on_lambda)
        async with httpx.AsyncClient(transport=transport, base_url="http://lambda") as client:
            return await client.post(path, json=body)

    return run(post())


EXPIRED = {
    "detail": "Pipeline 'slow' did not finish within the time this invocation had left (100 ms): "
    "raise the function timeout or make the pipeline faster"
}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/slow/run", {"text": "x"}),  # /run drains a stream on Lambda
        ("/v1/chat/completions", {"model": "slow", "messages": []}),  # a whole answer
        ("/v1/chat/completions", {"model": "slow", "messages": [], "stream": True}),  # SSE, built whole on Lambda
        ("/v1/responses", {"model": "slow", "input": "x", "stream": True}),
    ],
)
def test_a_stream_past_the_deadline_is_a_504_on_every_entry(path, body):
    started = time.perf_counter()
    reply = post_on_lambda(600, path, body)
    assert time.perf_counter() - started < 2
    assert (reply.status_code, reply.json()) == (504, EXPIRED)


def test_a_wrappers_http_exception_is_the_answer_on_the_openai_endpoints_too():
    reply = post_on_lambda(30_000, "/v1/responses", {"model": "slow", "input": "refuse"})
    assert (reply.status_code, reply.json()) == (409, {"detail": "busy"})
