"""Serving below a path prefix (core/root_path.py): HAYHOOKS_ROOT_PATH on a custom domain, and the middleware
on its own."""

import asyncio

import pytest

from core.root_path import RootPathMiddleware, route_path
from handler.entry import LambdaHandler
from infra.lambda_events import Context, parse
from tests.conftest import fixture_settings


def test_rest_api_custom_domain_base_path_with_root_path_setting():
    from infra.lambda_events import rest_v1

    handler = LambdaHandler(fixture_settings(root_path="/api"))
    event = rest_v1("POST", "/api/echo/run", body={"text": "y"}, stage="prod", domain="ml.example.com")
    assert parse(handler(event, Context())).json()["result"]["text"] == "y"
    docs = parse(handler(rest_v1("GET", "/api/docs", domain="ml.example.com"), Context()))
    assert "/api/openapi.json" in docs.text


def _seen(middleware_of, path: str) -> dict:
    seen = {}

    async def app(scope, receive, send):
        seen.update(scope)

    asyncio.run(middleware_of(app)({"type": "http", "path": path, "root_path": ""}, None, None))
    return seen


@pytest.mark.parametrize("path", ["/api/echo/run", "/echo/run"])
def test_a_fixed_root_is_accepted_with_or_without_the_prefix(path):
    scope = _seen(lambda app: RootPathMiddleware(app, "/api"), path)
    assert (scope["root_path"], scope["path"]) == ("/api", "/api/echo/run")
    assert route_path(scope) == "/echo/run"


def test_a_path_that_only_starts_like_the_root_is_not_below_it():
    scope = _seen(lambda app: RootPathMiddleware(app, "/api"), "/apiary/run")
    assert scope["path"] == "/api/apiary/run" and route_path(scope) == "/apiary/run"
    assert route_path({"path": "/apiary/run", "root_path": "/api"}) == "/apiary/run"


def test_the_stage_is_resolved_per_request_only_without_a_fixed_root():
    staged = _seen(lambda app: RootPathMiddleware(app, resolve=lambda scope: "/prod"), "/status")
    assert (staged["root_path"], staged["path"]) == ("/prod", "/prod/status")
    fixed = _seen(lambda app: RootPathMiddleware(app, "/api", resolve=lambda scope: "/prod"), "/status")
    assert fixed["root_path"] == "/api"
    plain = _seen(lambda app: RootPathMiddleware(app, resolve=lambda scope: ""), "/status")
    assert (plain["root_path"], plain["path"]) == ("", "/status")
