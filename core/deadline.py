"""Answer 504 before Lambda's timeout kills the invocation mid-response.

On Lambda the context says how much time the invocation has left. A pipeline call gets that much, minus
`HAYHOOKS_TIMEOUT_MARGIN_MS` (500 ms) to send the answer. Past it the client gets a JSON 504 naming the
pipeline, instead of API Gateway's bare 503/504 after a killed function and a lost log line.

Async wrappers run under `asyncio.timeout`. Sync wrappers run inline on the event loop (one request per
environment), where no coroutine can interrupt them, and async wrappers often call a blocking
`pipeline.run()`, which stops the loop; so a real-time alarm (SIGALRM, main thread only) raises
`DeadlineExceeded` inside the call when the call is what is running. It derives from BaseException so that
`except Exception` cannot swallow it, repeats every 50 ms so that a bare `except:` cannot either, and a
call that outlived its deadline answers 504 whatever it returned. Off Lambda (no context) nothing is limited.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any


class DeadlineExceeded(BaseException):
    pass


REPEAT_S = 0.05  # after the deadline, the alarm repeats this often until the call gives up


def budget_seconds(scope: dict[str, Any], margin_ms: int) -> float | None:
    context = scope.get("aws.context")
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return max(remaining() - margin_ms, 1) / 1000


class Deadline:
    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.expired = False
        self._task: asyncio.Task[Any] | None = None
        self._armed = False

    @asynccontextmanager
    async def limit(self) -> AsyncIterator[None]:
        """Bound the block; afterwards `expired` says whether the deadline cut it short.

        The alarm is armed whenever there is a deadline and the call runs on the main thread (Lambda), sync
        or async: an async wrapper that calls a blocking `pipeline.run()` stops the loop, and with it
        `asyncio.timeout`.
        """
        try:
            async with asyncio.timeout(self.seconds) as timer:
                with self._alarm():
                    yield
        except DeadlineExceeded:
            self.expired = True
        except TimeoutError:
            if not timer.expired():
                raise  # a TimeoutError of the pipeline's own (a socket, a client): not ours
            self.expired = True

    @contextmanager
    def _alarm(self) -> Iterator[None]:
        if self.seconds is None or threading.current_thread() is not threading.main_thread():
            yield
            return
        self._task = asyncio.current_task()
        previous = signal.signal(signal.SIGALRM, self._expire)
        self._armed = True
        signal.setitimer(signal.ITIMER_REAL, self.seconds, REPEAT_S)
        try:
            yield
        finally:
            self._armed = False  # first: an alarm between here and the reset below does nothing
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    def _expire(self, signum: int, frame: Any) -> None:
        """SIGALRM: raise in the call if it is what runs now. The event loop waiting (an async wrapper that
        awaits) is left to `asyncio.timeout`; the alarm repeats, so a wrapper that swallows the exception
        (`except:`) gets it again, and its answer is a 504 whatever it returns."""
        if not self._armed:
            return
        try:
            running = asyncio.current_task()
        except RuntimeError:  # no loop running at this instant
            running = None
        if running is not None and running is self._task:
            self.expired = True
            raise DeadlineExceeded

    def detail(self, pipeline: str) -> str:
        return (
            f"Pipeline '{pipeline}' did not finish within the time this invocation had left "
            f"({(self.seconds or 0) * 1000:.0f} ms): raise the function timeout or make the pipeline faster"
        )
