"""The MCP fixture folder and the tool calls both Hayhooks' MCP server and ours answer (tests/core/mcp/).

tests/fixtures/mcp_hayhooks/expected.json holds what Hayhooks 2.1.0's own MCP server listed and answered
for them (recorded by tests/fixtures/mcp_hayhooks/record.py); the tests compare this project's answers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"
PIPELINES = FIXTURES / "mcp_tools"
EXPECTED = FIXTURES / "mcp_hayhooks" / "expected.json"

# what each listed pipeline is called with, and what it must answer
CALLS: dict[str, dict[str, Any]] = {
    "echo_tool": {"text": "ab", "times": 2, "tags": ["x"]},
    "async_story": {"hero": "Ann"},
    "greeting": {"name": "Ann", "place": "Lambda"},
    "raises": {"question": "why"},
}
# pipelines in the folder that must not be tools: skip_mcp, no run_api, failed to load
NOT_TOOLS = ("hidden", "chat_only", "broken")


def expected() -> dict[str, Any]:
    return json.loads(EXPECTED.read_text(encoding="utf-8"))


def tool_listing(tools: list[Any]) -> dict[str, dict[str, Any]]:
    """name -> {description, inputSchema} from SDK Tool objects (either SDK major) or plain dicts."""
    listed = {}
    for tool in tools:
        if not isinstance(tool, dict):
            tool = tool.model_dump(by_alias=True, mode="json", exclude_none=True)
        listed[tool["name"]] = {"description": tool.get("description"), "inputSchema": tool["inputSchema"]}
    return listed
