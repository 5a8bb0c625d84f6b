"""Answer 504 before Lambda's timeout kills the invocation mid-response.

On Lambda the context says how much time the invocation has left. A pipeline call gets that much, minus
`HAYHOOKS_TIMEOUT_MARGIN_MS` (500 ms) to send the answer. Past it the client gets a JSON 504 naming the
pipeline, instead of API Gateway's bare 503/504 after a killed function and a lost log line.

Async wrappers run under `asyncio.timeout`. Sync wrappers run inline on the event loop (one request per
environment), where no coroutine can interrupt them, so a real-time alarm (SIGALRM, main thread only)
raises `DeadlineExceeded` inside the call. It derives from BaseException so that a wrapper's own
`except Exception` cannot swallow it. Off Lambda (no context) nothing is limited.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from starlette.responses import JSONResponse


class DeadlineExceeded(BaseException):
    pass


def budget_seconds(scope: dict[str, Any], margin_ms: int) -> float | None:
    context = scope.get("aws.context")
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return max(remaining() - margin_ms, 1) / 1000


@contextmanager
def _alarm(seconds: float | None) -> Iterator[None]:
    if seconds is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise DeadlineExceeded

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Deadline:
    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.expired = False

    @asynccontextmanager
    async def limit(self, *, sync_inline: bool) -> AsyncIterator[None]:
        """Bound the block; afterwards `expired` says whether the deadline cut it short."""
        try:
            async with asyncio.timeout(self.seconds) as timer:
                with _alarm(self.seconds if sync_inline else None):
                    yield
        except DeadlineExceeded:
            self.expired = True
        except TimeoutError:
            if not timer.expired():
                raise  # a TimeoutError of the pipeline's own (a socket, a client): not ours
            self.expired = True

    def detail(self, pipeline: str) -> str:
        return (
            f"Pipeline '{pipeline}' did not finish within the time this invocation had left "
            f"({(self.seconds or 0) * 1000:.0f} ms): raise the function timeout or make the pipeline faster"
        )

    def response(self, pipeline: str) -> JSONResponse:
        return JSONResponse({"detail": self.detail(pipeline)}, status_code=504)
