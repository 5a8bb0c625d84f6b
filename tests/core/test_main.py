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
