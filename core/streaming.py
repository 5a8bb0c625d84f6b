"""Run a pipeline and yield its streaming chunks: for `run_chat_completion` and friends.

```python
from core import BasePipelineWrapper, get_last_user_message, streaming_generator

class PipelineWrapper(BasePipelineWrapper):
    def run_chat_completion(self, model: str, messages: list[dict], body: dict):
        question = get_last_user_message(messages)
        return streaming_generator(self.pipeline, pipeline_run_args={"prompt": {"query": question}})
```

The keyword arguments are Hayhooks 2.1.0's, with its behaviour (`hayhooks.server.pipelines.utils` and
`.streaming` become `core.streaming`):

- which components stream: by default the last streaming-capable one (a `run` taking `streaming_callback`);
  `streaming_components="all"`, a list of names, or `HAYHOOKS_STREAMING_COMPONENTS` change that. An `Agent`
  (or any object without `walk()` whose `run` takes `streaming_callback`) streams as a whole.
- `on_tool_call_start(name, arguments, id)`, `on_tool_call_end(name, arguments, result, error)` and
  `on_reasoning(text, extra)` are called for each chunk that carries a tool call, a tool result or reasoning;
  what they return (an event, a string, a list of them, or None) is yielded before that chunk. Their errors
  are logged, never raised. `on_pipeline_end(result)` returning text adds a last chunk with it.
- `external_event_queue`: items put there (events, strings, chunks, dicts) are yielded as they come,
  between chunks, while the pipeline runs.
- `async_streaming_generator` wants async-capable streaming components unless
  `allow_sync_streaming_callbacks=True`, which bridges sync-only ones from their worker thread.

Lambda freezes an execution environment between invocations, so no thread or task may outlive one: the
sync generator runs the pipeline in a thread it joins before it finishes (when the consumer stops early it
does not wait: that could outlast the invocation), the async one in a task it awaits or cancels. Hayhooks'
`shield_pipeline_task=True` (keep the task running after the stream closes) here means: finish the run
before the generator closes, instead of cancelling it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import json
import logging
import os
import queue
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal, Union

if TYPE_CHECKING:
    from core.events import PipelineEvent

logger = logging.getLogger("core.streaming")

Components = list[str] | Literal["all"] | None
_CALLBACK_TYPES = (
    "ToolCallbackReturn",
    "OnToolCallStart",
    "OnToolCallEnd",
    "OnReasoning",
    "OnPipelineEnd",
    "StreamingCallback",
)
if TYPE_CHECKING:
    ToolCallbackReturn = PipelineEvent | str | list[PipelineEvent | str] | None
    OnToolCallStart = Callable[[str, dict[str, Any], str | None], ToolCallbackReturn] | None
    OnToolCallEnd = Callable[[str, dict[str, Any], str, bool], ToolCallbackReturn] | None
    OnReasoning = Callable[[str, dict[str, Any] | None], ToolCallbackReturn] | None
    OnPipelineEnd = Callable[[Any], str | None] | None
    StreamingCallback = Callable[[Any], None] | Callable[[Any], Awaitable[None]]


def __getattr__(name: str) -> Any:
    """The callback types, as Hayhooks names them, built when a wrapper imports one: building them all costs
    about half a millisecond, which a cold start that never imports them should not pay."""
    if name not in _CALLBACK_TYPES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # forward references: core.events stays unloaded
    returned = Union["PipelineEvent", str, list[Union["PipelineEvent", str]], None]
    types = {
        "ToolCallbackReturn": returned,
        "OnToolCallStart": Callable[[str, dict[str, Any], str | None], returned] | None,
        "OnToolCallEnd": Callable[[str, dict[str, Any], str, bool], returned] | None,
        "OnReasoning": Callable[[str, dict[str, Any] | None], returned] | None,
        "OnPipelineEnd": Callable[[Any], str | None] | None,
        "StreamingCallback": Callable[[Any], None] | Callable[[Any], Awaitable[None]],
    }
    globals().update(types)
    return types[name]


_POLL_SECONDS = 0.01  # how often the external event queue is looked at while no chunk arrives
_END = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


# The streaming callbacks are module-level functions, not closures: Haystack serialises a run's inputs
# (pipeline snapshots) and can only name an importable function. Each run finds its own queue in these
# context variables, set in the context its thread or task runs in.
_SYNC_QUEUE: contextvars.ContextVar[queue.Queue[Any]] = contextvars.ContextVar("core_streaming_sync_queue")
_ASYNC_QUEUE: contextvars.ContextVar[asyncio.Queue[Any]] = contextvars.ContextVar("core_streaming_async_queue")
_LOOP: contextvars.ContextVar[asyncio.AbstractEventLoop] = contextvars.ContextVar("core_streaming_loop")


def _put_chunk(chunk: Any) -> None:
    _SYNC_QUEUE.get().put(chunk)


async def _put_chunk_async(chunk: Any) -> None:
    await _ASYNC_QUEUE.get().put(chunk)


def _put_chunk_from_thread(chunk: Any) -> None:
    """For a sync-only component inside an async run: it runs in a worker thread, the queue is the loop's."""
    _LOOP.get().call_soon_threadsafe(_ASYNC_QUEUE.get().put_nowait, chunk)


