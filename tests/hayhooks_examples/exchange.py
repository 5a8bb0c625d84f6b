"""Send an example's requests to a server (Hayhooks or ours, through any httpx client) and record the answers.

An answer is kept as {status, content_type, body}: JSON bodies parsed, an event stream as its list of
events (`data` parsed when it is JSON), anything else as text. Then `normalise` replaces what differs
from run to run and says nothing about behaviour: ids, timestamps, the loopback ports and the random
hex that upload ids (and model calls whose request quotes one) carry.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from tests.hayhooks_examples.cases import Example, Request

RANDOM_KEYS = {"id", "created", "created_at", "item_id", "response_id", "system_fingerprint", "request_id"}
_PORT = re.compile(r"127\.0\.0\.1:\d+")
_HEX_ID = re.compile(r"\b([a-z]+[-_])[0-9a-f]{24}\b")  # file-…, and the fake model's call_/fc_/msg_/rs_ ids


def fill(value: Any, slots: dict[str, str]) -> Any:
    if isinstance(value, str):
        for slot, text in slots.items():
            value = value.replace("{" + slot + "}", text)
        return value
    if isinstance(value, list):
        return [fill(v, slots) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, slots) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(fill(v, slots) for v in value)
    return value


def send(client: httpx.Client, request: Request, slots: dict[str, str]) -> dict:
    if request.files is not None:
        files = {
            f: (name, fill(text, slots).encode()) if name is None else (name, fill(text, slots).encode(), kind)
            for f, (name, text, kind) in request.files.items()
        }
        reply = client.request(request.method, request.path, files=files, data=request.data or {})
    else:
        reply = client.request(request.method, request.path, json=fill(request.json, slots))
    return {"status": reply.status_code, "content_type": media_type(reply), "body": body_of(reply)}


def media_type(reply: httpx.Response) -> str:
    return reply.headers.get("content-type", "").split(";")[0].strip()


def body_of(reply: httpx.Response) -> Any:
    kind = media_type(reply)
    if kind == "application/json":
        return reply.json()
    if kind == "text/event-stream":
        return events(reply.text)
    return reply.text


def events(text: str) -> list[dict]:
    parsed = []
    for block in re.split(r"\r?\n\r?\n", text):
        if not block.strip():
            continue
        event: dict[str, Any] = {}
        for line in block.splitlines():
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            event[name] = event[name] + "\n" + value if name in event else value
        if "data" in event:
            try:
                event["data"] = json.loads(event["data"])
            except json.JSONDecodeError:
                pass
        parsed.append(event)
    return parsed


def run_example(client: httpx.Client, example: Example, web: str) -> list[dict]:
    """Every request of `example` in order, each with its normalised answer."""
    slots = {"web": web}
    entries = []
    for request in example.requests:
        answer = send(client, request, slots)
        if request.path == "/v1/files" and isinstance(answer["body"], dict) and "id" in answer["body"]:
            slots["file_id"] = answer["body"]["id"]
        entries.append({"label": request.label, "request": describe(request), "answer": normalise(answer)})
    return entries


def describe(request: Request) -> dict:
    described: dict[str, Any] = {"method": request.method, "path": request.path}
    for key in ("json", "files", "data"):
        if getattr(request, key) is not None:
            described[key] = json.loads(json.dumps(getattr(request, key)))  # tuples as lists, as in the fixture
    return described


def normalise(value: Any, key: str | None = None) -> Any:
    if key in RANDOM_KEYS and isinstance(value, str | int | float) and not isinstance(value, bool):
        return f"<{key}>"
    if isinstance(value, str):
        return _HEX_ID.sub(r"\1<hex>", _PORT.sub("127.0.0.1:<port>", value))
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: normalise(v, k) for k, v in value.items()}
    return value
