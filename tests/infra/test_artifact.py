"""What infra/build.py's trims leave in the built artifact, and that the paths they touch still run under the
Lambda Runtime Interface Emulator: MCP (mcp shipped as bytecode only, without the uvicorn it declares).
tests/infra/test_runtime.py runs the rest (pipelines through Haystack, networkx, numpy and openai)."""

from __future__ import annotations

import json

import pytest

from infra.build import BYTECODE_ONLY, UNUSED_ON_LAMBDA
from infra.emulator import Emulator
from infra.lambda_events import http_v2, parse

MCP_HEADERS = {"accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18"}


@pytest.fixture(scope="module")
def emulator(artifact, tmp_path_factory):
    rie = Emulator(artifact, {}, tmp_path_factory.mktemp("rie") / "rie.log")
    yield rie
    rie.stop()


def mcp(emulator, method: str, params: dict) -> dict:
    message = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    reply = parse(emulator.invoke(http_v2("POST", "/mcp", body=message, headers=MCP_HEADERS)))
    assert reply.status == 200, reply.body
    return reply.json()["result"]


def test_the_unused_distributions_are_gone(artifact):
    for name in UNUSED_ON_LAMBDA:
        assert not (artifact / name).exists() and not list(artifact.glob(f"{name}-*.dist-info")), name


def test_bytecode_only_libraries_have_no_sources_and_the_rest_keep_theirs(artifact):
    assert {"numpy", "openai", "mcp"} <= BYTECODE_ONLY
    for folder in ("numpy", "openai", "mcp"):
        assert not list((artifact / folder).rglob("*.py")), folder
        assert (artifact / folder / "__init__.pyc").is_file()
    for kept in ("haystack/__init__.py", "anyio/__init__.py", "core/app.py", "handler/__init__.py"):
        assert (artifact / kept).is_file(), kept


def test_mcp_lists_and_calls_a_pipeline(emulator):
    tools = {tool["name"] for tool in mcp(emulator, "tools/list", {})["tools"]}
    assert {"greeting", "search_docs"} <= tools
    result = mcp(emulator, "tools/call", {"name": "greeting", "arguments": {"name": "Ann", "place": "Lambda"}})
    assert result["isError"] is False
    assert "Hello Ann, welcome to Lambda!" in json.dumps(result["content"])
