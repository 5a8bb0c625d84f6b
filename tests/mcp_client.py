"""The official MCP client (SDK 2.x) in tests: one whole sequence against a `/mcp` URL, as plain data.

`mode` is the client's: "legacy" (the `initialize` handshake of the 2025 protocol versions), "auto" (probe
`server/discover`, fall back to the handshake) or a 2026-07-28 version pin (no handshake at all).
"""

from __future__ import annotations

from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.mcp_tools_cases import CALLS, tool_listing


def http_client(*, api_key: str | None = None, transport: Any = None) -> httpx2.AsyncClient:
    headers = {"x-api-key": api_key} if api_key else None
    return httpx2.AsyncClient(headers=headers, transport=transport, timeout=httpx2.Timeout(60))


async def sequence(url: str, *, mode: str, api_key: str | None = None, transport: Any = None) -> dict[str, Any]:
    """List the tools and call each of CALLS once; what was listed, answered and negotiated."""
    async with http_client(api_key=api_key, transport=transport) as http:
        async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:
            listed = await client.list_tools()
            calls = {name: await client.call_tool(name, arguments) for name, arguments in CALLS.items()}
            return {
                "protocol": client.protocol_version,
                "tools": tool_listing(listed.tools),
                "calls": {name: answer(result) for name, result in calls.items()},
            }


def answer(result: Any) -> dict[str, Any]:
    """A CallToolResult as the recorded Hayhooks answers are stored."""
    return {"isError": result.is_error, "text": [block.text for block in result.content]}
