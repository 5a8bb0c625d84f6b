"""Serving below a path prefix (core/root_path.py): HAYHOOKS_ROOT_PATH on a custom domain."""

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
