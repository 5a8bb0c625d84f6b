"""Hayhooks' durable-execution names: the `DurableContext` a wrapper's `run_durable[_async]` gets.

A durable run is a series of attempts (handler/durable_worker.py runs each one as a Lambda durable step).
One attempt calls the wrapper's durable method from the top with what earlier attempts committed: the state
saved by `checkpoint()` / `suspend(update=...)`, the answer given on resume, and the attempt number. The
context collects what the attempt reports (progress, display chunks) and how it ended; the worker turns that
into the step's result, which is what the HTTP function reads back through the Lambda APIs. Nothing here
imports the durable SDK: a context can run an attempt in tests and in the worker alike.

Outside a durable run (the HTTP function, or `HAYHOOKS_DURABLE_MODE` off) no context exists, as in Hayhooks:
`current_durable_context()` is None and `durable_streaming_callback` drops its chunks.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class DurableExecutionCancelledError(RuntimeError):
    """Cancellation was requested for the running durable execution."""


class RetryRequested(BaseException):
    """`context.retry()`: end this attempt and run the method again after `delay`.

    A BaseException, so the wrapper's own `except Exception` cannot swallow it (as in Hayhooks)."""

    def __init__(self, message: str, delay: float | None) -> None:
        super().__init__(message)
        self.delay = delay


class ContinueRequested(BaseException):
    """`checkpoint()` near the end of the worker's invocation: end this attempt now, with its state committed,
    and go on in a new attempt in the next invocation (not a failure, not a retry)."""

    def __init__(self) -> None:
        super().__init__("continued in the next invocation")


class SuspendRequested(BaseException):
    """`context.suspend()`: end this attempt and wait for `POST …/resume`."""

    def __init__(self, wait: dict[str, Any]) -> None:
        super().__init__("suspended")
        self.wait = wait


@dataclass
class AttemptRecord:
    """What one attempt reports while it runs: the worker copies it into the step's result."""

    committed_state: dict[str, Any] = field(default_factory=dict)
    progress: list[dict[str, Any]] = field(default_factory=list)
    chunks: list[Any] = field(default_factory=list)


