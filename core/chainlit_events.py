"""Chainlit events (`from hayhooks.chainlit_events import ...` becomes `core.chainlit_events`).

This project serves no Chainlit UI; the events still go out on the OpenAI endpoints exactly as Hayhooks sends
them, for a Chainlit front end of your own (Open WebUI ignores them).
"""

from __future__ import annotations

from typing import Any

from core.events import PipelineEvent


class ChainlitEvent(PipelineEvent):
    """A `PipelineEvent` meant for a Chainlit front end; its payload is a plain dict."""

    data: dict[str, Any]


def create_custom_element_event(name: str, props: dict[str, Any]) -> ChainlitEvent:
    """Asks the front end to render its custom element `name` (a JSX file of that name) with `props`."""
    return ChainlitEvent(type="custom_element", data={"name": name, "props": props})
