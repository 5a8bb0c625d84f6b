"""Run a pipeline and yield its streaming chunks: for `run_chat_completion` and friends.

```python
from core import BasePipelineWrapper, get_last_user_message, streaming_generator

class PipelineWrapper(BasePipelineWrapper):
    def run_chat_completion(self, model: str, messages: list[dict], body: dict):
        question = get_last_user_message(messages)
        return streaming_generator(self.pipeline, pipeline_run_args={"prompt": {"query": question}})
```

By default only the last streaming-capable component (one whose `run` takes a `streaming_callback`)
streams, as in Hayhooks; `streaming_components="all"`, a list of names, or `HAYHOOKS_STREAMING_COMPONENTS`
change that. An `Agent` (or any object whose `run` takes `streaming_callback`) works too.

Lambda freezes an execution environment between invocations, so no thread or task may outlive one: the
sync generator runs the pipeline in a thread it joins before it finishes, the async one in a task it
awaits (or cancels, if the consumer stops early).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Literal

Components = list[str] | Literal["all"] | None
_END = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _accepts_streaming(component: Any) -> bool:
    run = getattr(component, "run", None)
    return run is not None and "streaming_callback" in inspect.signature(run).parameters


def _streaming_targets(pipeline: Any, components: Components) -> list[tuple[str, Any]]:
    capable = [(name, c) for name, c in pipeline.walk() if _accepts_streaming(c)]
    if not capable:
        raise ValueError("No streaming-capable components found in the pipeline")
    if components is None:
        setting = os.environ.get("HAYHOOKS_STREAMING_COMPONENTS", "").strip()
        components = "all" if setting == "all" else [s.strip() for s in setting.split(",") if s.strip()] or None
    if components == "all":
        return capable
    if components is None:
        return capable[-1:]
    return [(name, c) for name, c in capable if name in components]


def _with_callbacks(
    pipeline: Any, args: dict[str, Any], components: Components, callback_for: Callable[[Any], Any]
) -> tuple[dict[str, Any], Any]:
    """The run arguments with streaming callbacks set, and the callback for an Agent-style `run`."""
    if not hasattr(pipeline, "walk"):
        return dict(args), callback_for(pipeline)
    configured = {name: dict(values) for name, values in args.items()}
    for name, component in _streaming_targets(pipeline, components):
        configured.setdefault(name, {})["streaming_callback"] = callback_for(component)
    return configured, None


def streaming_generator(
    pipeline: Any,
    *,
    pipeline_run_args: dict[str, Any] | None = None,
    streaming_components: Components = None,
    include_outputs_from: set[str] | None = None,
) -> Iterator[Any]:
    """Yield the pipeline's `StreamingChunk`s while it runs; re-raise its exception at the end."""
    chunks: queue.Queue[Any] = queue.Queue()
    args, agent_callback = _with_callbacks(
        pipeline, pipeline_run_args or {}, streaming_components, lambda _component: chunks.put
    )

    def run() -> None:
        try:
            if agent_callback is not None:
                pipeline.run(**args, streaming_callback=agent_callback)
            else:
                pipeline.run(args, include_outputs_from=include_outputs_from)
        except BaseException as exc:
            chunks.put(_Failed(exc))
        finally:
            chunks.put(_END)

    def generate() -> Iterator[Any]:
        worker = threading.Thread(target=run, name="streaming-pipeline", daemon=True)
        worker.start()
        finished = False
        try:
            while (item := chunks.get()) is not _END:
                if isinstance(item, _Failed):
                    raise item.error
                yield item
            finished = True
        finally:
            # after the last chunk the pipeline thread is ending: wait for it. Interrupted (the 504
            # deadline, a client gone), waiting could outlast the invocation itself: do not.
            worker.join(None if finished else 0)

    return generate()


def async_streaming_generator(
    pipeline: Any,
    *,
    pipeline_run_args: dict[str, Any] | None = None,
    streaming_components: Components = None,
    include_outputs_from: set[str] | None = None,
) -> AsyncIterator[Any]:
    """The async twin of `streaming_generator`: runs `pipeline.run_async` in a task on the current loop."""

    async def generate() -> AsyncIterator[Any]:
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[Any] = asyncio.Queue()

        def callback_for(component: Any) -> Any:
            if hasattr(component, "run_async"):

                async def put(chunk: Any) -> None:
                    await chunks.put(chunk)

                return put
            # a sync-only component runs in an executor thread: hand chunks back to the loop
            return lambda chunk: loop.call_soon_threadsafe(chunks.put_nowait, chunk)

        args, agent_callback = _with_callbacks(pipeline, pipeline_run_args or {}, streaming_components, callback_for)
        if agent_callback is not None:
            work = pipeline.run_async(**args, streaming_callback=agent_callback)
        else:
            work = pipeline.run_async(args, include_outputs_from=include_outputs_from)
        task = asyncio.ensure_future(work)
        try:
            while True:
                getter = asyncio.ensure_future(chunks.get())
                done, _ = await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    yield getter.result()
                    continue
                getter.cancel()
                while not chunks.empty():
                    yield chunks.get_nowait()
                task.result()  # the pipeline's exception, if any
                return
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return generate()
