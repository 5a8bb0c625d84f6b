"""`AppServices`: set once by create_app, read through services_of(app) by the stack, routes and handler."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from core.app import create_app
from core.app_factory import _built_by_create_app
from core.app_services import AppServices, NotAPipelineApp, services_of
from core.registry import Registry
from tests.conftest import fixture_settings


def test_create_app_attaches_what_it_was_given():
    settings, registry = fixture_settings(), Registry()
    app = create_app(settings, registry, sync_inline=True, api_keys=(b"key-one-0123456789",))
    services = services_of(app)
    assert isinstance(services, AppServices)
    assert services.settings is settings and services.registry is registry
    assert services.sync_inline is True and services.api_keys == (b"key-one-0123456789",)
    assert services.request_observers == [] and services.built_by_create_app is False
    assert app.state._state == {"services": services}  # the one key set on app.state


def test_the_stack_reads_the_services_when_it_is_built():
    """Observers and keys changed before the first request are the ones the middleware uses."""
    app = create_app(fixture_settings(), Registry())
    seen: list = []
    services_of(app).request_observers.append(seen.append)
    services_of(app).api_keys = (b"key-two-0123456789",)
    client = TestClient(app)
    assert client.get("/status").status_code == 401
    assert client.get("/status", headers={"Authorization": "Bearer key-two-0123456789"}).status_code == 200
    assert [record.status for record in seen] == [401, 200]


def test_an_app_not_built_by_create_app_has_none():
    with pytest.raises(NotAPipelineApp, match=r"FastAPI was not built by core\.app\.create_app"):
        services_of(FastAPI())
    assert _built_by_create_app(FastAPI()) is False
    assert _built_by_create_app(create_app(fixture_settings(), Registry())) is False  # core's, not Hayhooks'
    assert _built_by_create_app({"not": "an app"}) is False
