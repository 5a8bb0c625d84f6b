"""`HAYHOOKS_APP`: the app a Hayhooks project customizes with `create_app()` (its own routes and
middleware) served by the Lambda handler, from a real API Gateway event."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from core.app_factory import UserAppError, run_app
from core.app_services import services_of
from core.settings import Settings, SettingsError
from handler.entry import LambdaHandler
from infra.lambda_events import BUILDERS, Context, parse
from tests.conftest import fixture_settings

USER_APP = Path(__file__).resolve().parent.parent / "fixtures" / "user_app"


@pytest.fixture(scope="module")
def user_app_handler() -> LambdaHandler:
    # the init warm-up on: it must go through the user's middleware too
    return LambdaHandler(fixture_settings(pipelines_dir=USER_APP, app="user_app_fixture:hayhooks", init_warm_up="on"))


@pytest.mark.parametrize("source", list(BUILDERS))
def test_the_users_route_and_middleware_are_served_by_the_handler(source, user_app_handler):
    build = BUILDERS[source]
    reply = parse(user_app_handler(build("GET", "/custom/hello", query="name=ada"), Context()))
    assert reply.status == 200, reply.body
    assert reply.json() == {"hello": "ada", "root_path": "", "pipelines": ["greet"]}
    assert reply.headers["x-user-middleware"] == "ran"

    run = parse(user_app_handler(build("POST", "/greet/run", body={"name": "bo"}), Context()))
    assert (run.status, run.json()) == (200, {"result": "hi bo"})
    assert run.headers["x-user-middleware"] == "ran"  # the user's middleware wraps the pipelines' routes too

    blocked = parse(user_app_handler(build("GET", "/status", headers={"x-block-me": "yes"}), Context()))
    assert (blocked.status, blocked.json()) == (403, {"detail": "blocked by the user's middleware"})
    assert "x-request-id" in blocked.headers  # our layers stay outside the user's


def test_the_app_is_built_for_lambda_and_keeps_the_projects_layers(user_app_handler):
    app = user_app_handler.app
    assert services_of(app).sync_inline is True  # built as the handler builds its own app
    assert user_app_handler.registry is services_of(app).registry and user_app_handler.registry.names() == ["greet"]
    status = parse(user_app_handler(BUILDERS["http-v2"]("GET", "/status"), Context()))
    assert status.json()["hayhooks_imports"] == {"greet": "core"}
    assert user_app_handler.init_warm_up_statuses and set(user_app_handler.init_warm_up_statuses) == {200}


def test_an_attribute_that_is_not_a_create_app_app_fails_the_cold_start():
    with pytest.raises(UserAppError, match="'not_an_app' in user_app_fixture must be the app returned by create_app"):
        LambdaHandler(fixture_settings(pipelines_dir=USER_APP, app="user_app_fixture:not_an_app"))


def test_a_missing_module_fails_the_cold_start_naming_where_it_looked():
    with pytest.raises(UserAppError, match="no module 'no_such_user_app' on the Python path or in"):
        LambdaHandler(fixture_settings(pipelines_dir=USER_APP, app="no_such_user_app:app"))


@pytest.mark.parametrize("value", ["app", "app:", ":app", "app:app:x", "my-app:app"])
def test_hayhooks_app_must_be_module_colon_attribute(value):
    with pytest.raises(SettingsError, match="HAYHOOKS_APP must be module:attribute"):
        Settings.from_env({"HAYHOOKS_APP": value})
    assert Settings.from_env({"HAYHOOKS_APP": "pkg.server:hayhooks"}).app == "pkg.server:hayhooks"


def test_run_app_starts_no_server_on_lambda(monkeypatch, caplog):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "fn")
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # importing it would fail: it must not be needed
    with caplog.at_level("INFO"):
        assert run_app(object()) is None  # type: ignore[arg-type]
    assert "no server started" in caplog.text


def test_make_run_serves_the_same_app(monkeypatch):
    """`python -m core` with HAYHOOKS_APP set: the same module, built for a long-running server."""
    import asyncio

    import httpx

    from core.app_factory import load_user_app

    settings = fixture_settings(pipelines_dir=USER_APP, app="user_app_fixture:hayhooks")
    app = load_user_app(settings, sync_inline=False)
    assert services_of(app).sync_inline is False

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            return await client.get("/custom/hello")

    response = asyncio.run(get())
    assert response.json()["hello"] == "world" and response.headers["x-user-middleware"] == "ran"
