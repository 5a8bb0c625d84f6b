"""Reading OpenAI-style messages in wrappers."""

from __future__ import annotations

from typing import Any


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # multimodal parts: the text ones, in order
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return "" if content is None else str(content)


def get_last_user_message(messages: list[Any]) -> str | None:
    """The text of the last user message (OpenAI dicts or Haystack `ChatMessage`s), or None."""
    for message in reversed(messages):
        if isinstance(message, dict):
            if message.get("role") == "user":
                return _text(message.get("content"))
        elif str(getattr(getattr(message, "role", None), "value", getattr(message, "role", ""))) == "user":
            return getattr(message, "text", None) or ""
    return None
