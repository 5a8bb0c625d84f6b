"""The Lambda handler's init (handler/entry.py): the warm-up runs when it pays, through the handler's layers."""

from core.warmup import WARMUP_REPEAT, WARMUP_RUN_PATH
from handler.entry import LambdaHandler
from infra.lambda_events import Context, http_v2, parse
from tests.conftest import fixture_settings


def test_on_demand_init_does_not_warm_up(monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
    handler = LambdaHandler(fixture_settings())
    assert handler.init_warm_up_statuses == []
    assert handler.app.middleware_stack is None  # no request went through the app at init


def test_provisioned_concurrency_init_warms_up(monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "provisioned-concurrency")
    handler = LambdaHandler(fixture_settings())
    assert handler.init_warm_up_statuses == [200, 200] * WARMUP_REPEAT
    assert parse(handler(http_v2("POST", WARMUP_RUN_PATH, body={"text": "x"}), Context())).status == 404
    first = parse(handler(http_v2("GET", "/status"), Context()))
    assert first.status == 200 and handler.metrics is not None


def test_forced_on_with_api_keys_and_a_stage(monkeypatch):
    monkeypatch.setenv("HAYHOOKS_API_KEYS", "key-one-0123456789")
    handler = LambdaHandler(fixture_settings(init_warm_up="on", root_path="/api"))
    assert handler.init_warm_up_statuses == [200, 200] * WARMUP_REPEAT
    assert parse(handler(http_v2("GET", "/status"), Context())).status == 401  # keys are still required
