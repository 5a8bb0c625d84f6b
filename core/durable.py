"""Hayhooks' durable-execution names, as Hayhooks behaves with `HAYHOOKS_DURABLE_MODE` off.

Durable mode needs a store shared by every worker (Redis in Hayhooks) and workers that outlive a request;
neither exists here yet. With the mode off, Hayhooks never creates a `DurableContext`: the code a wrapper
shares between its durable and request-bound paths sees `current_durable_context()` return None, and
`durable_streaming_callback` drops its chunks. That is what these do. A wrapper that implements only
`run_durable` / `run_durable_async` has no endpoint here, as in Hayhooks without durable mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any


class DurableExecutionCancelledError(RuntimeError):
    """Cancellation was requested for the running durable execution."""


class DurableContext:
    """The handle a durable run gets (checkpoints, progress, cancellation); never created without durable mode."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError(
            "durable execution is not available on haystack-lambda (Hayhooks' HAYHOOKS_DURABLE_MODE is off): "
            "a DurableContext cannot be created"
        )


_active: ContextVar[DurableContext | None] = ContextVar("durable_context", default=None)


def current_durable_context() -> DurableContext | None:
    """The durable context of the running task or thread: always None here."""
    return _active.get()


@contextmanager
def durable_context_scope(context: DurableContext) -> Iterator[None]:
    token = _active.set(context)
    try:
        yield
    finally:
        _active.reset(token)


def durable_streaming_callback(payload: object) -> None:
    """A component's streaming callback: forwards to the active durable execution, of which there is none."""
    context = current_durable_context()
    if context is not None:
        context.stream_chunk_sync(payload)  # type: ignore[attr-defined]


__all__ = [
    "DurableContext",
    "DurableExecutionCancelledError",
    "current_durable_context",
    "durable_context_scope",
    "durable_streaming_callback",
]
