"""What a streamed chunk carries: the one reading of a wrapper's stream items that every answer uses.

A wrapper's stream yields strings, Haystack `StreamingChunk`s (text, reasoning, tool calls), UI events
(`PipelineEvent`s) or anything else. Each answer writes these in its own format (`/run`'s text body,
OpenAI's chat and Responses events, a whole OpenAI answer), but reads them through the functions here:

* `chunk_text`: a str is its own text; an object with a `content` attribute carries that (None as "",
  anything else as its `str()`); any other item carries no text (None), and the answer decides what
  to write for it, as Hayhooks does: `/run` writes it as JSON, the OpenAI streams as its `str()`, a
  whole OpenAI answer leaves it out.
* `reasoning_text`: the reasoning a chunk carries (its `reasoning.reasoning_text`), or None.
* `is_pipeline_event`: a UI event, for the OpenAI endpoints only.

Classes are matched by name, not isinstance: neither `core.events` nor Haystack is imported for a
pipeline that never yields them, and Hayhooks' own classes (the real package, when installed) match too.
"""

from __future__ import annotations

from typing import Any


def chunk_text(chunk: Any) -> str | None:
    if isinstance(chunk, str):
        return chunk
    if not hasattr(chunk, "content"):
        return None
    content = chunk.content
    if isinstance(content, str):
        return content
    return "" if content is None else str(content)


def reasoning_text(chunk: Any) -> str | None:
    """The reasoning text of a chunk that carries reasoning (Haystack's `ReasoningContent`; a reasoning
    object without a str `reasoning_text` as its `str()`), None for a chunk without."""
    reasoning = getattr(chunk, "reasoning", None)
    if reasoning is None:
        return None
    text = getattr(reasoning, "reasoning_text", None)
    return text if isinstance(text, str) else str(reasoning)


def class_names(item: Any) -> set[str]:
    return {cls.__name__ for cls in type(item).__mro__}


def is_pipeline_event(item: Any) -> bool:
    return "PipelineEvent" in class_names(item)


def is_streaming_chunk(item: Any) -> bool:
    return "StreamingChunk" in class_names(item)
