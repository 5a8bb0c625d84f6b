"""streaming_generator / async_streaming_generator: which components stream, the callbacks, the external
queue, failures, and that no thread or task outlives the generator. (The bytes these produce on the OpenAI
endpoints are compared with Hayhooks' in tests/core/openai/test_hayhooks_wire.py.)"""

import asyncio
import contextvars
import logging
import queue
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest
from haystack import Pipeline, component
from haystack.core.errors import PipelineRuntimeError
from haystack.dataclasses import ReasoningContent, StreamingChunk

from core.streaming import (
    async_streaming_generator,
    is_streaming_component,
    streaming_generator,
)

REQUEST = contextvars.ContextVar("request", default=None)


@component
class Words:
    """Streams its words, then returns them joined; `pause` seconds between words."""

    def __init__(self, words: str, pause: float = 0.0, events: Any = None) -> None:
        self.words, self.pause, self.events = words.split(), pause, events
        self.seen_request: Any = None
        self.finished = threading.Event()

    @component.output_types(text=str)
    def run(self, text: str = "", streaming_callback: Any = None) -> dict[str, Any]:
        self.seen_request = REQUEST.get()
        for word in self.words:
            if self.events is not None:
                self.events.put(f"<{word}>")
            time.sleep(self.pause)
            if streaming_callback is not None:
                streaming_callback(StreamingChunk(content=word))
        self.finished.set()
        return {"text": " ".join(self.words)}


@component
class AsyncWords(Words):
    @component.output_types(text=str)
    async def run_async(self, text: str = "", streaming_callback: Any = None) -> dict[str, Any]:
        try:
            for word in self.words:
                await asyncio.sleep(self.pause)
                if streaming_callback is not None:
                    await streaming_callback(StreamingChunk(content=word))
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        self.finished.set()
        return {"text": " ".join(self.words)}


@component
class Fails:
    @component.output_types(text=str)
    def run(self, streaming_callback: Any = None) -> dict[str, Any]:
        streaming_callback(StreamingChunk(content="partial"))
        raise RuntimeError("the model connection dropped")


@component
class Plain:
    @component.output_types(text=str)
    def run(self, text: str = "") -> dict[str, Any]:
        return {"text": text}


def two_streaming(first=None, second=None) -> Pipeline:
    pipeline = Pipeline()
    pipeline.add_component("first", first or Words("a b"))
    pipeline.add_component("second", second or Words("c d"))
    pipeline.connect("first.text", "second.text")
    return pipeline


def texts(items) -> list[str]:
    return [i.content if isinstance(i, StreamingChunk) else i for i in items]


async def collect(agen) -> list[Any]:
    return [item async for item in agen]


def test_the_last_streaming_component_streams_by_default(monkeypatch):
    monkeypatch.delenv("HAYHOOKS_STREAMING_COMPONENTS", raising=False)
    assert texts(streaming_generator(two_streaming())) == ["c", "d"]


@pytest.mark.parametrize(
    ("choice", "setting", "expected"),
    [
        ("all", "", ["a", "b", "c", "d"]),
        (["first"], "", ["a", "b"]),
        (None, "first", ["a", "b"]),
        (None, "ALL", ["a", "b", "c", "d"]),
        (["first"], "all", ["a", "b"]),  # the argument wins over the setting
    ],
)
def test_streaming_components_and_the_setting(monkeypatch, choice, setting, expected):
    monkeypatch.setenv("HAYHOOKS_STREAMING_COMPONENTS", setting)
    assert texts(streaming_generator(two_streaming(), streaming_components=choice)) == expected
    got = asyncio.run(
        collect(
            async_streaming_generator(two_streaming(AsyncWords("a b"), AsyncWords("c d")), streaming_components=choice)
        )
    )
    assert texts(got) == expected


def test_a_pipeline_without_streaming_components_is_refused():
    pipeline = Pipeline()
    pipeline.add_component("plain", Plain())
    with pytest.raises(ValueError, match="No streaming-capable components"):
        streaming_generator(pipeline)
    with pytest.raises(ValueError, match="No streaming-capable components"):
        async_streaming_generator(pipeline)


def test_run_args_are_not_mutated_and_include_outputs_from_reaches_the_run():
    args = {"first": {"text": "x"}}
    results = []
    items = streaming_generator(
        two_streaming(),
        pipeline_run_args=args,
        include_outputs_from={"first"},
        on_pipeline_end=lambda result: results.append(result) or "END",
    )
    assert texts(items) == ["c", "d", "END"]
    assert args == {"first": {"text": "x"}}
    assert results == [{"first": {"text": "a b"}, "second": {"text": "c d"}}]


def test_callback_errors_are_logged_and_the_stream_goes_on(caplog):
    def broken(*_args):
        raise RuntimeError("callback bug")

    chunk = StreamingChunk(content="", index=0, reasoning=ReasoningContent("hm"))

    class Agentish:
        def run(self, streaming_callback):
            streaming_callback(chunk)
            return {}

    with caplog.at_level(logging.ERROR, logger="core.streaming"):
        items = list(streaming_generator(Agentish(), on_reasoning=broken, on_pipeline_end=broken))
    assert items == [chunk]
    assert "on_reasoning" in caplog.text and "on_pipeline_end" in caplog.text


