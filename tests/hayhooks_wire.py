"""The requests of the Hayhooks wire-parity fixtures (tests/fixtures/hayhooks_wire/) and how bodies are compared.

`record.py` sends these requests to Hayhooks 2.1.0 and stores what it answered; the tests send them to this
project and compare. Only genuinely random parts are normalised: generated ids (numbered in order of first
appearance, so that "the same id twice" still has to hold) and timestamps.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

WIRE = Path(__file__).parent / "fixtures" / "hayhooks_wire"
PIPELINES = WIRE / "pipelines"
PYTHON_PATH = WIRE / "python_path"
EXPECTED = WIRE / "expected.json"

NAMES = ["pipe_sync", "pipe_async", "agent_sync", "agent_async", "events", "text_only"]
USER = [{"role": "user", "content": "weather?"}]


def requests() -> dict[str, tuple[str, dict]]:
    """case id → (path, JSON body)."""
    cases: dict[str, tuple[str, dict]] = {}
    for name in NAMES:
        for stream in (True, False):
            kind = "stream" if stream else "whole"
            cases[f"{name}-chat-{kind}"] = ("/v1/chat/completions", {"model": name, "messages": USER, "stream": stream})
            cases[f"{name}-responses-{kind}"] = (
                "/v1/responses",
                {"model": name, "input": "weather?", "stream": stream},
            )
        cases[f"{name}-run"] = (f"/{name}/run", {"query": "weather?"})
    cases["sse_run-run"] = ("/sse_run/run", {"query": "weather?"})
    cases["sse_run-run-async"] = ("/sse_run/run", {"query": "weather?", "use_async": True})
    return cases


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_HEX_ID = re.compile(r"\b(resp|msg|rs|fc|call)_[0-9a-f]{32}\b")
_TIMESTAMP = re.compile(r'("(?:created|created_at)": ?)\d+')


def normalise(body: str) -> str:
    """The body with generated ids replaced by `<kind-n>` and timestamps by 0; everything else kept."""
    seen: dict[str, str] = {}

    def name(kind: str, value: str) -> str:
        if value not in seen:
            seen[value] = f"<{kind}-{sum(1 for v in seen.values() if v.startswith(f'<{kind}-')) + 1}>"
        return seen[value]

    body = _UUID.sub(lambda m: name("uuid", m.group(0)), body)
    body = _HEX_ID.sub(lambda m: name(m.group(1), m.group(0)), body)
    return _TIMESTAMP.sub(lambda m: f"{m.group(1)}0", body)


def answer(status: int, content_type: str, body: str) -> dict:
    return {"status": status, "content_type": content_type.split(";")[0], "body": normalise(body)}


def expected() -> dict[str, dict]:
    return json.loads(EXPECTED.read_text(encoding="utf-8"))
