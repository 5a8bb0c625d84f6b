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


HAYHOOKS_STATUS_TOOLS = ("get_all_pipeline_statuses", "get_pipeline_status")
HAYHOOKS_DEPLOY_TOOLS = ("deploy_pipeline", "undeploy_pipeline")


def assert_listed_like_hayhooks(listed: dict[str, dict[str, Any]]) -> None:
    """Every pipeline tool exactly as Hayhooks lists it (name, description, input schema); its status tools by
    name and arguments (described in our words); no deploy tools; nothing that is not a tool."""
    theirs = expected()["tools"]
    pipeline_tools = {n: t for n, t in theirs.items() if n not in HAYHOOKS_STATUS_TOOLS + HAYHOOKS_DEPLOY_TOOLS}
    assert {n: t for n, t in listed.items() if n not in HAYHOOKS_STATUS_TOOLS} == pipeline_tools
    for name in HAYHOOKS_STATUS_TOOLS:
        ours, hayhooks = listed[name]["inputSchema"], theirs[name]["inputSchema"]
        assert ours.get("required") == hayhooks.get("required")
        assert set(ours.get("properties", {})) == set(hayhooks.get("properties", {}))
    assert not set(listed) & set(HAYHOOKS_DEPLOY_TOOLS + NOT_TOOLS)


def assert_answered_like_hayhooks(calls: dict[str, dict[str, Any]], *, echo_calls: int | None = None) -> None:
    """Each result as Hayhooks answered it; a failure with the pipeline's message (our own words around it).
    `echo_tool` reports how often its environment ran it: `echo_calls` when given, else left out."""
    theirs = expected()["calls"]
    assert set(calls) == set(theirs)
    for name, answer in calls.items():
        assert answer["isError"] is theirs[name]["isError"], (name, answer)
        assert len(answer["text"]) == 1, answer
        if answer["isError"]:
            assert "no answer to why" in answer["text"][0] and "no answer to why" in theirs[name]["text"][0]
        elif name == "echo_tool":
            ours, hayhooks = json.loads(answer["text"][0]), json.loads(theirs[name]["text"][0])
            count, _ = ours.pop("calls"), hayhooks.pop("calls")
            assert ours == hayhooks
            assert echo_calls is None or count == echo_calls, (count, echo_calls)
        else:
            assert answer["text"] == theirs[name]["text"], name