def is_streaming_component(component: Any) -> bool:
    """Whether the component takes a `streaming_callback`: in its `run` signature or among its input sockets
    (components that wrap another one expose its sockets without naming them in `run`)."""
    run = getattr(component, "run", None)
    if run is None:
        return False
    if "streaming_callback" in inspect.signature(run).parameters:
        return True
    sockets = getattr(getattr(component, "__haystack_input__", None), "_sockets_dict", None)
    return sockets is not None and "streaming_callback" in sockets


def find_all_streaming_components(pipeline: Any) -> list[tuple[Any, str]]:
    """Every streaming-capable component as `(component, name)`, in the pipeline's order; ValueError if none."""
    found = [(component, name) for name, component in pipeline.walk() if is_streaming_component(component)]
    if not found:
        raise ValueError("No streaming-capable components found in the pipeline")
    return found


def parse_streaming_components_setting(setting_value: str) -> list[str] | Literal["all"] | None:
    """`HAYHOOKS_STREAMING_COMPONENTS`: empty → None (the last one streams), `all` → "all", else the names."""
    value = (setting_value or "").strip()
    if not value:
        return None
    if value.lower() == "all":
        return "all"
    return [name.strip() for name in value.split(",") if name.strip()] or None


def _selected(all_components: list[tuple[Any, str]], choice: Components) -> list[tuple[Any, str]]:
    if choice is None:
        choice = parse_streaming_components_setting(os.environ.get("HAYHOOKS_STREAMING_COMPONENTS", ""))
    if choice == "all":
        return all_components
    if choice is None:
        return all_components[-1:]
    wanted = set(choice)
    return [(component, name) for component, name in all_components if name in wanted]


def _with_callbacks(
    args: dict[str, Any], targets: list[tuple[Any, str]], callback_for: Callable[[Any], StreamingCallback]
) -> dict[str, Any]:
    """A copy of the run arguments with each target's `streaming_callback` set (the caller's dicts untouched)."""
    configured = dict(args)
    for component, name in targets:
        configured[name] = {**configured.get(name, {}), "streaming_callback": callback_for(component)}
    return configured


def _is_pipeline(pipeline: Any) -> bool:
    return hasattr(pipeline, "walk")


