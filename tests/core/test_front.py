"""core/front.py: the lean front answers what the FastAPI app answers, byte for byte, and hands it the rest.

Each request goes to both apps, built over the same registry of fixture pipelines (tests/fixtures/pipelines):
the eager FastAPI app of core/app.py and the lean front (with the FastAPI app it builds behind it). Status,
headers (but the request id) and body must be equal; whether the front answered itself or handed the request
on is checked by whether it had to build its FastAPI app.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from core.app import create_app
from core.app_services import AppServices, services_of
from core.front import LeanFront, _is_json
from core.loader import load_registry
from tests.conftest import fixture_settings

SETTINGS = fixture_settings()


@pytest.fixture(scope="module")
def registry():
    return load_registry(SETTINGS)


@pytest.fixture(scope="module")
def eager(registry):
    return TestClient(create_app(SETTINGS, registry, sync_inline=True), raise_server_exceptions=False)


def _front(registry) -> LeanFront:
    return LeanFront(AppServices(SETTINGS, registry, sync_inline=True, api_keys=()))


def _answer(client: TestClient, method: str, path: str, **kwargs) -> tuple[int, list, bytes]:
    reply = client.request(method, path, **kwargs)
    headers = sorted((k, v) for k, v in reply.headers.items() if k != "x-request-id")
    # /v1/models stamps each model with the current second: two answers may straddle one
    return reply.status_code, headers, re.sub(rb'"created":\d+', b'"created":0', reply.content)


# (method, path, request arguments): answered by the front itself, without FastAPI
LEAN = [
    ("GET", "/status", {}),
    ("GET", "/status/echo", {}),
    ("GET", "/status/no_such_pipeline", {}),
    ("GET", "/status/broken_setup", {}),
    ("POST", "/duck_typed/run", {"json": {"name": "héllo ✓"}}),
    ("POST", "/duck_typed/run", {"json": {"name": "extra fields are ignored", "other": 1}}),
    ("POST", "/duck_typed/run", {"content": b'{"name": "x"}', "headers": {"content-type": "application/vnd.api+json"}}),
    ("POST", "/duck_typed/run", {"content": b'{"name": "x"}', "headers": {"content-type": "Application/JSON; q=1"}}),
    ("POST", "/echo_async/run", {"json": {"text": "async"}}),
    ("POST", "/http_error/run", {"json": {"item_id": "42"}}),
    ("POST", "/failing/run", {"json": {"divisor": 0}}),
    ("POST", "/failing/run", {"json": {"divisor": 4}}),
    ("POST", "/wrong_type/run", {"json": {}}),
    ("POST", "/exits/run", {"json": {"code": "7"}}),
    ("POST", "/binary/run", {"json": {"size": 300}}),
    ("POST", "/streamer/run", {"json": {"words": ["a", "b"]}}),
    ("POST", "/stream_fails/run", {"json": {}}),
    ("POST", "/iterator_result/run", {"json": {"words": ["x", "y"]}}),
    ("POST", "/sse_stream/run", {"json": {"words": ["one", "two"]}}),
]

# handed to the FastAPI app: its answer, whatever it is
HANDED_ON = [
    ("POST", "/echo/run", {"content": b'{"text": ', "headers": {"content-type": "application/json"}}),  # invalid
    ("POST", "/echo/run", {"json": {"times": "many"}}),  # validation errors
    ("POST", "/echo/run", {"json": ["not", "an", "object"]}),
    ("POST", "/echo/run", {}),  # no body
    ("POST", "/echo/run", {"content": b"", "headers": {"content-type": "application/json"}}),
    ("POST", "/echo/run", {"content": b'{"text": "x"}'}),  # no content type
    ("POST", "/echo/run", {"content": b'{"text": "x"}', "headers": {"content-type": "text/plain"}}),
    ("POST", "/echo/run", {"content": b'{"text": "x"}', "headers": {"content-type": "application/json/x"}}),
    ("GET", "/echo/run", {}),  # 405
    ("POST", "/broken_setup/run", {"json": {}}),  # 503
    ("POST", "/no_such_pipeline/run", {"json": {}}),  # 404
    ("POST", "/upload/run", {"files": {"files": ("a.txt", b"abc", "text/plain")}}),  # multipart
    ("GET", "/status/", {}),  # the slash redirect
    ("GET", "/nowhere", {}),
    ("POST", "/deploy_files", {}),
    ("GET", "/v1/models", {}),
    ("HEAD", "/status", {}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), LEAN, ids=[f"{m} {p}" for m, p, _ in LEAN])
def test_the_front_answers_as_fastapi_without_it(registry, eager, method, path, kwargs):
    front = _front(registry)
    expected = _answer(eager, method, path, **kwargs)
    assert _answer(TestClient(front, raise_server_exceptions=False), method, path, **kwargs) == expected
    assert front._full is None  # no FastAPI app was needed


@pytest.mark.parametrize(("method", "path", "kwargs"), HANDED_ON, ids=[f"{m} {p}" for m, p, _ in HANDED_ON])
def test_other_requests_are_answered_by_the_fastapi_app_behind(registry, eager, method, path, kwargs):
    front = _front(registry)
    expected = _answer(eager, method, path, follow_redirects=False, **kwargs)
    client = TestClient(front, raise_server_exceptions=False)
    assert _answer(client, method, path, follow_redirects=False, **kwargs) == expected
    assert front._full is not None
    assert services_of(front._full) is services_of(front)  # one AppServices: observers, summaries, keys


def test_a_validation_error_is_fastapis_422_with_the_body_as_sent(registry):
    front = TestClient(_front(registry))
    reply = front.post("/echo/run", content=b'{"text": 1', headers={"content-type": "application/json"})
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["type"] == "json_invalid"
    assert reply.json()["detail"][0]["loc"] == ["body", 10]


def test_the_openapi_document_is_the_eager_apps(registry, eager):
    front = _front(registry)
    client = TestClient(front)
    assert client.get("/status").status_code == 200 and front._full is None
    assert client.get("/openapi.json").content == eager.get("/openapi.json").content
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text


def test_the_service_middleware_wraps_both_once(registry):
    front = _front(registry)
    client = TestClient(front)
    lean = client.get("/status")
    handed = client.get("/openapi.json")
    assert lean.headers["x-request-id"] and handed.headers["x-request-id"]
    assert lean.headers.get_list("x-request-id") == [lean.headers["x-request-id"]]  # once, not per layer
    assert handed.headers.get_list("x-request-id") == [handed.headers["x-request-id"]]
    assert front._full is not None and front._full.service_middleware is False


def test_api_keys_apply_to_what_the_front_answers(registry):
    key = "k" * 16
    services = AppServices(fixture_settings(), registry, sync_inline=True, api_keys=(key.encode(),))
    client = TestClient(LeanFront(services))
    assert client.get("/status").status_code == 401
    assert client.post("/echo/run", json={"text": "x"}).status_code == 401
    authorized = client.post("/echo/run", json={"text": "x"}, headers={"authorization": f"Bearer {key}"})
    assert authorized.status_code == 200


@pytest.mark.parametrize(
    ("content_type", "json"),
    [
        (None, False),
        ("", False),
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        (" APPLICATION/JSON ", True),
        ("application/problem+json", True),
        ("application/jsonx", False),
        ("text/json", False),
        ("application/json/x", False),
        ("json", False),
    ],
)
def test_json_bodies_are_told_as_fastapi_tells_them(content_type, json):
    assert _is_json(content_type) is json
