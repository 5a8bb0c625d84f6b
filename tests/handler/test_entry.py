"""The Lambda handler (handler/entry.py): its init (the warm-up runs when it pays), and invocations through
Mangum: unusual paths and headers, an event loop cleared between invocations."""

import pytest

from core.warmup import WARMUP_REPEAT, WARMUP_RUN_PATH
from handler.entry import LambdaHandler
from infra.lambda_events import Context, assert_still_serving, http_v2, parse
from tests.conftest import fixture_settings


def test_on_demand_init_does_not_warm_up(monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
    handler = LambdaHandler(fixture_settings())
    assert handler.init_warm_up_statuses == []
    assert handler.app.middleware_stack is None  # no request went through the app at init


def test_provisioned_concurrency_init_warms_up(monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "provisioned-concurrency")
    handler = LambdaHandler(fixture_settings())
    assert handler.init_warm_up_statuses == [200, 200] * WARMUP_REPEAT
    assert parse(handler(http_v2("POST", WARMUP_RUN_PATH, body={"text": "x"}), Context())).status == 404
    first = parse(handler(http_v2("GET", "/status"), Context()))
    assert first.status == 200 and handler.metrics is not None


def test_forced_on_with_api_keys_and_a_stage(monkeypatch):
    monkeypatch.setenv("HAYHOOKS_API_KEYS", "key-one-0123456789")
    handler = LambdaHandler(fixture_settings(init_warm_up="on", root_path="/api"))
    assert handler.init_warm_up_statuses == [200, 200] * WARMUP_REPEAT
    assert parse(handler(http_v2("GET", "/status"), Context())).status == 401  # keys are still required


@pytest.mark.parametrize(
    ("path", "status", "detail"),
    [
        ("/status/日本", 404, "Pipeline '日本' not found"),
        ("/status/a\x00b", 404, "Pipeline 'a\x00b' not found"),
        ("/status/a\r\nSet-Cookie: x=1", 404, "Pipeline 'a\r\nSet-Cookie: x=1' not found"),
        ("/status/%00%ff", 404, "Pipeline '\x00\ufffd' not found"),
        ("/échø/run", 404, "Not Found"),
    ],
)
def test_unicode_and_control_characters_in_paths(build, fixture_handler, path, status, detail):
    reply = parse(fixture_handler(build("GET" if path.startswith("/status") else "POST", path, body=None), Context()))
    assert (reply.status, reply.json()) == (status, {"detail": detail})
    assert "set-cookie" not in reply.headers
    assert_still_serving(fixture_handler, build)


@pytest.mark.parametrize(
    "headers",
    [{"x-name": "Zoë 日本"}, {"x-name": "a\r\nSet-Cookie: x=1"}, {"x-name": "a\x00b"}, {"x-näme": "a"}],
)
def test_unicode_and_control_characters_in_headers(build, fixture_handler, headers):
    reply = parse(fixture_handler(build("POST", "/echo/run", body={"text": "é\u0001"}, headers=headers), Context()))
    assert reply.status == 200
    assert reply.json()["result"]["text"] == "é\u0001"
    assert "set-cookie" not in reply.headers
    assert_still_serving(fixture_handler, build)


def test_invocations_survive_asyncio_run_in_between(build, invoke):
    """asyncio.run() (a SnapStart hook, a script calling the handler) clears the thread's event loop when it
    ends; Mangum asks for that loop on every invocation, which then failed as a 400 'Malformed HTTP event'."""
    import asyncio

    event = build("POST", "/echo/run", body={"text": "hi"})
    assert invoke(event).status == 200
    asyncio.run(asyncio.sleep(0))
    reply = invoke(event)
    assert reply.status == 200, reply.body
    assert reply.json()["result"]["text"] == "hi"
