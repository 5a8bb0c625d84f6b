"""`make run`: `python -m core` serves the same app with uvicorn, no Docker, no AWS account."""

import os
import subprocess
import sys
import time

import httpx
import pytest

from infra.emulator import free_port
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def server():
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAYHOOKS_")}
    env.update(HAYHOOKS_PORT=str(port), HAYSTACK_TELEMETRY_ENABLED="False")
    proc = subprocess.Popen([sys.executable, "-m", "core"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"python -m core exited: {proc.stderr.read()}")
        try:
            httpx.get(f"{base}/status", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    yield base
    proc.terminate()
    proc.wait(timeout=10)


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
