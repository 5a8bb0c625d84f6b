"""The core app alone, through Starlette's test client (no Lambda in the way)."""

import pytest
from fastapi.testclient import TestClient

from core.app import create_app
from core.app_services import services_of
from core.loader import load_registry
from core.settings import CorsSettings
from tests.conftest import fixture_settings


@pytest.fixture(scope="module")
def registry():
    return load_registry(fixture_settings())


def client(registry, **overrides):
    settings = fixture_settings(**overrides)
    return TestClient(create_app(settings, registry, sync_inline=overrides.pop("sync_inline", False)))


def test_sync_wrappers_run_inline_only_when_asked(registry):
    inline = TestClient(create_app(fixture_settings(), registry, sync_inline=True))
    pooled = TestClient(create_app(fixture_settings(), registry, sync_inline=False))
    loop_thread = inline.post("/thread_name/run", json={}).json()["result"]
    pool_thread = pooled.post("/thread_name/run", json={}).json()["result"]
    assert loop_thread != pool_thread
    assert "AnyIO worker thread" not in loop_thread and "AnyIO worker thread" in pool_thread


def test_cors_closed_by_default(registry):
    c = client(registry)
    reply = c.get("/status", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in reply.headers
    preflight = c.options(
        "/echo/run", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_open_to_configured_origins(registry):
    c = client(registry, cors=CorsSettings(allow_origins=("https://app.example",), max_age=60))
    reply = c.get("/status", headers={"Origin": "https://app.example"})
    assert reply.headers["access-control-allow-origin"] == "https://app.example"
    preflight = c.options(
        "/echo/run", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 200 and preflight.headers["access-control-max-age"] == "60"
    other = c.get("/status", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_result_not_matching_the_annotation_is_a_pipeline_error(registry):
    reply = client(registry).post("/wrong_type/run", json={})
    assert reply.status_code == 500
    assert reply.json()["detail"].startswith("Pipeline execution failed: 1 validation error for wrong_typeRunResponse")


def test_failure_outside_a_pipeline_is_json_500_with_request_id_and_cors(registry):
    settings = fixture_settings(cors=CorsSettings(allow_origins=("https://app.example",)))
    app = create_app(settings, registry)
    services_of(app).registry = None  # type: ignore[assignment]  # /status now fails inside the app, not in a pipeline
    reply = TestClient(app, raise_server_exceptions=False).get("/status", headers={"Origin": "https://app.example"})
    assert reply.status_code == 500
    assert reply.json() == {"detail": "Internal Server Error"}
    assert reply.headers["x-request-id"]
    assert reply.headers["access-control-allow-origin"] == "https://app.example"


def test_streaming_under_make_run_streams(registry):
    with client(registry).stream("POST", "/streamer/run", json={"words": ["x"]}) as reply:
        assert reply.headers["content-type"].startswith("text/plain")
        assert "".join(reply.iter_text()) == 'x chunk(thinking){"done": true}'


def test_status_shows_tracebacks_only_when_enabled(registry):
    hidden = client(registry).get("/status").json()["failed"]
    shown = client(registry, show_tracebacks=True).get("/status").json()["failed"]
    assert all("traceback" not in f for f in hidden)
    assert all(f["traceback"].startswith("Traceback") for f in shown)


def test_status_of_failed_pipeline_is_503_with_reason(registry):
    reply = client(registry).get("/status/no_return")
    assert reply.status_code == 503
    assert reply.json() == {
        "detail": "Pipeline 'no_return' failed to load: "
        "no_return/pipeline_wrapper.py: Pipeline wrapper is missing a return type for 'run_api' method"
    }


def test_openapi_and_docs(build, invoke):
    spec = invoke(build("GET", "/openapi.json")).json()
    assert "/echo/run" in spec["paths"]
    schema = spec["components"]["schemas"]["echoRunRequest"]
    assert schema["required"] == ["text"]
    assert schema["properties"]["times"]["description"] == "How many times to repeat it."
    assert schema["properties"]["times"]["default"] == 1
    docs = invoke(build("GET", "/docs"))
    assert docs.status == 200 and "swagger-ui" in docs.text


def test_binary_body_without_content_type_is_a_422_not_a_500(build, invoke):
    # found by tests/handler/test_event_fuzz.py: FastAPI's 422 decoded the body as strict UTF-8 to show it
    # as the error's input, and failed on it (a 500)
    event = build("POST", "/echo/run", body=b"\x80\xff")
    for key in ("headers", "multiValueHeaders"):
        if isinstance(event.get(key), dict):
            event[key] = {k: v for k, v in event[key].items() if k.lower() != "content-type"}
    reply = invoke(event)
    assert reply.status == 422
    assert reply.json() == {
        "detail": [
            {
                "type": "model_attributes_type",
                "loc": ["body"],
                "msg": "Input should be a valid dictionary or object to extract fields from",
                "input": "\ufffd\ufffd",
            }
        ]
    }