def test_callback_results_come_before_their_chunk_in_order():
    chunk = StreamingChunk(content="", index=0, reasoning=ReasoningContent("hm"))

    class Agentish:
        def run(self, streaming_callback, question):
            streaming_callback(chunk)
            return {"answer": question}

    items = list(
        streaming_generator(
            Agentish(),
            pipeline_run_args={"question": "q"},
            on_reasoning=lambda text, extra: [f"1:{text}", None, "2"] if extra == {} else "wrong",
            on_pipeline_end=lambda result: f"end:{result['answer']}",
        )
    )
    assert texts(items) == ["1:hm", None, "2", chunk.content, "end:q"]


def test_the_pipeline_error_comes_after_the_chunks_sent():
    pipeline = Pipeline()
    pipeline.add_component("fails", Fails())
    seen = []
    with pytest.raises(PipelineRuntimeError, match="connection dropped"):
        for item in streaming_generator(pipeline):
            seen.append(item.content)
    assert seen == ["partial"]


def test_sync_run_sees_the_callers_context_and_its_thread_is_joined():
    REQUEST.set("req-1")
    words = Words("a b")
    pipeline = Pipeline()
    pipeline.add_component("w", words)
    assert texts(streaming_generator(pipeline)) == ["a", "b"]
    assert words.seen_request == "req-1"
    assert not [t for t in threading.enumerate() if t.name == "streaming-pipeline"]


def test_sync_consumer_stopping_early_does_not_wait_for_the_run():
    words = Words("a b c d", pause=0.3)
    pipeline = Pipeline()
    pipeline.add_component("w", words)
    items = streaming_generator(pipeline)
    started = time.monotonic()
    assert next(items).content == "a"
    items.close()
    assert time.monotonic() - started < 0.9  # the run itself takes 1.2 s
    assert words.finished.wait(5)


def test_external_events_are_yielded_between_chunks_while_the_run_goes_on():
    events: queue.Queue = queue.Queue()
    pipeline = Pipeline()
    pipeline.add_component("w", Words("a b", pause=0.1, events=events))
    assert texts(streaming_generator(pipeline, external_event_queue=events)) == ["<a>", "a", "<b>", "b"]


def test_async_external_events_are_yielded_between_chunks():
    async def main():
        events: asyncio.Queue = asyncio.Queue()
        events.put_nowait("first")
        pipeline = Pipeline()
        pipeline.add_component("w", AsyncWords("a b", pause=0.05))
        agen = async_streaming_generator(pipeline, external_event_queue=events)
        got = [await agen.__anext__()]
        events.put_nowait("between")
        got += [item async for item in agen]
        return texts(got)

    got = asyncio.run(main())
    assert got[0] == "first" and got.index("between") < got.index("b")


def test_async_refuses_a_sync_only_streaming_component_unless_allowed():
    pipeline = two_streaming(AsyncWords("a b"), Words("c d"))
    with pytest.raises(ValueError, match=r"Component 'second' of type 'Words'.*allow_sync_streaming_callbacks"):
        async_streaming_generator(pipeline)
    got = asyncio.run(
        collect(async_streaming_generator(pipeline, allow_sync_streaming_callbacks=True, streaming_components="all"))
    )
    assert texts(got) == ["a", "b", "c", "d"]


def test_async_consumer_stopping_early_cancels_the_run():
    words = AsyncWords("a b c", pause=0.2)
    pipeline = Pipeline()
    pipeline.add_component("w", words)

    async def main():
        agen = async_streaming_generator(pipeline)
        assert (await agen.__anext__()).content == "a"
        await agen.aclose()
        return [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    assert asyncio.run(main()) == []
    assert getattr(words, "cancelled", False) and not words.finished.is_set()


def test_async_shielded_run_finishes_before_the_generator_closes():
    words = AsyncWords("a b c", pause=0.1)
    pipeline = Pipeline()
    pipeline.add_component("w", words)

    async def main():
        agen = async_streaming_generator(pipeline, shield_pipeline_task=True)
        await agen.__anext__()
        await agen.aclose()
        return [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    assert asyncio.run(main()) == []
    assert words.finished.is_set()


def test_an_agent_streams_as_a_whole_and_its_error_is_raised():
    class Agentish:
        async def run_async(self, messages, streaming_callback):
            await streaming_callback(StreamingChunk(content=messages))
            raise RuntimeError("agent failed")

        def run(self, messages, streaming_callback): ...

    with pytest.raises(RuntimeError, match="agent failed"):
        asyncio.run(collect(async_streaming_generator(Agentish(), pipeline_run_args={"messages": "m"})))


def test_is_streaming_component_reads_run_and_input_sockets():
    assert is_streaming_component(Words("a"))
    assert not is_streaming_component(SimpleNamespace(run=lambda text: None))
    wrapper = SimpleNamespace(
        run=lambda **kwargs: None, __haystack_input__=SimpleNamespace(_sockets_dict={"streaming_callback": 1})
    )
    assert is_streaming_component(wrapper)
