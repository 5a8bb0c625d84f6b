"""`/mcp` under `make run`'s server (`python -m core`, uvicorn) with the official MCP client over HTTP: each way
the client may start (the 2025 `initialize` handshake, the `server/discover` probe, no handshake at all)
lists the tools Hayhooks 2.1.0 lists for the same folder and gets the answers it gets."""

from __future__ import annotations

import anyio
import httpx
import pytest

from tests.make_run import make_run_server, server_env
from tests.mcp_client import sequence
from tests.mcp_tools_cases import PIPELINES, assert_answered_like_hayhooks, assert_listed_like_hayhooks

KEY = "mcp-make-run-key-0123456789"


@pytest.fixture(scope="module")
def base_url():
    with make_run_server(server_env(HAYHOOKS_PIPELINES_DIR=str(PIPELINES), HAYHOOKS_API_KEYS=KEY)) as base:
        yield base


@pytest.mark.parametrize("mode", ["legacy", "auto", "2026-07-28"])
def test_official_client_lists_and_calls_as_hayhooks(base_url, mode):
    result = anyio.run(lambda: sequence(f"{base_url}/mcp", mode=mode, api_key=KEY))
    if mode == "legacy":
        assert result["protocol"] < "2026"  # the handshake era, as Claude Desktop and Cursor speak it today
    else:
        assert result["protocol"] == "2026-07-28"
    assert_listed_like_hayhooks(result["tools"])
    assert_answered_like_hayhooks(result["calls"])


def test_tools_call_without_a_key_is_401(base_url):
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "echo_tool", "arguments": {}}}
    headers = {"accept": "application/json, text/event-stream"}
    reply = httpx.post(f"{base_url}/mcp", json=call, headers=headers)
    assert reply.status_code == 401
    assert httpx.post(f"{base_url}/mcp", json=call, headers={**headers, "x-api-key": KEY}).status_code == 200


def test_the_client_without_a_key_is_refused(base_url):
    from mcp.shared.exceptions import MCPError

    with pytest.raises(ExceptionGroup) as caught:  # the SDK's task groups wrap its error
        anyio.run(lambda: sequence(f"{base_url}/mcp", mode="legacy"))
    assert caught.group_contains(MCPError, match="error response")
