"""Hayhooks' helper functions from core: messages and input items, input coercion, tracing, settings, registry."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from haystack import Document, Pipeline, component, tracing
from haystack.dataclasses import ChatMessage, ChatRole
from pydantic import BaseModel

from core import (
    chat_messages_from_openai_response,
    coerce_pipeline_inputs,
    get_input_files,
    get_last_user_input_text,
    get_last_user_message,
    is_user_message,
)
from core.loader import load_registry
from core.messages import get_content
from core.settings import Settings
from tests.conftest import FIXTURE_PIPELINES, fixture_settings

# -- messages and Responses input items ------------------------------------------------------------------

ITEMS = [
    {"role": "system", "content": "be brief"},
    {"role": "user", "type": "message", "content": [{"type": "input_text", "text": "first"}]},
    {"type": "function_call", "call_id": "c1", "name": "weather", "arguments": '{"city": "Rome"}'},
    {"type": "function_call_output", "call_id": "c1", "output": {"temp": 21}},
    {"role": "assistant", "content": [{"type": "output_text", "text": "It is 21."}]},
    {
        "role": "user",
        "content": [
            {"type": "input_file", "file_id": "file-1", "filename": "a.pdf"},
            {"type": "input_text", "text": "and now?"},
            {"type": "input_file"},  # no id: not a file reference
        ],
    },
    {"role": "user", "type": "reasoning", "content": "not a message"},
]


def test_last_user_input_text_and_input_files():
    assert get_last_user_input_text(ITEMS) == "and now?"
    assert get_last_user_input_text([{"role": "user", "content": "plain"}]) == "plain"
    assert get_last_user_input_text([{"role": "assistant", "content": "x"}]) is None
    assert get_input_files(ITEMS) == [{"type": "input_file", "file_id": "file-1", "filename": "a.pdf"}]


def test_chat_messages_from_openai_response_keeps_tool_calls_linked():
    messages = chat_messages_from_openai_response(ITEMS)
    assert [m.role for m in messages] == [
        ChatRole.SYSTEM,
        ChatRole.USER,
        ChatRole.ASSISTANT,
        ChatRole.TOOL,
        ChatRole.ASSISTANT,
        ChatRole.USER,
        ChatRole.USER,  # as in Hayhooks: any item with a role and text is a message, whatever its type
    ]
    call = messages[2].tool_call
    assert (call.tool_name, call.arguments, call.id) == ("weather", {"city": "Rome"}, "c1")
    result = messages[3].tool_call_result
    assert result.result == '{"temp": 21}' and result.origin is call
    assert messages[5].text == "and now?"


def test_user_message_helpers_accept_dicts_and_chat_messages():
    assert is_user_message({"role": "user"}) and is_user_message(ChatMessage.from_user("x"))
    assert not is_user_message(ChatMessage.from_assistant("x"))
    assert get_last_user_message([ChatMessage.from_user("hello"), ChatMessage.from_assistant("hi")]) == "hello"
    assert get_last_user_message([{"role": "assistant", "content": "x"}]) is None


def test_last_user_message_is_the_content_as_sent_like_hayhooks():
    # Hayhooks 2.1.0 hands back the content untouched: a multimodal message's list of parts, None as None
    parts = [{"type": "text", "text": "x"}, {"type": "image_url", "image_url": {"url": "u"}}]
    assert get_last_user_message([{"role": "user", "content": parts}]) == parts
    assert get_last_user_message([{"role": "user", "content": None}]) is None
    assert get_last_user_message([{"role": "user"}]) == ""
    assert get_last_user_message([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]) == "a"
    assert get_last_user_message([]) is None
    assert get_content({"role": "user", "content": parts}) == parts and get_content(ChatMessage.from_user("t")) == "t"


def test_hayhooks_pipelines_utils_names_all_resolve():
    import importlib

    from core import hayhooks_alias

    hayhooks_alias.install()
    utils = importlib.import_module("hayhooks.server.pipelines.utils")
    public = (  # hayhooks.server.pipelines.utils.__all__ in Hayhooks 2.1.0, written out
        "OnPipelineEnd OnReasoning OnToolCallEnd OnToolCallStart ToolCallbackReturn async_streaming_generator "
        "chat_messages_from_openai_response coerce_pipeline_inputs find_all_streaming_components get_content "
        "get_input_files get_last_user_input_text get_last_user_message is_streaming_component is_user_message "
        "parse_streaming_components_setting streaming_generator"
    ).split()
    assert [name for name in public if not hasattr(utils, name)] == []


# -- coerce_pipeline_inputs --------------------------------------------------------------------------------


class Query(BaseModel):
    text: str


@dataclasses.dataclass
class Window:
    start: int
    end: int


@component
class Takes:
    @component.output_types(out=str)
    def run(
        self, documents: list[Document], query: Query, window: Window | None = None, raw: dict[str, Any] | None = None
    ) -> dict[str, str]:
        return {"out": f"{len(documents)} {query.text} {window}"}


def _pipeline() -> Pipeline:
    pipeline = Pipeline()
    pipeline.add_component("takes", Takes())
    return pipeline


def test_coerce_nested_and_flat_inputs():
    pipeline = _pipeline()
    nested = coerce_pipeline_inputs(
        pipeline,
        {"takes": {"documents": [{"content": "a"}, Document(content="b")], "query": {"text": "q"}, "raw": {"k": 1}}},
    )
    documents = nested["takes"]["documents"]
    assert all(isinstance(d, Document) for d in documents) and documents[0].content == "a"
    assert nested["takes"]["query"] == Query(text="q") and nested["takes"]["raw"] == {"k": 1}

    flat = coerce_pipeline_inputs(pipeline, {"window": {"start": 1, "end": 2}, "query": {"text": "q"}, "n": 3})
    assert flat == {"window": Window(1, 2), "query": Query(text="q"), "n": 3}
    assert pipeline.run(nested)["takes"]["out"] == "2 q None"


def test_coerce_refuses_an_ambiguous_socket_type():
    @component
    class Either:
        @component.output_types(out=str)
        def run(self, value: Query | Window) -> dict[str, str]:
            return {"out": str(value)}

    pipeline = Pipeline()
    pipeline.add_component("either", Either())
    with pytest.raises(ValueError, match="could be any of Query, Window"):
        coerce_pipeline_inputs(pipeline, {"either": {"value": {"text": "q"}}})


# -- tracing -------------------------------------------------------------------------------------------------


class RecordingSpan(tracing.Span):
    def __init__(self, name: str, tags: dict[str, Any]) -> None:
        self.name, self.tags = name, dict(tags)

    def set_tag(self, key: str, value: Any) -> None:
        self.tags[key] = value


class RecordingTracer(tracing.Tracer):
    def __init__(self) -> None:
        self.spans: list[RecordingSpan] = []

    def trace(self, operation_name, tags=None, parent_span=None):
        from contextlib import contextmanager

        @contextmanager
        def span_context():
            span = RecordingSpan(operation_name, tags or {})
            self.spans.append(span)
            yield span

        return span_context()

    def current_span(self):
        return self.spans[-1] if self.spans else None


@pytest.fixture
def recording_tracer():
    previous = tracing.tracer.actual_tracer
    recorder = RecordingTracer()
    tracing.enable_tracing(recorder)
    try:
        yield recorder
    finally:
        tracing.tracer.actual_tracer = previous


def test_trace_operation_tags_the_outcome(recording_tracer):
    from core.tracing import build_trace_tags, trace_operation, trace_sync_stream

    with trace_operation("ok.step", tags=build_trace_tags({"a": 1, "unset": None}, b=2)):
        pass
    with pytest.raises(KeyError), trace_operation("bad.step"):
        raise KeyError("k")
    assert list(trace_sync_stream(iter([1, 2]), "stream.step")) == [1, 2]
    ok, bad, streamed = recording_tracer.spans
    assert (ok.name, ok.tags["a"], ok.tags["b"], ok.tags["hayhooks.success"]) == ("ok.step", 1, 2, True)
    assert "unset" not in ok.tags and isinstance(ok.tags["hayhooks.elapsed_ms"], int)
    assert bad.tags["hayhooks.success"] is False and bad.tags["hayhooks.error.type"] == "KeyError"
    assert streamed.name == "stream.step" and streamed.tags["hayhooks.success"] is True


# -- settings and registry -----------------------------------------------------------------------------------


def test_hayhooks_settings_names_with_this_projects_values(monkeypatch):
    from core import hayhooks_settings

    monkeypatch.setenv("HAYHOOKS_STREAMING_COMPONENTS", "all")
    monkeypatch.setenv("HAYHOOKS_DURABLE_MODE", "true")
    ours = Settings(pipelines_dir=FIXTURE_PIPELINES, additional_python_path=("/a", "/b"), root_path="/prod")
    monkeypatch.setattr("core.settings._in_use", ours)  # what build_service does with the settings it runs with
    from core.settings import settings

    assert settings is hayhooks_settings.settings
    assert settings.pipelines_dir == str(FIXTURE_PIPELINES) and settings.additional_python_path == "/a:/b"
    assert settings.root_path == "/prod" and settings.port == ours.port
    assert settings.streaming_components == "all" and settings.durable_store == "redis"
    assert settings.durable_mode is False  # the settings in use say so: the variable was read at cold start
    assert settings.cors_allow_origins == [] and settings.chainlit_base_url == f"http://127.0.0.1:{ours.port}/prod"
    with pytest.raises(AttributeError, match="cannot be set"):
        settings.port = 1


def test_registry_view_shows_the_pipelines_cold_start_loaded():
    from core.registry_view import registry

    loaded = load_registry(fixture_settings())
    assert registry.get_names() == list(loaded.loaded)
    assert registry.get("echo") is loaded.loaded["echo"].wrapper
    assert registry.get("broken_setup") is None and "echo" in registry
    assert registry.get_metadata("echo")["description"] == "Echo the text back."
    with pytest.raises(RuntimeError, match="cannot be changed"):
        registry.add("x", object())


# -- YAMLPipelineWrapper's Hayhooks constructors ---------------------------------------------------------------


def test_yaml_pipeline_wrapper_from_yaml_and_from_file():
    from core import YAMLPipelineWrapper

    path = FIXTURE_PIPELINES / "yaml_echo.yaml"
    from_text = YAMLPipelineWrapper.from_yaml(path.read_text(), description="Adds two strings.")
    from_file = YAMLPipelineWrapper.from_file(str(path))
    for wrapper in (from_text, from_file):
        wrapper.setup()
        assert wrapper.run_api(a="1", b="2") == {"builder": {"prompt": "1+2"}}
    assert from_text.run_api.__doc__ == "Adds two strings."
    with pytest.raises(FileNotFoundError, match="YAML pipeline file not found"):
        YAMLPipelineWrapper.from_file(path.with_name("missing.yaml"))
