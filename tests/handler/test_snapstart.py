"""SnapStart hooks, run the way Lambda's runtime client runs them (snapshot_restore_py's registries)."""

import os
import random

import boto3
import pytest
import snapshot_restore_py
from moto import mock_aws

from handler.entry import LambdaHandler
from infra.lambda_events import Context, http_v2, parse
from tests.conftest import fixture_settings


def _hooks(registry, handler):
    return [(f, a, k) for f, a, k in registry() if a and a[0] is handler]


def _run(hooks):
    return [f(*a, **k) for f, a, k in hooks]  # as awslambdaric's lambda_runtime_hooks_runner does


def test_hooks_registered_and_wrappers_restored(monkeypatch):
    handler = LambdaHandler(fixture_settings())
    assert handler.snapstart is True
    (before,) = _hooks(snapshot_restore_py.get_before_snapshot, handler)
    (after,) = _hooks(snapshot_restore_py.get_after_restore, handler)
    _run([before])
    state = random.getstate()
    (elapsed,) = _run([after])
    assert random.getstate() != state  # each restored environment draws its own random sequence
    assert handler.registry.get("echo").wrapper.restored == 1
    assert 0 < elapsed < 1000
    reply = parse(handler(http_v2("POST", "/echo/run", body={"text": "x"}), Context()))
    assert reply.status == 200


def test_a_failing_after_restore_does_not_fail_the_restore(tmp_path, capsys):
    import shutil

    from tests.conftest import FIXTURE_PIPELINES

    shutil.copytree(FIXTURE_PIPELINES / "echo", tmp_path / "echo")
    (tmp_path / "fragile").mkdir()
    (tmp_path / "fragile" / "pipeline_wrapper.py").write_text(
        "class PipelineWrapper:\n"
        "    def setup(self) -> None:\n        pass\n\n"
        "    def after_restore(self) -> None:\n        raise ConnectionError('vector store unreachable')\n\n"
        "    def run_api(self) -> str:\n        return 'ok'\n"
    )
    handler = LambdaHandler(fixture_settings(pipelines_dir=tmp_path))
    _run(_hooks(snapshot_restore_py.get_before_snapshot, handler))
    _run(_hooks(snapshot_restore_py.get_after_restore, handler))  # does not raise
    assert handler.registry.get("echo").wrapper.restored == 1  # the other wrappers' hooks still ran
    logged = capsys.readouterr().out  # the handler's own log configuration writes to stdout
    assert "ERROR handler.snapstart: Pipeline 'fragile': after_restore() failed" in logged
    assert "ConnectionError: vector store unreachable" in logged  # with the traceback
    assert parse(handler(http_v2("POST", "/fragile/run", body={}), Context())).json() == {"result": "ok"}


def test_clients_kept_at_module_level_or_on_the_class_are_found(tmp_path, capsys):
    from core.pooled_connections import drop_pooled_connections
    from handler.snapstart import _wrapper_roots

    (tmp_path / "clients").mkdir()
    (tmp_path / "clients" / "pipeline_wrapper.py").write_text(
        "import httpx\n\nSHARED = httpx.Client()\n\n\nclass PipelineWrapper:\n    session = httpx.Client()\n\n"
        "    def setup(self) -> None:\n        self.own = httpx.Client()\n\n"
        "    def run_api(self) -> str:\n        return 'ok'\n"
    )
    handler = LambdaHandler(fixture_settings(pipelines_dir=tmp_path))
    assert drop_pooled_connections(*_wrapper_roots(handler)) == 3  # the module's, the class's, the instance's
    _run(_hooks(snapshot_restore_py.get_after_restore, handler))
    assert "pooled connections dropped in" in capsys.readouterr().out  # (plus the function's own clients)


@pytest.fixture
def secret_handler(monkeypatch):
    """A handler whose ROTATED_KEY comes from SSM (moto), snapshotted, with a secrets TTL of 0."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("ROTATED_KEY", raising=False)
    with mock_aws():
        ssm = boto3.client("ssm")
        ssm.put_parameter(Name="/app/key", Value="from-init", Type="SecureString")
        from core.settings import Settings

        settings = fixture_settings(secrets=Settings.from_env({"HAYHOOKS_SECRETS": "ROTATED_KEY=ssm:/app/key"}).secrets)
        handler = LambdaHandler(settings)
        assert os.environ["ROTATED_KEY"] == "from-init"
        _run(_hooks(snapshot_restore_py.get_before_snapshot, handler))
        monkeypatch.setenv("HAYHOOKS_SECRETS_TTL_SECONDS", "0")
        yield ssm, handler
    os.environ.pop("ROTATED_KEY", None)


def test_stale_secrets_are_resolved_again_after_restore(secret_handler):
    ssm, handler = secret_handler
    ssm.put_parameter(Name="/app/key", Value="after-rotation", Type="SecureString", Overwrite=True)
    _run(_hooks(snapshot_restore_py.get_after_restore, handler))
    assert os.environ["ROTATED_KEY"] == "after-rotation"


def test_unreadable_secrets_after_restore_keep_the_snapshot_values(secret_handler, caplog):
    ssm, handler = secret_handler
    ssm.delete_parameter(Name="/app/key")
    _run(_hooks(snapshot_restore_py.get_after_restore, handler))  # does not raise
    assert os.environ["ROTATED_KEY"] == "from-init"
    (record,) = [r for r in caplog.records if r.name == "handler.snapstart" and r.levelname == "ERROR"]
    assert record.getMessage().startswith("HAYHOOKS_SECRETS: ROTATED_KEY: cannot read SSM parameter '/app/key'")
    assert record.getMessage().endswith("keeping the values from the snapshot")
    assert parse(handler(http_v2("POST", "/echo/run", body={"text": "x"}), Context())).status == 200


@pytest.fixture(autouse=True)
def _isolate_registries():
    before = list(snapshot_restore_py.get_before_snapshot())
    after = list(snapshot_restore_py.get_after_restore())
    yield
    snapshot_restore_py._before_snapshot_registry[:] = before
    snapshot_restore_py._after_restore_registry[:] = after