class _Callbacks:
    """The user's callbacks, turned into the items yielded before each chunk."""

    def __init__(
        self,
        on_tool_call_start: OnToolCallStart,
        on_tool_call_end: OnToolCallEnd,
        on_reasoning: OnReasoning,
        on_pipeline_end: OnPipelineEnd,
    ) -> None:
        self.on_tool_call_start = on_tool_call_start
        self.on_tool_call_end = on_tool_call_end
        self.on_reasoning = on_reasoning
        self.on_pipeline_end = on_pipeline_end

    def around(self, chunk: Any) -> list[Any]:
        """What the callbacks make of `chunk` (tool starts, tool ends, reasoning), then the chunk itself."""
        items: list[Any] = []
        if self.on_tool_call_start is not None:
            for call in getattr(chunk, "tool_calls", None) or []:
                if call.tool_name:
                    items += self._call("on_tool_call_start", call.tool_name, _parsed(call.arguments), call.id)
        result = getattr(chunk, "tool_call_result", None)
        if self.on_tool_call_end is not None and result:
            value = result.result if isinstance(result.result, str) else str(result.result)
            origin = result.origin
            items += self._call("on_tool_call_end", origin.tool_name, origin.arguments, value, bool(result.error))
        reasoning = getattr(chunk, "reasoning", None)
        if self.on_reasoning is not None and reasoning is not None:
            text = getattr(reasoning, "reasoning_text", None)
            text = text if isinstance(text, str) else str(reasoning)
            items += self._call("on_reasoning", text, getattr(reasoning, "extra", None))
        items.append(chunk)
        return items

    def _call(self, name: str, *args: Any) -> list[Any]:
        try:
            returned = getattr(self, name)(*args)
        except Exception:
            logger.exception("Error in %s callback", name)  # a UI callback must not break the answer
            return []
        if not returned:
            return []
        return list(returned) if isinstance(returned, list) else [returned]

    def end_chunk(self, result: Any) -> Any:
        """A last chunk with what `on_pipeline_end` returns, if it returns text."""
        if self.on_pipeline_end is None:
            return None
        try:
            text = self.on_pipeline_end(result)
        except Exception:
            logger.exception("Error in on_pipeline_end callback")
            return None
        if not text:
            return None
        from haystack.dataclasses import StreamingChunk  # loaded already: a pipeline just ran

        return StreamingChunk(content=text)


def _parsed(arguments: Any) -> Any:
    """A tool call delta's arguments are a JSON fragment: parsed when complete, `{}` until then."""
    if not arguments:
        return {}
    try:
        return json.loads(arguments)
    except (json.JSONDecodeError, TypeError):
        return {}


def _drain_external(events: Any) -> Iterator[Any]:
    if events is None:
        return
    while True:
        try:
            yield events.get_nowait()
        except (queue.Empty, asyncio.QueueEmpty):
            return


def streaming_generator(
    pipeline: Any,
    *,
    pipeline_run_args: dict[str, Any] | None = None,
    on_tool_call_start: OnToolCallStart = None,
    on_tool_call_end: OnToolCallEnd = None,
    on_reasoning: OnReasoning = None,
    on_pipeline_end: OnPipelineEnd = None,
    streaming_components: Components = None,
    include_outputs_from: set[str] | None = None,
    external_event_queue: queue.Queue[Any] | None = None,
) -> Iterator[Any]:
    """Yield the pipeline's `StreamingChunk`s (and the callbacks' events) while it runs in a thread; its
    exception is re-raised after the chunks it sent. Components get a sync `streaming_callback`."""
    args = pipeline_run_args or {}
    if _is_pipeline(pipeline):
        targets = _selected(find_all_streaming_components(pipeline), streaming_components)
        args = _with_callbacks(args, targets, lambda _component: _put_chunk)
    else:
        args = {**args, "streaming_callback": _put_chunk}
    callbacks = _Callbacks(on_tool_call_start, on_tool_call_end, on_reasoning, on_pipeline_end)
    chunks: queue.Queue[Any] = queue.Queue()

    def run() -> None:
        _SYNC_QUEUE.set(chunks)
        try:
            if _is_pipeline(pipeline):
                extra = {} if include_outputs_from is None else {"include_outputs_from": include_outputs_from}
                result = pipeline.run(data=args, **extra)
            else:
                result = pipeline.run(**args)
            if (last := callbacks.end_chunk(result)) is not None:
                chunks.put(last)
        except BaseException as exc:
            logger.error("Streaming pipeline failed: %s", type(exc).__name__)
            chunks.put(_Failed(exc))
        finally:
            chunks.put(_END)

    def generate() -> Iterator[Any]:
        # a copy of the caller's context: request-scoped context variables (the request id in logs) reach
        # the pipeline's thread
        worker = threading.Thread(
            target=contextvars.copy_context().run, args=(run,), name="streaming-pipeline", daemon=True
        )
        worker.start()
        poll = None if external_event_queue is None else _POLL_SECONDS
        ended = False
        try:
            while True:
                yield from _drain_external(external_event_queue)
                try:
                    item = chunks.get(timeout=poll)
                except queue.Empty:
                    continue
                if item is _END:
                    ended = True
                    return
                if isinstance(item, _Failed):
                    ended = True
                    raise item.error
                yield from callbacks.around(item)
        finally:
            # the pipeline ended: its thread is finishing, wait for it. Stopped early (the 504 deadline, a
            # client gone), waiting could outlast the invocation itself: do not.
            worker.join(None if ended else 0)

    return generate()


