"""`make run`: `python -m core` serves the same app with uvicorn, no Docker, no AWS account."""

import httpx
import pytest

from tests.conftest import EXAMPLES
from tests.make_run import make_run_server, server_env


@pytest.fixture(scope="module")
def server():
    with make_run_server(server_env(HAYHOOKS_PIPELINES_DIR=str(EXAMPLES))) as base:
        yield base


def test_serves_status_and_runs_pipelines(server):
    status = httpx.get(f"{server}/status").json()
    assert status["status"] == "Up!"
    assert {"search_docs", "prompt_builder", "greeting", "chat_with_docs"} <= set(status["pipelines"])
    reply = httpx.post(f"{server}/greeting/run", json={"name": "Ann", "place": "Lambda"})
    assert reply.json() == {"result": {"greeting_builder": {"prompt": "Hello Ann, welcome to Lambda!"}}}
    assert reply.headers["x-request-id"]


def test_concurrent_requests_are_served(server):
    import concurrent.futures

    def call(i):
        return httpx.post(f"{server}/search_docs/run", json={"query": f"lambda {i}"}).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert set(pool.map(call, range(32))) == {200}


def test_root_path_serves_the_same_urls_as_on_lambda():
    """Before: with HAYHOOKS_ROOT_PATH=/prod, `make run` answered 404 under /prod (uvicorn's root_path only
    labels URLs), while the deployed function answers both with and without the prefix."""
    import httpx

    from tests.conftest import FIXTURE_PIPELINES
    from tests.make_run import make_run_server, server_env

    env = server_env(HAYHOOKS_ROOT_PATH="/prod", HAYHOOKS_PIPELINES_DIR=str(FIXTURE_PIPELINES))
    with make_run_server(env) as base:
        for path in ("/prod/status", "/status"):
            assert httpx.get(base + path).status_code == 200, path
        for path in ("/prod/echo/run", "/echo/run"):
            reply = httpx.post(base + path, json={"text": "x"})
            assert reply.status_code == 200 and reply.json()["result"]["text"] == "x", path
        assert httpx.get(base + "/prod/openapi.json").status_code == 200
        assert "/prod/openapi.json" in httpx.get(base + "/prod/docs").text
