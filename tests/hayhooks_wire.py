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


# --- the public API of the helper modules: names, signatures, and what the helpers return ---

API = WIRE / "api.json"
# core module → the Hayhooks 2.1.0 module with the same public names (the migration rule)
MODULES = {
    "core.events": "hayhooks.events",
    "core.open_webui": "hayhooks.open_webui",
    "core.chainlit_events": "hayhooks.chainlit_events",
    "core.callbacks": "hayhooks.callbacks",
    "core.streaming": "hayhooks.server.pipelines.streaming",
}
# public names a module holds without defining them (re-exports, type aliases)
EXTRA_NAMES = {
    "core.open_webui": "__all__",
    "core.streaming": [
        "OnPipelineEnd",
        "OnReasoning",
        "OnToolCallEnd",
        "OnToolCallStart",
        "StreamingCallback",
        "ToolCallbackReturn",
    ],
}


def public_api(module) -> dict[str, object]:
    """name → its shape: a function's parameters (name, kind, default), a model's fields (name, default)."""
    import inspect

    extra = EXTRA_NAMES.get(_core_name(module.__name__), [])
    names = set(module.__all__ if extra == "__all__" else extra)
    names |= {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__ == module.__name__
    }
    shapes: dict[str, object] = {}
    for name in sorted(names):
        value = getattr(module, name)
        if inspect.isclass(value) and hasattr(value, "model_fields"):
            shapes[name] = {
                field: "required" if info.is_required() else repr(info.default)
                for field, info in value.model_fields.items()
            }
        elif inspect.isfunction(value):
            shapes[name] = [
                [p.name, p.kind.name, None if p.default is inspect.Parameter.empty else repr(p.default)]
                for p in inspect.signature(value).parameters.values()
            ]
        else:
            shapes[name] = "alias"
    return shapes


def _core_name(module_name: str) -> str:
    return next((core for core, hayhooks in MODULES.items() if module_name in (core, hayhooks)), module_name)


def helper_calls() -> list[tuple[str, str, tuple, dict]]:
    """(core module, function, args, kwargs): calls whose results must equal Hayhooks'."""
    from haystack.dataclasses import ChatMessage

    result = {"llm": {"replies": [ChatMessage.from_assistant("hi ✓")]}, "n": 3}
    return [
        ("core.events", "create_status_event", ("Búsy",), {}),
        ("core.events", "create_status_event", ("Done",), {"done": True, "hidden": True}),
        ("core.events", "create_notification_event", ("Saved",), {}),
        ("core.events", "create_notification_event", ("Oops",), {"notification_type": "error"}),
        ("core.open_webui", "create_chat_completion_event", ({"content": "x", "done": True},), {}),
        ("core.open_webui", "create_message_event", ("more",), {}),
        ("core.open_webui", "create_replace_event", ("all new",), {}),
        ("core.open_webui", "create_source_event", ({"source": {"name": "a"}, "document": ["b"]},), {}),
        ("core.open_webui", "create_details_tag", ("tool", "Summary", "body\nlines"), {}),
        ("core.chainlit_events", "create_custom_element_event", ("Card", {"a": [1, 2]}), {}),
        ("core.callbacks", "default_on_tool_call_start", ("search", '{"q": 1}', "call_1"), {}),
        ("core.callbacks", "default_on_tool_call_start", ("", None, None), {}),
        ("core.callbacks", "default_on_tool_call_end", ("search", {"q": 1}, "found", False), {}),
        ("core.callbacks", "default_on_tool_call_end", ("search", {"q": 1}, "boom", True), {}),
        ("core.callbacks", "default_on_pipeline_end", (result,), {}),
        ("core.callbacks", "default_on_pipeline_end", ("text",), {}),
        ("core.streaming", "parse_streaming_components_setting", ("",), {}),
        ("core.streaming", "parse_streaming_components_setting", (" ALL ",), {}),
        ("core.streaming", "parse_streaming_components_setting", ("a, b,,",), {}),
        ("core.streaming", "parse_streaming_components_setting", (" , ",), {}),
    ]


def rendered(value: object) -> object:
    """A helper's result as JSON: events by class name and event dict, lists item by item."""
    if isinstance(value, list):
        return [rendered(v) for v in value]
    if callable(getattr(value, "to_event_dict", None)):
        return {"class": type(value).__name__, "event": value.to_event_dict()}
    return value
