"""The init warm-up (core/warmup.py): when it runs, what it runs, and what it leaves behind."""

import pytest
from fastapi.testclient import TestClient

from core.app_services import services_of
from core.service import build_service
from core.settings import Settings, SettingsError
from core.warmup import WARMUP_PIPELINE, WARMUP_REPEAT, WARMUP_RUN_PATH, wanted, warm_up
from tests.conftest import fixture_settings


@pytest.mark.parametrize(
    ("setting", "init_type", "runs"),
    [
        ("auto", "on-demand", False),  # the caller waits for init + first request: it did not pay (decisions.md)
        ("auto", None, False),  # outside Lambda (make run, tests)
        ("auto", "snap-start", True),  # init is paid before any caller waits
        ("auto", "provisioned-concurrency", True),
        ("on", "on-demand", True),
        ("off", "snap-start", False),
    ],
)
def test_the_rule(setting, init_type, runs):
    environ = {} if init_type is None else {"AWS_LAMBDA_INITIALIZATION_TYPE": init_type}
    assert wanted(setting, environ) is runs


def test_the_setting():
    assert Settings.from_env({}).init_warm_up == "auto"
    assert Settings.from_env({"HAYHOOKS_INIT_WARM_UP": " ON "}).init_warm_up == "on"
    with pytest.raises(SettingsError, match="HAYHOOKS_INIT_WARM_UP must be one of auto, on, off, got 'yes'"):
        Settings.from_env({"HAYHOOKS_INIT_WARM_UP": "yes"})


def test_building_the_app_sends_it_no_request():
    app, registry = build_service(fixture_settings())
    assert app.middleware_stack is None  # nothing went through it: the user may still add middleware
    assert registry.get("echo").wrapper.calls == 0


def test_warm_up_runs_no_pipeline_and_is_neither_logged_nor_counted(caplog):
    """Every fixture route is warmed; pipelines that would fail or count their calls must not have run."""
    app, registry = build_service(fixture_settings())
    seen = []
    services_of(app).request_observers.append(seen.append)
    routes = list(app.router.routes)
    with caplog.at_level("INFO"):
        statuses = warm_up(app)
    assert statuses == [200, 200] * WARMUP_REPEAT  # /status and the echo run, answered
    assert not [r for r in caplog.records if r.name == "core.invocation"]  # no "Pipeline 'x' failed"
    assert registry.get("echo").wrapper.calls == 0
    assert not [r for r in caplog.records if r.name == "core.access"] and seen == []
    assert app.router.routes == routes  # the echo run's route was never in the list


def test_the_echo_route_is_reachable_by_the_warm_up_only():
    app, _ = build_service(fixture_settings())
    warm_up(app)
    client = TestClient(app)
    assert client.post(WARMUP_RUN_PATH, json={"text": "x"}).status_code == 404
    status = client.get("/status").json()
    assert WARMUP_PIPELINE not in status["pipelines"] and WARMUP_PIPELINE not in status["states"]
    assert WARMUP_RUN_PATH not in client.get("/openapi.json").json()["paths"]


def test_a_warm_up_below_a_root_path_still_runs_the_echo():
    from core.root_path import RootPathMiddleware

    app, _ = build_service(fixture_settings())
    assert warm_up(app, RootPathMiddleware(app, "/api")) == [200, 200] * WARMUP_REPEAT


def test_the_warm_up_takes_the_authenticated_path_without_a_key():
    """The scope marker, not one of the app's keys: no key is read or sent."""
    app, _ = build_service(fixture_settings())
    services_of(app).api_keys = (b"key-one-0123456789",)
    assert warm_up(app) == [200, 200] * WARMUP_REPEAT
    assert TestClient(app).get("/status").status_code == 401  # keys are still required from outside


def test_a_failing_warm_up_does_not_fail_the_cold_start(monkeypatch):
    import core.warmup

    app, _ = build_service(fixture_settings())

    def broken(app):
        raise RuntimeError("no echo today")

    monkeypatch.setattr(core.warmup, "_echo_route", broken)
    warned = []
    monkeypatch.setattr(core.warmup.logger, "warning", lambda message, **_: warned.append(message))
    assert warm_up(app) == []
    assert warned == ["The init warm-up failed"]
    assert TestClient(app).get("/status").status_code == 200
