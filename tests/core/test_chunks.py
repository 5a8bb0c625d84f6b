"""core/chunks.py: the text and reasoning a streamed chunk carries, read the same way by every answer."""

from types import SimpleNamespace

import pytest
from haystack.dataclasses import ReasoningContent, StreamingChunk

from core.chunks import chunk_text, is_pipeline_event, is_streaming_chunk, reasoning_text
from core.events import PipelineEvent
from core.openai.dispatch import whole_text
from core.openai.sse import text_of
from core.run_body import format_item


@pytest.mark.parametrize(
    ("chunk", "text"),
    [
        ("plain", "plain"),
        ("", ""),
        (StreamingChunk(content="token"), "token"),
        (StreamingChunk(content=""), ""),
        (SimpleNamespace(content=None), ""),  # an OpenAI-style delta without text
        (SimpleNamespace(content=7), "7"),
        ({"content": "a dict is not a chunk"}, None),
        (None, None),
        (3, None),
    ],
)
def test_chunk_text(chunk, text):
    assert chunk_text(chunk) == text


def test_reasoning_text():
    thinking = StreamingChunk(content="", reasoning=ReasoningContent(reasoning_text="hmm"), index=0)
    assert reasoning_text(thinking) == "hmm"
    assert reasoning_text(StreamingChunk(content="x")) is None
    assert reasoning_text(SimpleNamespace(reasoning="plain words")) == "plain words"  # no reasoning_text: str()


def test_classes_are_matched_by_name():
    assert is_streaming_chunk(StreamingChunk(content="x")) and not is_streaming_chunk(SimpleNamespace(content="x"))
    event = PipelineEvent(type="status", data={"description": "working"})
    assert is_pipeline_event(event) and not is_pipeline_event(StreamingChunk(content="x"))
    assert is_pipeline_event(type("PipelineEvent", (), {})())  # Hayhooks' own class, when installed


def test_each_answer_writes_an_item_without_text_its_own_way():
    """The one reading, and what each protocol (as Hayhooks) writes for what carries no text."""
    odd = {"k": 1}
    thinking = StreamingChunk(content="", reasoning=ReasoningContent(reasoning_text="hmm"), index=0)
    assert format_item(odd) == '{"k": 1}'  # /run: JSON
    assert text_of(odd) == "{'k': 1}"  # OpenAI streams: str()
    assert whole_text([odd, "a", StreamingChunk(content="b")]) == "ab"  # a whole OpenAI answer: nothing
    assert format_item(thinking) == "hmm"  # /run shows reasoning when there is no text
    assert whole_text([thinking]) == ""  # a whole OpenAI answer does not
    assert format_item(PipelineEvent(type="status", data={})) is None  # UI events: not in /run's body
    assert format_item(SimpleNamespace(content="x")).startswith("namespace(")  # only StreamingChunk is read