def async_streaming_generator(
    pipeline: Any,
    *,
    pipeline_run_args: dict[str, Any] | None = None,
    on_tool_call_start: OnToolCallStart = None,
    on_tool_call_end: OnToolCallEnd = None,
    on_reasoning: OnReasoning = None,
    on_pipeline_end: OnPipelineEnd = None,
    streaming_components: Components = None,
    include_outputs_from: set[str] | None = None,
    allow_sync_streaming_callbacks: bool = False,
    external_event_queue: asyncio.Queue[Any] | None = None,
    shield_pipeline_task: bool = False,
) -> AsyncIterator[Any]:
    """The async twin of `streaming_generator`: runs `pipeline.run_async` in a task on the current loop.

    A streaming component without `run_async` is a ValueError unless `allow_sync_streaming_callbacks=True`.
    """
    args = pipeline_run_args or {}
    runs_async = hasattr(pipeline, "run_async")
    if _is_pipeline(pipeline):
        all_components = find_all_streaming_components(pipeline)
        if runs_async and not allow_sync_streaming_callbacks:
            for component, name in all_components:
                if not hasattr(component, "run_async"):
                    raise ValueError(
                        f"Component '{name}' of type '{type(component).__name__}' has no 'run_async', so it "
                        "cannot take an async streaming callback. Use 'streaming_generator', a component with "
                        "'run_async', or allow_sync_streaming_callbacks=True."
                    )

        def callback_for(component: Any) -> StreamingCallback:
            # a sync-only component (or a pipeline without run_async) runs in a worker thread
            return _put_chunk_async if runs_async and hasattr(component, "run_async") else _put_chunk_from_thread

        args = _with_callbacks(args, _selected(all_components, streaming_components), callback_for)
    else:
        args = {**args, "streaming_callback": _put_chunk_async if runs_async else _put_chunk_from_thread}
    callbacks = _Callbacks(on_tool_call_start, on_tool_call_end, on_reasoning, on_pipeline_end)

    def start() -> Awaitable[Any]:
        if not _is_pipeline(pipeline):
            return pipeline.run_async(**args) if runs_async else asyncio.to_thread(pipeline.run, **args)
        extra = {} if include_outputs_from is None else {"include_outputs_from": include_outputs_from}
        if runs_async:
            return pipeline.run_async(data=args, **extra)
        return asyncio.to_thread(pipeline.run, data=args, **extra)

    async def generate() -> AsyncIterator[Any]:
        chunks: asyncio.Queue[Any] = asyncio.Queue()
        queue_token, loop_token = _ASYNC_QUEUE.set(chunks), _LOOP.set(asyncio.get_running_loop())
        try:
            task = asyncio.ensure_future(start())  # the task runs in a copy of this context: it sees the queue
        finally:
            _LOOP.reset(loop_token)
            _ASYNC_QUEUE.reset(queue_token)
        poll = None if external_event_queue is None else _POLL_SECONDS
        getter: asyncio.Future[Any] | None = None
        try:
            while True:
                for item in _drain_external(external_event_queue):
                    yield item
                if getter is None:
                    getter = asyncio.ensure_future(chunks.get())
                done, _ = await asyncio.wait({getter, task}, timeout=poll, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    chunk, getter = getter.result(), None
                    for item in callbacks.around(chunk):
                        yield item
                elif task in done:
                    break
            getter.cancel()  # the chunk it waits for stays in the queue
            getter = None
            while not chunks.empty():
                for item in callbacks.around(chunks.get_nowait()):
                    yield item
            if (last := callbacks.end_chunk(task.result())) is not None:  # task.result() raises its error
                yield last
        finally:
            if getter is not None:
                getter.cancel()
            if not task.done():
                if shield_pipeline_task:
                    # the run completes, but not after this generator; its error was never asked for
                    with contextlib.suppress(Exception):
                        await asyncio.shield(task)
                else:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    return generate()
