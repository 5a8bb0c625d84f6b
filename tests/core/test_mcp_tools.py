"""`/mcp` in process (core/mcp_tools.py, core/mcp_server.py): raw JSON-RPC, as a client that never sent
`initialize` does, against the app built on tests/fixtures/mcp_tools. The official client over HTTP is in
tests/core/test_mcp_server.py, through the Lambda handler in tests/handler/test_mcp_lambda.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.app_services import services_of
from core.service import build_service
from tests.conftest import fixture_settings
from tests.mcp_tools_cases import (
    CALLS,
    PIPELINES,
    assert_answered_like_hayhooks,
    assert_listed_like_hayhooks,
    tool_listing,
)

KEY = "mcp-test-key-0123456789"
HEADERS = {"accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18"}


def rpc(client: TestClient, method: str, params: dict[str, Any] | None = None, **headers: str) -> Any:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": 7, "method": method}
    if params is not None:
        message["params"] = params
    return client.post("/mcp", json=message, headers={**HEADERS, **headers})


def call(client: TestClient, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    reply = rpc(client, "tools/call", {"name": name, "arguments": arguments or {}})
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("application/json")  # one body, nothing left open
    result = reply.json()["result"]
    return {"isError": result["isError"], "text": [block["text"] for block in result["content"]]}


def app_client(monkeypatch: pytest.MonkeyPatch, **settings: Any) -> TestClient:
    monkeypatch.delenv("HAYHOOKS_API_KEYS", raising=False)
    app, _ = build_service(fixture_settings(pipelines_dir=PIPELINES, **settings))
    return TestClient(app)


@pytest.fixture(scope="module")
def client() -> TestClient:
    app, _ = build_service(fixture_settings(pipelines_dir=PIPELINES))
    return TestClient(app)


def test_tools_list_without_initialize_lists_what_hayhooks_lists(client):
    reply = rpc(client, "tools/list")
    assert reply.status_code == 200
    assert "mcp-session-id" not in reply.headers  # stateless: nothing to come back to
    assert_listed_like_hayhooks(tool_listing(reply.json()["result"]["tools"]))


def test_each_tool_answers_as_hayhooks_without_initialize(client):
    assert_answered_like_hayhooks({name: call(client, name, arguments) for name, arguments in CALLS.items()})


def test_a_stream_answers_its_text_joined(client):
    assert call(client, "streamer", {"count": 4}) == {"isError": False, "text": ["1 2 3 4 "]}


def test_bad_arguments_unknown_tools_and_hidden_pipelines_answer_errors(client):
    bad = call(client, "echo_tool", {"times": "often"})
    assert bad["isError"] and "text" in bad["text"][0] and "times" in bad["text"][0]
    for name in ("nope", "hidden", "chat_only"):
        assert call(client, name, {"secret": "x"}) == {"isError": True, "text": [f"Unknown tool: {name}"]}
    broken = call(client, "broken", {"text": "x"})
    assert broken["isError"] and "this pipeline cannot start" in broken["text"][0]


def test_deploy_tools_answer_an_error_and_change_nothing(client):
    before = rpc(client, "tools/list").json()["result"]["tools"]
    for name, arguments in [("undeploy_pipeline", {"pipeline_name": "echo_tool"}), ("deploy_pipeline", {})]:
        answer = call(client, name, arguments)
        assert answer["isError"] and "not available" in answer["text"][0]
    assert rpc(client, "tools/list").json()["result"]["tools"] == before
    assert not call(client, "echo_tool", {"text": "still here"})["isError"]


def test_status_tools(client):
    everything = call(client, "get_all_pipeline_statuses")
    assert not everything["isError"]
    assert "echo_tool: loaded" in everything["text"][0] and "broken: failed" in everything["text"][0]
    assert call(client, "get_pipeline_status", {"pipeline_name": "echo_tool"})["text"] == [
        "Pipeline 'echo_tool' is deployed and loaded"
    ]
    assert "cannot start" in call(client, "get_pipeline_status", {"pipeline_name": "broken"})["text"][0]
    assert call(client, "get_pipeline_status", {})["isError"]


def test_tracebacks_only_when_asked(client, monkeypatch):
    assert "Traceback" not in call(client, "raises", CALLS["raises"])["text"][0]
    shown = call(app_client(monkeypatch, show_tracebacks=True), "raises", CALLS["raises"])
    assert shown["isError"] and "Traceback" in shown["text"][0] and "no answer to why" in shown["text"][0]


def test_lazy_pipelines_load_on_their_first_call_and_on_tools_list(monkeypatch):
    lazy = app_client(monkeypatch, startup_deploy_strategy="lazy")
    registry = services_of(lazy.app).registry
    assert "echo_tool" in registry.pending and not registry.loaded
    assert json.loads(call(lazy, "echo_tool", {"text": "a"})["text"][0])["text"] == "a"
    assert "echo_tool" in registry.loaded and "async_story" in registry.pending  # only the one called
    assert_listed_like_hayhooks(tool_listing(rpc(lazy, "tools/list").json()["result"]["tools"]))
    assert not registry.pending


def test_get_and_delete_are_refused_and_a_trailing_slash_redirects(client):
    for method in ("GET", "DELETE"):
        reply = client.request(method, "/mcp", headers=HEADERS)
        assert reply.status_code == 405 and reply.headers["allow"] == "POST"
    reply = client.post("/mcp/", json={}, headers=HEADERS, follow_redirects=False)
    assert reply.status_code == 307 and reply.headers["location"] == "/mcp"


def test_api_keys_apply_as_to_run(monkeypatch):
    monkeypatch.setenv("HAYHOOKS_API_KEYS", KEY)
    app, _ = build_service(fixture_settings(pipelines_dir=PIPELINES))
    secured = TestClient(app)
    params = {"name": "echo_tool", "arguments": {"text": "a"}}
    assert rpc(secured, "tools/call", params).status_code == 401
    assert rpc(secured, "tools/call", params, **{"x-api-key": "wrong-key-0123456789"}).status_code == 401
    assert rpc(secured, "tools/list").status_code == 401
    assert rpc(secured, "tools/call", params, **{"x-api-key": KEY}).status_code == 200
    assert rpc(secured, "tools/call", params, authorization=f"Bearer {KEY}").status_code == 200


def test_the_body_limit_applies(monkeypatch):
    small = app_client(monkeypatch, max_request_bytes=2048)
    reply = rpc(small, "tools/call", {"name": "echo_tool", "arguments": {"text": "x" * 4096}})
    assert reply.status_code == 413
    assert call(small, "echo_tool", {"text": "x" * 100})["isError"] is False


def test_a_run_that_outlives_the_invocation_answers_an_error(monkeypatch):
    """On Lambda the deadline is the invocation's remaining time (its context, which Mangum puts in the scope)."""
    from infra.lambda_events import Context

    app = app_client(monkeypatch, timeout_margin_ms=0).app

    async def invoked_with_300_ms_left(scope, receive, send):
        await app({**scope, "aws.context": Context(remaining_ms=300)}, receive, send)

    timed = TestClient(invoked_with_300_ms_left)
    answer = call(timed, "slow_tool", {"seconds": 5})
    assert answer["isError"] and "did not finish within" in answer["text"][0]
    assert call(timed, "slow_tool", {"seconds": 0}) == {"isError": False, "text": ["waited 0.0 s"]}