def _json_copy(value: Mapping[str, Any]) -> dict[str, Any]:
    # state must survive a JSON round trip (it is a step result); fail in the wrapper's call, not at the step's end
    try:
        return json.loads(json.dumps(dict(value), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"durable state must be JSON: {exc}") from None


class DurableContext:
    """The handle one attempt of a durable run gets; created by the worker only."""

    def __init__(
        self,
        *,
        execution_id: str | None = None,
        attempt: int = 1,
        state: Mapping[str, Any] | None = None,
        resume_input: Any = None,
        pipeline: Any = None,
        remaining_ms: Callable[[], int] | None = None,
        continue_margin_ms: int = 2000,
    ) -> None:
        if execution_id is None:
            raise RuntimeError(
                "durable execution is not available outside a durable run (HAYHOOKS_DURABLE_MODE and the "
                "durable worker): a DurableContext cannot be created here"
            )
        self._execution_id = execution_id
        self._attempt = attempt
        self._record = AttemptRecord(committed_state=_json_copy(state or {}))
        self._state = _json_copy(state or {})
        self._resume_input = resume_input
        self._resume_input_consumed = False
        self._pipeline = pipeline
        # the invocation's time left (Lambda context), to end the attempt at a checkpoint while the next
        # stretch of work still fits: the longest stretch between checkpoints so far, plus a margin
        self._remaining_ms = remaining_ms
        self._continue_margin_ms = continue_margin_ms
        self._last_commit = time.monotonic()
        self._longest_stretch = 0.0

    @property
    def execution_id(self) -> str:
        return self._execution_id

    @property
    def attempt(self) -> int:
        return self._attempt

    @property
    def owner_id(self) -> str | None:
        return None  # no owner scoping here: the service's AuthMode guards the routes

    @property
    def state(self) -> dict[str, Any]:
        return self._state

    @property
    def resume_input(self) -> Any:
        """The answer given on resume, once per attempt (Hayhooks consumes it on first read)."""
        value = None if self._resume_input_consumed else self._resume_input
        self._resume_input_consumed = True
        return value

    @property
    def record(self) -> AttemptRecord:
        return self._record

    @property
    def resume_input_left(self) -> Any:
        """The resume answer a next attempt still gets: none once this attempt has read it and committed."""
        return self._resume_input

    # -- the synchronous forms (a sync wrapper, or a component's callback) --

    def checkpoint_sync(self, adapter_checkpoint: Any = None) -> None:
        del adapter_checkpoint  # Haystack snapshots are not resumed here; state is
        self._commit()
        self._continue_if_out_of_time()

    def _commit(self) -> None:
        self._record.committed_state = _json_copy(self._state)
        if self._resume_input_consumed:
            self._resume_input = None

    def _continue_if_out_of_time(self) -> None:
        now = time.monotonic()
        self._longest_stretch = max(self._longest_stretch, now - self._last_commit)
        self._last_commit = now
        if self._remaining_ms is None:
            return
        if self._remaining_ms() < self._longest_stretch * 1000 + self._continue_margin_ms:
            raise ContinueRequested()

    def report_progress_sync(
        self, message: str, *, kind: str = "progress", metadata: Mapping[str, object] | None = None
    ) -> None:
        event = {
            "kind": str(kind),
            "message": str(message),
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "metadata": _json_copy(metadata or {}),
        }
        self._record.progress.append(event)

    def check_cancelled_sync(self) -> None:
        # Cancel is StopDurableExecution: Lambda ends the execution itself, so there is nothing to poll.
        return None

    def retry_sync(self, message: str, *, delay: float | None = None) -> None:
        if delay is not None and (delay < 0 or not math.isfinite(delay)):
            raise ValueError("retry delay must be a finite non-negative number")
        raise RetryRequested(str(message), delay)

    def suspend_sync(
        self, wait: Mapping[str, object], *, update: Mapping[str, object] | None = None, adapter_checkpoint: Any = None
    ) -> None:
        del adapter_checkpoint
        self._state = _json_copy({**self._state, **dict(update or {})})
        self._commit()
        raise SuspendRequested(_json_copy(wait))

    def stream_chunk_sync(self, payload: object) -> None:
        converter = getattr(payload, "to_dict", None)
        if callable(converter):
            payload = converter()
        try:
            self._record.chunks.append(_json_copy({"payload": payload})["payload"])
        except ValueError:
            return  # best effort, as Hayhooks: a chunk that is not JSON is dropped

    def run_pipeline(self, data: dict[str, Any], *, checkpoint_at: str | None = None) -> dict[str, Any]:
        del checkpoint_at
        return self._require_pipeline().run(data)

    # -- the awaitable forms Hayhooks' wrappers call --

    async def checkpoint(self, adapter_checkpoint: Any = None) -> None:
        self.checkpoint_sync(adapter_checkpoint)

    async def report_progress(
        self, message: str, *, kind: str = "progress", metadata: Mapping[str, object] | None = None
    ) -> None:
        self.report_progress_sync(message, kind=kind, metadata=metadata)

    async def check_cancelled(self) -> None:
        self.check_cancelled_sync()

    async def retry(self, message: str, *, delay: float | None = None) -> None:
        self.retry_sync(message, delay=delay)

    async def suspend(
        self, wait: Mapping[str, object], *, update: Mapping[str, object] | None = None, adapter_checkpoint: Any = None
    ) -> None:
        self.suspend_sync(wait, update=update, adapter_checkpoint=adapter_checkpoint)

    async def stream_chunk(self, payload: object) -> None:
        self.stream_chunk_sync(payload)

    async def run_pipeline_async(self, data: dict[str, Any], *, checkpoint_at: str | None = None) -> dict[str, Any]:
        del checkpoint_at
        pipeline = self._require_pipeline()
        run_async = getattr(pipeline, "run_async", None)
        return await run_async(data) if run_async is not None else pipeline.run(data)

    def _require_pipeline(self) -> Any:
        if self._pipeline is None:
            raise RuntimeError("this durable execution's wrapper has no pipeline")
        return self._pipeline


_active: ContextVar[DurableContext | None] = ContextVar("durable_context", default=None)


def current_durable_context() -> DurableContext | None:
    """The durable context of the running attempt (task or thread); None outside one."""
    return _active.get()


@contextmanager
def durable_context_scope(context: DurableContext) -> Iterator[None]:
    token = _active.set(context)
    try:
        yield
    finally:
        _active.reset(token)


def durable_streaming_callback(payload: object) -> None:
    """A component's streaming callback: forwards to the running attempt, if any."""
    context = current_durable_context()
    if context is not None:
        context.stream_chunk_sync(payload)


__all__ = [
    "DurableContext",
    "DurableExecutionCancelledError",
    "current_durable_context",
    "durable_context_scope",
    "durable_streaming_callback",
]
