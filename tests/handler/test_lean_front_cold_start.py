"""A Lambda cold start serves `/status` and `/run` without FastAPI (core/front.py) and without posthog's code
(core/deferred_modules.py); the docs work afterwards, and `/openapi.json` is the eager FastAPI app's, byte for
byte. Fresh processes: import state is process-wide."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import textwrap

import pytest

from tests.cold import ROOT, clean_env
from tests.conftest import EXAMPLES

LAMBDA = textwrap.dedent(
    """
    import json, sys
    import handler
    from core.deferred_modules import is_deferred
    from infra.lambda_events import Context, http_v2, parse

    def call(method, path, body=None):
        reply = parse(handler.lambda_handler(http_v2(method, path, body=body), Context()))
        return {"status": reply.status, "body": reply.body.decode("latin-1"), "type": reply.headers.get("content-type")}

    def fastapi_modules():
        return sorted(m for m in sys.modules if m == "fastapi" or m.startswith("fastapi."))

    served = [
        call("GET", "/status"),
        call("POST", "/prompt_builder/run", {"question": "Why?"}),
        call("POST", "/greeting/run", {"name": "Ada", "place": "Lambda"}),
    ]
    posthog = sys.modules.get("posthog")
    cold = {
        "fastapi": fastapi_modules(),
        "posthog": "absent" if posthog is None else "deferred" if is_deferred(posthog) else "executed",
    }
    docs = call("GET", "/docs")
    openapi = call("GET", "/openapi.json")
    print(json.dumps({"served": served, "cold": cold, "docs": docs, "openapi": openapi, "after": fastapi_modules()}))
    """
)

EAGER_OPENAPI = textwrap.dedent(
    """
    import base64, sys
    from fastapi.testclient import TestClient
    from core.service import build_service
    app, _ = build_service(sync_inline=True)
    print(base64.b64encode(TestClient(app).get("/openapi.json").content).decode())
    """
)


def _run(code: str, folder) -> str:
    env = clean_env(PYTHONPATH=str(ROOT), HAYHOOKS_PIPELINES_DIR=str(folder), AWS_LAMBDA_FUNCTION_NAME="f")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Two of the examples whose wrappers import nothing from FastAPI."""
    folder = tmp_path_factory.mktemp("pipelines")
    shutil.copy(EXAMPLES / "greeting.yml", folder / "greeting.yml")
    shutil.copytree(EXAMPLES / "prompt_builder", folder / "prompt_builder")
    return folder


@pytest.fixture(scope="module")
def cold(folder):
    return json.loads(_run(LAMBDA, folder))


def test_status_and_runs_are_served(cold):
    status, prompt, greeting = cold["served"]
    assert status["status"] == 200 and json.loads(status["body"])["pipelines"] == ["greeting", "prompt_builder"]
    assert prompt["status"] == 200 and json.loads(prompt["body"])["result"].endswith("Question: Why?\nAnswer:")
    assert json.loads(greeting["body"]) == {"result": {"greeting_builder": {"prompt": "Hello Ada, welcome to Lambda!"}}}


def test_no_fastapi_and_no_posthog_code_by_then(cold):
    assert cold["cold"]["fastapi"] == []  # not even `fastapi.openapi.models`, nor the package
    assert cold["cold"]["posthog"] in ("absent", "deferred")


def test_the_docs_are_served_afterwards(cold):
    assert cold["docs"]["status"] == 200 and "text/html" in cold["docs"]["type"]
    assert "/openapi.json" in cold["docs"]["body"]
    assert cold["openapi"]["status"] == 200
    assert "fastapi.openapi.models" in cold["after"]  # FastAPI imported by the first request that needed it


def test_the_openapi_document_is_byte_equal_to_the_eager_apps(cold, folder):
    eager = base64.b64decode(_run(EAGER_OPENAPI, folder))
    assert cold["openapi"]["body"].encode("latin-1") == eager
    assert "/prompt_builder/run" in json.loads(eager)["paths"]
