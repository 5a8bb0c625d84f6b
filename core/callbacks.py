"""Ready-made callbacks for `streaming_generator`'s `on_tool_call_start`, `on_tool_call_end` and `on_pipeline_end`.

`from hayhooks.callbacks import ...` becomes `core.callbacks`. They produce the same events and text as
Hayhooks 2.1.0's: a status line while a tool runs, then a `<details>` block with its arguments and result
(or an error notification), and the pipeline's result as text at the end.
"""

from __future__ import annotations

from typing import Any

from core.events import PipelineEvent, create_notification_event, create_status_event
from core.open_webui import create_details_tag


def default_on_tool_call_start(tool_name: str, arguments: str | None, tool_call_id: str | None) -> PipelineEvent | None:
    """A running status line for the tool; nothing when the delta carries no tool name."""
    del arguments, tool_call_id  # part of the callback signature, not shown
    if not tool_name:
        return None
    return create_status_event(description=f"Calling '{tool_name}' tool...", done=False)


def default_on_tool_call_end(
    tool_name: str, arguments: dict[str, Any], result: str, error: bool
) -> list[PipelineEvent | str]:
    """The status line marked done plus the call's details, or a hidden status and an error notification."""
    if error:
        return [
            create_status_event(description=f"Called '{tool_name}' tool", done=True, hidden=True),
            create_notification_event(content=f"Error calling '{tool_name}' tool", notification_type="error"),
        ]
    return [
        create_status_event(description=f"Called '{tool_name}' tool", done=True),
        create_details_tag(
            tool_name=tool_name,
            summary=f"Tool call result for '{tool_name}'",
            content=f"```\nArguments:\n{arguments}\n\nResponse:\n{result}\n```",
        ),
    ]


def default_on_pipeline_end(result: Any) -> str:
    """The pipeline's result as text, serialised the way Haystack serialises tracing tags."""
    from haystack.tracing.utils import coerce_tag_value  # haystack is loaded by then: the pipeline just ran

    return str(coerce_tag_value(result))
