"""stdout shared with wrappers, without letting their output merge into or pass for our lines.

Log lines and CloudWatch metrics (EMF) both go to stdout, and so does whatever a wrapper prints. A print
without a newline glued the next access-log or metric line onto it (CloudWatch then saw neither: the
metric was lost), and a printed `{"_aws": ...}` line was taken for one of our metrics.

`install` puts a proxy in front of `sys.stdout` for everyone else's writes, and returns the writer our
lines go through: it starts a fresh line when the last write left one open. In others' output, a line that
starts like an EMF document is prefixed with `stdout: `, which makes it plain text to CloudWatch.
"""

from __future__ import annotations

import re
import sys
from typing import Any, TextIO

_LOOKS_LIKE_EMF = re.compile(r'^(\s*\{\s*"_aws")', re.MULTILINE)


class _Line:
    at_start = True


class OwnLines:
    """Where our log and metric lines are written: each starts on a line of its own. The stream is looked up
    per write (whatever `sys.stdout` is then, as `print` does), behind the proxy when there is one."""

    def __init__(self) -> None:
        self._unproxied = _Line()

    def write(self, text: str) -> int:
        current = sys.stdout
        if isinstance(current, OthersOutput):
            stream, state = current._stream, current._state
        else:
            stream, state = current, self._unproxied
        if not state.at_start:
            stream.write("\n")
        stream.write(text)
        if text:
            state.at_start = text.endswith("\n")
        return len(text)

    def flush(self) -> None:
        sys.stdout.flush()


class OthersOutput:
    """`sys.stdout` for wrappers and libraries: written through, EMF look-alikes defused, line state kept."""

    def __init__(self, stream: TextIO, state: _Line) -> None:
        self._stream = stream
        self._state = state

    def write(self, text: str) -> int:
        if "_aws" in text:
            text = _LOOKS_LIKE_EMF.sub(r"stdout: \1", text)
        if text:
            self._stream.write(text)
            self._state.at_start = text.endswith("\n")
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:  # fileno, encoding, isatty, buffer...
        return getattr(self._stream, name)


_OWN = OwnLines()


def install() -> OwnLines:
    """Put the proxy in front of `sys.stdout` (if it is not there yet) and return the writer for our lines."""
    if not isinstance(sys.stdout, OthersOutput):
        sys.stdout = OthersOutput(sys.stdout, _Line())
    return _OWN
