"""HAYHOOKS_STARTUP_DEPLOY_STRATEGY=lazy: pipelines found at cold start, each loaded by its first request."""

import sys
import threading

from fastapi.testclient import TestClient

from core.app import create_app
from core.app_services import services_of
from core.loader import load_registry, module_name_for
from handler.entry import LambdaHandler
from infra.lambda_events import Context, http_v2, parse
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


def test_openai_calls_load_and_status_checks_do_not():
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
    status = client.get("/status/yaml_echo").json()
    assert status["pipeline"] == "yaml_echo" and status["state"] == "pending"
    assert registry.states()["yaml_echo"] == "pending"  # a status check never loads
    assert client.get("/status/chat_sync").json()["state"] == "loaded"


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
        registry.load_pending("echo")
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


def test_a_public_status_check_never_loads(monkeypatch):
    registry, client = lazy_app(api_keys=(b"k-one",))
    app = client.app
    services_of(app).settings = fixture_settings(startup_deploy_strategy="lazy", auth_public_status=True)
    app.middleware_stack = None  # rebuilt with the public-status setting
    assert client.get("/status/echo").json()["state"] == "pending"
    assert registry.states()["echo"] == "pending"


def _folder(tmp_path, name: str, body: str):
    (tmp_path / name).mkdir()
    (tmp_path / name / "pipeline_wrapper.py").write_text(body)


RUN_OK = "    def run_api(self) -> str:\n        return 'ok'\n"


def test_a_pipeline_named_like_a_fixed_route_still_runs(tmp_path):
    """`/undeploy/{name}` is a fixed route; a pipeline called 'undeploy' must still get its /run."""
    _folder(tmp_path, "undeploy", "class PipelineWrapper:\n    def setup(self) -> None:\n        pass\n\n" + RUN_OK)
    settings = fixture_settings(pipelines_dir=tmp_path, startup_deploy_strategy="lazy")
    client = TestClient(create_app(settings, load_registry(settings)))
    reply = client.post("/undeploy/run", json={})
    assert reply.status_code == 200 and reply.json() == {"result": "ok"}


def test_setup_may_run_its_own_event_loop_on_lambda(tmp_path):
    """Loading happens in a worker thread, as at cold start: asyncio.run() in setup() works."""
    _folder(
        tmp_path,
        "loopy",
        "import asyncio\n\n\nasync def _answer() -> str:\n    return 'ok'\n\n\n"
        "class PipelineWrapper:\n    def setup(self) -> None:\n        self.answer = asyncio.run(_answer())\n\n"
        "    def run_api(self) -> str:\n        return self.answer\n",
    )
    handler = LambdaHandler(fixture_settings(pipelines_dir=tmp_path, startup_deploy_strategy="lazy"))
    reply = parse(handler(http_v2("POST", "/loopy/run", body={}), Context()))
    assert reply.status == 200 and reply.json() == {"result": "ok"}


def test_a_request_during_a_load_waits_for_the_route(tmp_path):
    """Two first requests at once (make run): the second must not see the pipeline loaded but unrouted."""
    import asyncio
    import time

    import httpx

    registry, _ = lazy_app()
    app = create_app(fixture_settings(startup_deploy_strategy="lazy"), registry)
    registry.on_load.insert(0, lambda result: time.sleep(0.3))  # widen the window before the route exists

    async def both():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            first = asyncio.create_task(client.post("/echo/run", json={"text": "a"}))
            await asyncio.sleep(0.1)  # the first is loading
            second = await client.post("/echo/run", json={"text": "b"})
            return await first, second

    first, second = asyncio.run(both())
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["result"]["text"] == "b"


def test_a_pipeline_that_cannot_be_added_fails_alone():
    registry, client = lazy_app()
    raised = []

    def refuse_once(result):
        if not raised:
            raised.append(result.name)
            raise ValueError("route rejected")

    registry.on_load.insert(0, refuse_once)
    reply = client.post("/echo/run", json={"text": "x"})
    assert reply.status_code == 503
    assert reply.json() == {"detail": "Pipeline 'echo' failed to load: adding it failed: ValueError: route rejected"}
    assert registry.states()["echo"] == "failed" and registry.failed["echo"].stage == "load"
    assert client.post("/thread_name/run", json={}).status_code == 200


def test_loading_never_edits_the_route_list():
    _, client = lazy_app()
    routes = list(client.app.router.routes)
    assert client.post("/echo/run", json={"text": "x"}).status_code == 200
    assert client.post("/broken_setup/run", json={}).status_code == 503
    assert client.app.router.routes == routes  # the same objects, in the same order


def test_a_pending_route_answers_other_methods_without_loading():
    registry, client = lazy_app()
    reply = client.get("/echo/run")
    assert reply.status_code == 405 and reply.headers["allow"] == "POST"
    assert registry.states()["echo"] == "pending"


def test_once_loaded_the_openapi_document_is_the_eager_one_byte_for_byte():
    settings = fixture_settings(startup_deploy_strategy="lazy")
    lazy_registry = load_registry(settings)
    lazy = TestClient(create_app(settings, lazy_registry))
    before = lazy.get("/openapi.json").json()
    assert not [path for path in before["paths"] if path.endswith("/run")]  # pending: not documented yet
    for name in list(lazy_registry.pending):
        lazy_registry.load_pending(name)
    eager_settings = fixture_settings(startup_deploy_strategy="sequential")
    eager = TestClient(create_app(eager_settings, load_registry(eager_settings)))
    document = eager.get("/openapi.json").content
    assert "/echo/run" in eager.get("/openapi.json").json()["paths"]
    assert lazy.get("/openapi.json").content == document


def test_a_pipeline_without_run_api_loads_and_its_run_path_is_a_404():
    registry, client = lazy_app()
    assert "chat_only" in registry.pending
    assert client.get("/status").json()["deployments"] == []  # summaries built (and kept) now
    assert client.post("/chat_only/run", json={}).status_code == 404
    assert registry.states()["chat_only"] == "loaded"
    assert "chat_only" in [d["name"] for d in client.get("/status").json()["deployments"]]
