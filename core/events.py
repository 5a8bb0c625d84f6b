"""UI events a wrapper's stream can yield besides text: `from hayhooks.events import ...` becomes `core.events`.

An event is any object with a `to_event_dict()` method. The OpenAI endpoints send it as its own SSE message
(`data: {"event": {...}}` for chat completions, a named event for the Responses API) instead of as text;
`POST /{name}/run` leaves events out of its text body. Field names and defaults match Hayhooks 2.1.0, so
the events serialise to the same JSON.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

NotificationType = Literal["info", "success", "warning", "error"]


class StatusEventData(BaseModel):
    description: str
    done: bool = False
    hidden: bool = False


class NotificationEventData(BaseModel):
    type: NotificationType = "info"
    content: str


class PipelineEvent(BaseModel):
    """An event for a chat UI: `type` names it, `data` is its payload (Open WebUI and Chainlit read both)."""

    type: str
    data: StatusEventData | NotificationEventData | dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump()

    def to_event_dict(self) -> dict[str, Any]:
        """What the SSE encoders serialise; its presence is how they tell an event from a chunk."""
        return self.model_dump()


def create_status_event(description: str, done: bool = False, hidden: bool = False) -> PipelineEvent:
    """A progress line in the UI (`done=True` marks it finished, `hidden=True` removes it)."""
    return PipelineEvent(type="status", data=StatusEventData(description=description, done=done, hidden=hidden))


def create_notification_event(content: str, notification_type: NotificationType = "info") -> PipelineEvent:
    """A toast notification in the UI."""
    return PipelineEvent(type="notification", data=NotificationEventData(type=notification_type, content=content))
