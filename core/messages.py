"""Reading OpenAI-style messages and Responses input items in wrappers (Hayhooks' helpers)."""

from __future__ import annotations

import json
import uuid
from typing import Any


def _role(message: Any) -> str:
    """'user', 'assistant', ... for an OpenAI dict, a pydantic message or a Haystack `ChatMessage`."""
    role = message.get("role") if isinstance(message, dict) else getattr(message, "role", None)
    return str(getattr(role, "value", role) or "")


def is_user_message(message: Any) -> bool:
    return _role(message) == "user"


def get_content(message: Any) -> Any:
    """A message's `content` as it was sent, as Hayhooks returns it: a string, or the list of parts of a
    multimodal message, "" when there is none. A Haystack `ChatMessage` (which Hayhooks' helper does
    not take) gives its text."""
    if isinstance(message, dict):
        return message.get("content", "")
    if hasattr(message, "_content"):  # a Haystack ChatMessage
        return message.text or ""
    return getattr(message, "content", None) or ""  # an OpenAI SDK / pydantic message


def get_last_user_message(messages: list[Any]) -> Any:
    """The content of the last user message (`get_content`), or None when there is no user message."""
    for message in reversed(messages):
        if is_user_message(message):
            return get_content(message)
    return None


def get_last_user_input_text(input_items: list[dict[str, Any]]) -> str | None:
    """The last user text of Responses API input items (`input_text` parts, or a plain string content)."""
    for item in reversed(input_items):
        if not isinstance(item, dict) or item.get("role") != "user" or item.get("type") not in ("message", None):
            continue
        content = item.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            for part in reversed(content):
                if isinstance(part, dict) and part.get("type") == "input_text":
                    text = part.get("text")
                    return text if isinstance(text, str) else None
    return None


def get_input_files(input_items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The `input_file` parts (with a `file_id`) of the user items, in order, as they were sent."""
    return [
        part
        for item in input_items
        if isinstance(item, dict) and item.get("role") == "user" and isinstance(item.get("content"), list)
        for part in item["content"]
        if isinstance(part, dict) and part.get("type") == "input_file" and part.get("file_id")
    ]


def _joined_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "\n".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str) and p["text"])


def _arguments(raw: Any) -> dict:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return {}
    return raw if isinstance(raw, dict) else {}


def _call_id(item: dict[str, Any]) -> str | None:
    for key in ("call_id", "id"):
        if isinstance(item.get(key), str) and item[key]:
            return item[key]
    return None


def chat_messages_from_openai_response(input_items: list[dict[str, Any]]) -> list[Any]:
    """Responses API input items as Haystack `ChatMessage`s, tool calls and their outputs included.

    Messages with no text are left out; a `function_call_output` is linked to the `function_call` with
    the same call id (a call without an id gets one, so its output can still be matched by position).
    """
    from haystack.dataclasses import ChatMessage, ToolCall  # Haystack is loaded by then; not at import

    messages: list[ChatMessage] = []
    calls: dict[str, ToolCall] = {}
    for item in input_items:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "function_call":
            call_id = _call_id(item) or f"call_{uuid.uuid4().hex[:24]}"
            arguments = _arguments(item.get("arguments"))
            call = ToolCall(tool_name=item.get("name") or "function", arguments=arguments, id=call_id)
            calls[call_id] = call
            messages.append(ChatMessage.from_assistant(tool_calls=[call]))
        elif kind == "function_call_output":
            call_id = _call_id(item)
            output = item.get("output", "")
            origin = calls.get(call_id) if call_id else None
            messages.append(
                ChatMessage.from_tool(
                    tool_result=output if isinstance(output, str) else json.dumps(output),
                    origin=origin or ToolCall(tool_name="function", arguments={}, id=call_id),
                )
            )
        else:
            text = _joined_text(item.get("content"))
            role = item.get("role")
            if not text:
                continue
            if role == "user":
                messages.append(ChatMessage.from_user(text))
            elif role in ("system", "developer"):
                messages.append(ChatMessage.from_system(text))
            elif role == "assistant":
                messages.append(ChatMessage.from_assistant(text))
    return messages
