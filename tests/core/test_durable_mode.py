"""HAYHOOKS_DURABLE_MODE: the setting, durable wrappers loaded and checked, their routes in the app (behind the
same authentication), /status's durable keys; with the mode off, nothing durable is imported."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.app import create_app
from core.durable_runs import WORKER_ENV, LambdaDurableRuns
from core.loader import load_registry
from core.settings import Settings, SettingsError
from core.wrapper import ContractError, check_wrapper_class
from tests.cold import ROOT, clean_env
from tests.conftest import FIXTURE_PIPELINES
from tests.fixtures.durable_wrappers.wrappers import NeedsApproval

DURABLE_PIPELINES = ROOT / "tests" / "fixtures" / "durable_pipelines"
WORKER = "arn:aws:lambda:us-west-2:123456789012:function:worker:live"


def durable_settings(**overrides) -> Settings:
    return Settings(pipelines_dir=DURABLE_PIPELINES, durable_mode=True, **overrides)


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("1", True), ("false", False), ("", False)])
def test_the_setting_is_hayhooks_variable_and_parsing(raw, expected):
    assert Settings.from_env({"HAYHOOKS_DURABLE_MODE": raw}).durable_mode is expected
    assert Settings.from_env({}).durable_mode is False


def test_a_bad_value_names_the_variable():
    with pytest.raises(SettingsError, match="HAYHOOKS_DURABLE_MODE"):
        Settings.from_env({"HAYHOOKS_DURABLE_MODE": "maybe"})


def test_hayhooks_settings_object_shows_the_mode(monkeypatch):
    from core import hayhooks_settings

    monkeypatch.setattr("core.settings._in_use", durable_settings())
    assert hayhooks_settings.settings.durable_mode is True


def test_a_durable_only_wrapper_class_is_accepted_in_durable_mode_only():
    check_wrapper_class(NeedsApproval, durable_mode=True)
    with pytest.raises(ContractError, match="HAYHOOKS_DURABLE_MODE=true"):
        check_wrapper_class(NeedsApproval)


def test_durable_mode_loads_the_durable_wrappers_and_marks_them():
    registry = load_registry(durable_settings())
    assert registry.failed == {}
    assert sorted(registry.loaded) == ["approval", "fails", "flaky", "long", "steps"]
    assert all(p.durable and p.run is None for p in registry.loaded.values())


def test_with_the_mode_off_they_fail_their_contract_saying_why():
    registry = load_registry(Settings(pipelines_dir=DURABLE_PIPELINES))
    assert registry.loaded == {}
    assert {f.stage for f in registry.failed.values()} == {"contract"}
    assert "HAYHOOKS_DURABLE_MODE=true" in registry.failed["steps"].reason


def test_the_lazy_strategy_does_not_apply_in_durable_mode():
    registry = load_registry(durable_settings(startup_deploy_strategy="lazy"))
    assert registry.pending == {} and len(registry.loaded) == 5


BAD_WRAPPERS = {
    "no_revision": ("", "durable_revision"),
    "both_methods": (
        'durable_revision = "v"\n\n'
        "    async def run_durable_async(self, context, request: Req) -> None:\n        pass\n",
        "exactly one of run_durable and run_durable_async",
    ),
    "bad_resume_model": ('durable_revision = "v"\n    durable_resume_model = dict\n', "durable_resume_model"),
}


@pytest.mark.parametrize("name", sorted(BAD_WRAPPERS))
def test_hayhooks_rules_for_durable_wrappers_are_checked_at_load(tmp_path, name):
    body, reason = BAD_WRAPPERS[name]
    folder = tmp_path / name
    folder.mkdir()
    (folder / "pipeline_wrapper.py").write_text(
        textwrap.dedent(
            """
            from pydantic import BaseModel
            from core import BasePipelineWrapper

            class Req(BaseModel):
                x: int = 0

            class PipelineWrapper(BasePipelineWrapper):
                def setup(self):
                    pass

                def run_durable(self, context, request: Req) -> None:
                    pass

            """
        )
        + "    "
        + body
    )
    registry = load_registry(Settings(pipelines_dir=tmp_path, durable_mode=True))
    failed = registry.failed[name]
    assert failed.stage == "contract" and reason in failed.reason


def test_a_wrapper_with_run_api_and_a_durable_method_gets_both_routes(tmp_path):
    folder = tmp_path / "both"
    folder.mkdir()
    (folder / "pipeline_wrapper.py").write_text(
        textwrap.dedent(
            """
            from pydantic import BaseModel
            from core import BasePipelineWrapper

            class Req(BaseModel):
                x: int = 0

            class PipelineWrapper(BasePipelineWrapper):
                durable_revision = "v1"

                def setup(self):
                    pass

                def run_api(self, x: int) -> int:
                    return x + 1

                def run_durable(self, context, request: Req) -> int:
                    return request.x
            """
        )
    )
    app = create_app(
        Settings(pipelines_dir=tmp_path, durable_mode=True),
        load_registry(Settings(pipelines_dir=tmp_path, durable_mode=True)),
        durable_runs=LambdaDurableRuns(WORKER, client=object()),
    )
    client = TestClient(app)
    paths = set(client.get("/openapi.json").json()["paths"])
    assert {"/both/run", "/both/run-durable", "/both/executions/{execution_id}"} <= paths
    assert client.post("/both/run", json={"x": 1}).json() == {"result": 2}


def test_without_a_worker_the_app_is_not_built(monkeypatch):
    monkeypatch.delenv(WORKER_ENV, raising=False)
    settings = durable_settings()
    with pytest.raises(RuntimeError, match=WORKER_ENV):
        create_app(settings, load_registry(settings))


def test_without_a_worker_the_lambda_cold_start_fails_naming_the_variable(monkeypatch):
    """On Lambda the FastAPI app sits behind the lean front; durable mode builds it at init all the same."""
    from core.service import build_service

    monkeypatch.delenv(WORKER_ENV, raising=False)
    with pytest.raises(RuntimeError, match=WORKER_ENV):
        build_service(durable_settings(), lean_front=True)


class Refusing:
    """A Lambda client that must not be reached (the request is refused before)."""

    def __getattr__(self, name):
        raise AssertionError(f"the Lambda API was called ({name}) for a request that should have been refused")


def test_durable_routes_are_behind_the_api_key_and_status_has_hayhooks_durable_keys():
    settings = durable_settings()
    app = create_app(
        settings,
        load_registry(settings),
        api_keys=(b"sekret-key-0123456789",),
        durable_runs=LambdaDurableRuns(WORKER, client=Refusing()),
    )
    client = TestClient(app)
    assert client.post("/steps/run-durable", json={"steps": 1}).status_code == 401
    assert client.get("/steps/executions/" + "0" * 32).status_code == 401
    assert client.post("/deploy_files", headers={"Authorization": "Bearer sekret-key-0123456789"}).status_code == 405

    status = client.get("/status", headers={"Authorization": "Bearer sekret-key-0123456789"}).json()
    assert status["durable_mode"] is True
    assert status["capabilities"] == {"execution_enumeration": False}
    assert status["durable"]["healthy"] is True and sorted(status["durable"]["deployments"]) == sorted(
        ["approval", "fails", "flaky", "long", "steps"]
    )
    steps = next(d for d in status["deployments"] if d["name"] == "steps")
    assert steps["execution_mode"] == "durable" and steps["state"] == "Healthy"
    assert steps["revision"] == "steps-v1" and steps["health"] == {"healthy": True}
    assert steps["capabilities"] == [] and steps["type"] == "pipeline"


def test_with_the_mode_off_status_is_what_it_was():
    from tests.conftest import fixture_settings

    settings = fixture_settings()
    status = TestClient(create_app(settings, load_registry(settings))).get("/status").json()
    assert status["durable_mode"] is False and status["durable"] == {"healthy": True, "deployments": {}}
    assert all(d["execution_mode"] == "request-bound" for d in status["deployments"])


DURABLE_MODULES = (
    "core.durable",
    "core.durable_attempt",
    "core.durable_runs",
    "core.routes.durable",
    "handler.durable_worker",
    "aws_durable_execution_sdk_python",
    "botocore",
    "boto3",
)

COLD_START_AND_RUN = textwrap.dedent(
    """
    import json, sys
    import handler
    from infra.lambda_events import Context, http_v2, parse
    reply = parse(handler.lambda_handler(http_v2("POST", "/{name}/run", body={body}), Context()))
    status = parse(handler.lambda_handler(http_v2("GET", "/status"), Context())).json()
    found = {{"status": reply.status, "durable_mode": status["durable_mode"], "modules": sorted(sys.modules)}}
    print(json.dumps(found))
    """
)


def _cold_start(pipelines: Path, name: str, body: dict, **env: str) -> dict:
    code = COLD_START_AND_RUN.format(name=name, body=body)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean_env(PYTHONPATH=str(ROOT), HAYHOOKS_PIPELINES_DIR=str(pipelines), AWS_LAMBDA_FUNCTION_NAME="f", **env),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _imported(modules: list[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


def test_with_the_mode_unset_a_cold_start_and_a_run_import_nothing_durable():
    found = _cold_start(FIXTURE_PIPELINES, "echo", {"text": "hi"})
    assert found["status"] == 200 and found["durable_mode"] is False
    assert [m for m in DURABLE_MODULES if _imported(found["modules"], m)] == []


def test_with_the_mode_on_the_cold_start_builds_durable_routes_without_the_aws_sdk():
    """The Lambda client (botocore) is built by the first durable request, not at cold start."""
    found = _cold_start(DURABLE_PIPELINES, "steps", {}, HAYHOOKS_DURABLE_MODE="true", **{WORKER_ENV: WORKER})
    assert found["durable_mode"] is True
    assert found["status"] == 404  # a durable-only wrapper has no /run, as in Hayhooks
    modules = found["modules"]
    assert _imported(modules, "core.routes.durable")
    assert [m for m in ("botocore", "boto3", "aws_durable_execution_sdk_python") if _imported(modules, m)] == []


def test_a_durable_run_through_the_whole_app_with_its_key():
    """create_app's routes, the worker under the SDK's local runner behind the Lambda stand-in."""
    import time

    from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner

    from handler.durable_worker import DurableWorker
    from tests.durable_lambda import LocalDurableLambda
    from tests.fixtures.durable_wrappers.wrappers import wrapper_for

    settings = durable_settings()
    key = {"x-api-key": "sekret-key-0123456789"}
    with DurableFunctionTestRunner(handler=DurableWorker(wrapper_for)) as runner:
        runs = LambdaDurableRuns(WORKER, client=LocalDurableLambda(runner))
        app = create_app(settings, load_registry(settings), api_keys=(b"sekret-key-0123456789",), durable_runs=runs)
        with TestClient(app) as client:
            submitted = client.post("/steps/run-durable", json={"steps": 2, "seconds": 0}, headers=key)
            assert submitted.status_code == 202 and submitted.headers["x-request-id"]
            deadline = time.monotonic() + 30
            while (record := client.get(submitted.headers["Location"], headers=key).json())["status"] != "completed":
                assert time.monotonic() < deadline, record
                time.sleep(0.1)
    assert record["result"] == {"done": 2} and len(record["progress"]) == 2
