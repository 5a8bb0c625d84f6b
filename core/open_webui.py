"""Open WebUI events (`from hayhooks.open_webui import ...` becomes `core.open_webui`).

The shared status and notification helpers of `core.events` are importable from here too, as in Hayhooks.
Event types and payloads follow Open WebUI's event protocol (https://docs.openwebui.com/features/plugin/events).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from core.events import (
    NotificationEventData,
    PipelineEvent,
    StatusEventData,
    create_notification_event,
    create_status_event,
)

__all__ = [
    "NotificationEventData",
    "OpenWebUIEvent",
    "PipelineEvent",
    "StatusEventData",
    "create_chat_completion_event",
    "create_details_tag",
    "create_message_event",
    "create_notification_event",
    "create_replace_event",
    "create_source_event",
    "create_status_event",
]


class MessageEventData(BaseModel):
    content: str


class OpenWebUIEvent(PipelineEvent):
    """A `PipelineEvent` whose payload may also be message text (for `message` and `replace` events)."""

    data: StatusEventData | MessageEventData | NotificationEventData | dict[str, Any]


def create_chat_completion_event(data: dict[str, Any]) -> OpenWebUIEvent:
    """A `chat:completion` event carrying `data` as given."""
    return OpenWebUIEvent(type="chat:completion", data=data)


def create_message_event(content: str) -> OpenWebUIEvent:
    """Appends `content` to the message being shown."""
    return OpenWebUIEvent(type="message", data=MessageEventData(content=content))


def create_replace_event(content: str) -> OpenWebUIEvent:
    """Replaces the message being shown with `content`."""
    return OpenWebUIEvent(type="replace", data=MessageEventData(content=content))


def create_source_event(source_data: dict[str, Any]) -> OpenWebUIEvent:
    """A citation or code-execution result attached to the message."""
    return OpenWebUIEvent(type="source", data=source_data)


def create_details_tag(tool_name: str, summary: str, content: str) -> str:
    """Text, not an event: a `<details>` block that Open WebUI renders collapsed under `summary`."""
    return f'<details type="{tool_name}" done="true">\n<summary>{summary}</summary>\n\n{content}\n</details>\n\n'
