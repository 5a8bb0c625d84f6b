"""`/mcp` through `handler.lambda_handler`: the official MCP client over an httpx2 transport that turns each
request into an API Gateway HTTP API event (tests/mcp_lambda_transport.py).

The SDK's session manager, run the usual way under Mangum, fails on every warm invocation after the first
(its `run()` may be entered once; Mangum's lifespan would enter it per invocation). Here: the whole sequence
twice on one warm handler, then a fresh process whose first MCP request is a `tools/call` without
`initialize`, and whose cold start and `/run` never imported the SDK.
"""

from __future__ import annotations

import json
import subprocess
import sys

import anyio
import pytest

from handler.entry import LambdaHandler
from tests.cold import ROOT, clean_env
from tests.conftest import fixture_settings
from tests.mcp_client import sequence
from tests.mcp_lambda_transport import AsyncLambdaTransport
from tests.mcp_tools_cases import PIPELINES, assert_answered_like_hayhooks, assert_listed_like_hayhooks

KEY = "mcp-lambda-key-0123456789"
URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/mcp"


@pytest.fixture(scope="module")
def warm_handler():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HAYHOOKS_API_KEYS", KEY)
        return LambdaHandler(fixture_settings(pipelines_dir=PIPELINES))


def test_the_whole_sequence_twice_on_one_warm_handler(warm_handler):
    transport = AsyncLambdaTransport(warm_handler)
    answers = []
    for mode in ("legacy", "legacy", "auto"):
        before = warm_handler.invocations
        result = anyio.run(lambda mode=mode: sequence(URL, mode=mode, api_key=KEY, transport=transport))
        assert warm_handler.invocations > before  # each message its own invocation of the same environment
        assert_listed_like_hayhooks(result["tools"])
        answers.append(result["calls"])
    for count, calls in enumerate(answers, start=1):  # echo_tool counts its calls: one environment, kept warm
        assert_answered_like_hayhooks(calls, echo_calls=count)


def test_no_key_no_tools(warm_handler):
    from mcp.shared.exceptions import MCPError

    with pytest.raises(ExceptionGroup) as caught:
        anyio.run(lambda: sequence(URL, mode="2026-07-28", transport=AsyncLambdaTransport(warm_handler)))
    assert caught.group_contains(MCPError)


FRESH_PROCESS = f"""
import json, sys
import anyio
import handler
from infra.lambda_events import Context, http_v2, parse

key = {{"x-api-key": {KEY!r}}}
status = handler.lambda_handler(http_v2("GET", "/status", headers=key), Context())["statusCode"]
run = handler.lambda_handler(http_v2("POST", "/echo_tool/run", body={{"text": "a"}}, headers=key), Context())
sdk_after_cold_start_and_run = "mcp" in sys.modules

# the environment's first MCP message: a tools/call of the 2025 protocol, no initialize before it
params = {{"name": "echo_tool", "arguments": {{"text": "b"}}}}
call = {{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}}
headers = {{**key, "accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18"}}
first = parse(handler.lambda_handler(http_v2("POST", "/mcp", body=call, headers=headers), Context()))

from tests.mcp_client import sequence
from tests.mcp_lambda_transport import AsyncLambdaTransport

transport = AsyncLambdaTransport(handler.lambda_handler)
result = anyio.run(lambda: sequence({URL!r}, mode="2026-07-28", api_key={KEY!r}, transport=transport))
print(json.dumps({{
    "status": status, "run": run["statusCode"], "sdk_after_cold_start_and_run": sdk_after_cold_start_and_run,
    "first": {{"status": first.status, "body": first.json(), "session": first.headers.get("mcp-session-id")}},
    "result": result,
}}))
"""


def test_a_fresh_process_answers_a_client_that_never_initializes():
    env = clean_env(PYTHONPATH=str(ROOT), HAYHOOKS_PIPELINES_DIR=str(PIPELINES), HAYHOOKS_API_KEYS=KEY)
    proc = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (out["status"], out["run"]) == (200, 200)
    assert out["sdk_after_cold_start_and_run"] is False  # a function that gets no MCP request never imports it
    first = out["first"]
    assert first["status"] == 200 and first["session"] is None
    assert first["body"]["result"]["isError"] is False
    assert json.loads(first["body"]["result"]["content"][0]["text"])["text"] == "b"
    assert out["result"]["protocol"] == "2026-07-28"
    assert_listed_like_hayhooks(out["result"]["tools"])
    # /run, the raw call, then the client's: the third call of this environment
    assert_answered_like_hayhooks(out["result"]["calls"], echo_calls=3)
