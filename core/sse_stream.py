"""`SSEStream`: a wrapper's way of asking for `text/event-stream` instead of `text/plain` from `/run`.

It only marks the generator; `core/run_body.py` renders it (each item as `data:` lines and a blank line).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from dataclasses import dataclass
from typing import Any


@dataclass
class SSEStream:
    """A sync or async generator that `/{name}/run` serves as server-sent events."""

    stream: Generator[Any] | AsyncGenerator[Any]
