"""HAYHOOKS_STARTUP_DEPLOY_STRATEGY=lazy: pipelines found at cold start, each loaded by its first request."""

import sys
import threading

from fastapi.testclient import TestClient

from core.app import create_app
from core.loader import load_registry, module_name_for
from handler.entry import LambdaHandler
from tests.apigw import Context, http_v2, parse
from tests.conftest import fixture_settings


def lazy_app(api_keys: tuple[bytes, ...] = ()):
    settings = fixture_settings(startup_deploy_strategy="lazy")
    registry = load_registry(settings)
    return registry, TestClient(create_app(settings, registry, api_keys=api_keys))


def imported(name: str) -> bool:
    return module_name_for(name) + ".pipeline_wrapper" in sys.modules


def test_cold_start_finds_every_pipeline_and_loads_none():
    registry, client = lazy_app()
    status = client.get("/status").json()
    assert status["pipelines"] == []  # Hayhooks' key keeps its meaning: the pipelines loaded so far
    assert set(status["states"]) >= {"echo", "broken_setup", "chat_sync", "yaml_echo"}
    assert all(state == "pending" for name, state in status["states"].items() if name not in registry.failed)
    assert not registry.loaded
    assert "/echo/run" not in client.get("/openapi.json").json()["paths"]


def test_first_request_loads_the_pipeline_and_only_it():
    registry, client = lazy_app()
    for name in ("echo", "thread_name"):
        sys.modules.pop(module_name_for(name) + ".pipeline_wrapper", None)
    reply = client.post("/echo/run", json={"text": "hi", "times": 2})
    assert reply.status_code == 200 and reply.json()["result"]["text"] == "hihi"
    assert reply.json()["result"]["calls"] == 1
    assert registry.get("echo").wrapper.warmed == 1  # setup and warm-up ran, once
    assert imported("echo") and not imported("thread_name")
    status = client.get("/status").json()
    assert status["pipelines"] == ["echo"] and status["states"]["echo"] == "loaded"
    assert status["states"]["thread_name"] == "pending"
    assert [d["name"] for d in status["deployments"]] == ["echo"]
    assert "/echo/run" in client.get("/openapi.json").json()["paths"]
    assert client.post("/echo/run", json={"text": "x"}).json()["result"]["calls"] == 2  # same wrapper


def test_a_broken_pipeline_fails_on_its_first_request_and_the_others_still_serve():
    _, client = lazy_app()
    reply = client.post("/broken_setup/run", json={})
    assert reply.status_code == 503
    assert reply.json()["detail"].startswith("Pipeline 'broken_setup' failed to load: PipelineWrapper.setup() raised")
    assert client.post("/broken_setup/run", json={}).status_code == 503  # recorded, not retried per request
    status = client.get("/status").json()
    assert status["states"]["broken_setup"] == "failed"
    assert [f["name"] for f in status["failed"] if f["name"] == "broken_setup"] == ["broken_setup"]
    assert client.post("/echo/run", json={"text": "ok"}).status_code == 200


def test_unknown_names_and_validation_errors_behave_as_without_lazy():
    _, client = lazy_app()
    assert client.post("/nope/run", json={}).status_code == 404
    reply = client.post("/echo/run", json={})
    assert reply.status_code == 422 and reply.json()["detail"][0]["loc"] == ["body", "text"]


def test_openai_calls_and_pipeline_status_load_through_the_registry():
    registry, client = lazy_app()
    models = [m["id"] for m in client.get("/v1/models").json()["data"]]
    assert "chat_sync" in models and "broken_setup" in models  # not known to be broken until loaded
    assert client.post("/broken_setup/run", json={}).status_code == 503
    assert "broken_setup" not in [m["id"] for m in client.get("/v1/models").json()["data"]]
    reply = client.post(
        "/v1/chat/completions", json={"model": "chat_sync", "messages": [{"role": "user", "content": "hi"}]}
    )
    assert reply.status_code == 200 and reply.json()["object"] == "chat.completion"
    assert registry.states()["chat_sync"] == "loaded"
    assert client.get("/status/yaml_echo").json()["pipeline"] == "yaml_echo"
    assert registry.states()["yaml_echo"] == "loaded"


def test_concurrent_first_requests_load_once():
    registry, _ = lazy_app()
    calls = []
    real_load = registry.load

    def counting_load(candidate):
        calls.append(candidate.name)
        return real_load(candidate)

    registry.load = counting_load
    start = threading.Barrier(8)
    found = []

    def first_request():
        start.wait()
        found.append(registry.get("echo"))

    threads = [threading.Thread(target=first_request) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["echo"]
    assert len({id(p) for p in found}) == 1 and found[0] is registry.loaded["echo"]


def test_an_unauthenticated_request_does_not_load_anything():
    registry, client = lazy_app(api_keys=(b"k-one",))
    assert client.post("/echo/run", json={"text": "x"}).status_code == 401
    assert registry.states()["echo"] == "pending"
    assert client.post("/echo/run", json={"text": "x"}, headers={"x-api-key": "k-one"}).status_code == 200


def test_through_the_lambda_handler_with_a_stage_prefix():
    handler = LambdaHandler(fixture_settings(startup_deploy_strategy="lazy"))
    event = http_v2("POST", "/echo/run", body={"text": "hi"}, stage="prod")
    reply = parse(handler(event, Context()))
    assert reply.status == 200 and reply.json()["result"]["text"] == "hi"
    assert handler.registry.states()["echo"] == "loaded"
