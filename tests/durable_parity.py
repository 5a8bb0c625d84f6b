"""The durable requests Hayhooks 2.1.0's answers were recorded for (tests/record_hayhooks_durable.py), and that
tests/core/routes/test_durable_parity.py sends to this project's routes: one scenario, for either server.

Standard library only: the recording runs it in the Hayhooks venv. Answers are kept as what a client can compare
across servers: the status code, the headers that carry meaning, the JSON body with its execution ids and
timestamps replaced by placeholders, and for SSE the events' names and their data's keys.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

UNKNOWN_ID = "0" * 32
MALFORMED_ID = "not an id!"
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
TERMINAL = ("completed", "failed", "canceled")


def normalized(value: Any, ids: dict[str, str]) -> Any:
    """`value` with execution ids (as `<id-N>`, the same id the same placeholder) and timestamps (`<time>`) masked."""
    if isinstance(value, dict):
        return {key: normalized(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [normalized(item, ids) for item in value]
    if isinstance(value, str):
        if _STAMP.match(value):
            return "<time>"
        for execution_id, placeholder in ids.items():
            value = value.replace(execution_id, placeholder)
    return value


def _sse(text: str) -> list[dict[str, Any]]:
    events = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if block.startswith(":") and not fields:
            events.append({"comment": True})
            continue
        if not fields:
            continue
        data = json.loads(fields["data"]) if fields.get("data", "").startswith(("{", "[")) else fields.get("data")
        events.append(
            {
                "event": fields.get("event"),
                "has_id": "id" in fields,
                "data_keys": sorted(data) if isinstance(data, dict) else None,
                "status": data.get("status") if isinstance(data, dict) else None,
            }
        )
    return events


class Recorder:
    """Sends the scenario's requests through `client` (a Starlette/FastAPI TestClient) and keeps the answers."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.ids: dict[str, str] = {}
        self.exchanges: list[dict[str, Any]] = []

    def send(self, name: str, method: str, url: str, **kwargs: Any) -> Any:
        answer = self.client.request(method, url, **kwargs)
        body: Any
        if answer.headers.get("content-type", "").startswith("text/event-stream"):
            body = {"sse": _sse(answer.text)}
        else:
            try:
                body = answer.json()
            except ValueError:
                body = answer.text
        if isinstance(body, dict) and isinstance(body.get("execution_id"), str):
            self.ids.setdefault(body["execution_id"], f"<id-{len(self.ids) + 1}>")
        headers = {
            key: answer.headers[key]
            for key in ("idempotent-replay", "location", "content-type", "cache-control")
            if key in answer.headers
        }
        self.exchanges.append(
            {
                "name": name,
                "request": {"method": method, "url": url, **{k: v for k, v in kwargs.items() if k != "timeout"}},
                "status_code": answer.status_code,
                "headers": headers,
                "body": body,
            }
        )
        return body if not isinstance(body, dict) or "sse" in body else dict(body)

    def until(self, url: str, done: Callable[[dict[str, Any]], bool], timeout: float = 60.0) -> dict[str, Any]:
        """Poll `url` (not recorded) until `done(record)`."""
        deadline = time.monotonic() + timeout
        while True:
            record = self.client.get(url).json()
            if done(record) or time.monotonic() > deadline:
                return record
            time.sleep(0.05)

    def recording(self) -> list[dict[str, Any]]:
        return normalized(self.exchanges, self.ids)


def run_scenario(recorder: Recorder) -> list[dict[str, Any]]:
    """The requests, in order; each answer recorded under its name."""
    send, until = recorder.send, recorder.until

    submitted = send("submit", "POST", "/steps/run-durable", json={"steps": 2, "seconds": 0})
    self_url = submitted["links"]["self"]
    until(self_url, lambda r: r["status"] in TERMINAL)
    send("status completed", "GET", self_url)
    send("stream completed", "GET", submitted["links"]["stream"])

    key = {"Idempotency-Key": "parity-key-1"}
    first = send("idempotent first", "POST", "/steps/run-durable", json={"steps": 1, "seconds": 0}, headers=key)
    send("idempotent replay", "POST", "/steps/run-durable", json={"steps": 1, "seconds": 0}, headers=key)
    send("idempotent conflict", "POST", "/steps/run-durable", json={"steps": 9, "seconds": 0}, headers=key)
    until(first["links"]["self"], lambda r: r["status"] in TERMINAL)
    send("idempotent replay terminal", "POST", "/steps/run-durable", json={"steps": 1, "seconds": 0}, headers=key)

    send("status unknown", "GET", f"/steps/executions/{UNKNOWN_ID}")
    send("status malformed", "GET", f"/steps/executions/{MALFORMED_ID}")
    send("cancel unknown", "POST", f"/steps/executions/{UNKNOWN_ID}/cancel")
    send("resume unknown", "POST", f"/approval/executions/{UNKNOWN_ID}/resume", json={"approved": True})
    send("stream unknown", "GET", f"/steps/executions/{UNKNOWN_ID}/stream")
    send("submit invalid body", "POST", "/steps/run-durable", json={"steps": "many"})

    running = send("submit long", "POST", "/steps/run-durable", json={"steps": 8, "seconds": 1.0})
    until(running["links"]["self"], lambda r: r["status"] == "running")
    send("cancel running", "POST", running["links"]["cancel"])
    until(running["links"]["self"], lambda r: r["status"] in TERMINAL)
    send("status canceled", "GET", running["links"]["self"])
    send("cancel canceled", "POST", running["links"]["cancel"])

    waiting = send("submit approval", "POST", "/approval/run-durable", json={"item": "invoice 7"})
    until(waiting["links"]["self"], lambda r: r["status"] == "waiting")
    send("status waiting", "GET", waiting["links"]["self"])
    send("resume invalid", "POST", waiting["links"]["resume"], json={"approved": "perhaps"})
    send("resume", "POST", waiting["links"]["resume"], json={"approved": True, "note": "fine"})
    until(waiting["links"]["self"], lambda r: r["status"] in TERMINAL)
    send("status resumed", "GET", waiting["links"]["self"])
    send("resume not waiting", "POST", waiting["links"]["resume"], json={"approved": True})

    flaky = send("submit flaky", "POST", "/flaky/run-durable", json={"value": 4})
    until(flaky["links"]["self"], lambda r: r["status"] in TERMINAL)
    send("status retried", "GET", flaky["links"]["self"])

    failing = send("submit failing", "POST", "/fails/run-durable", json={"value": 1})
    until(failing["links"]["self"], lambda r: r["status"] in TERMINAL)
    send("status failed", "GET", failing["links"]["self"])
    return recorder.recording()
