"""`GET /v1/models` (core/openai/models.py): every pipeline that is loaded or can still load, never a failed one."""

import pytest

from handler.entry import LambdaHandler
from infra.lambda_events import Context, http_v2, parse
from tests.conftest import fixture_settings


def _models(handler, path="/v1/models") -> list[dict]:
    reply = parse(handler(http_v2("GET", path), Context()))
    assert reply.status == 200 and reply.json()["object"] == "list"
    return reply.json()["data"]


@pytest.mark.parametrize("path", ["/v1/models", "/models"])
def test_the_loaded_pipelines_are_the_models(fixture_handler, path):
    models = _models(fixture_handler, path)
    assert [m["id"] for m in models] == sorted(fixture_handler.registry.names())
    assert not {m["id"] for m in models} & set(fixture_handler.registry.failed)
    assert {(m["object"], m["owned_by"], m["name"] == m["id"]) for m in models} == {("model", "hayhooks", True)}


def test_pipelines_not_loaded_yet_are_listed_too():
    handler = LambdaHandler(fixture_settings(startup_deploy_strategy="lazy"))
    ids = {m["id"] for m in _models(handler)}
    assert "echo" in ids and "echo" in handler.registry.pending  # listing does not load it
    assert not ids & set(handler.registry.failed)
