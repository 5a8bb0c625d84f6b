"""EMF blobs written by the handler: per-pipeline metrics every invocation, cold-start ones once."""

import json
import time

import pytest

from handler.entry import LambdaHandler
from infra.lambda_events import Context, http_v2
from tests.conftest import fixture_settings


def _blobs(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]


@pytest.fixture
def fresh_handler(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "HaystackLambdaTest")
    return LambdaHandler(fixture_settings())


def test_cold_start_metrics_at_init_then_pipeline_metrics(monkeypatch, capsys):
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "HaystackLambdaTest")
    capsys.readouterr()
    fresh_handler = LambdaHandler(fixture_settings())
    init = _blobs(capsys.readouterr().out)  # the init phase's own output, before any invocation
    assert sorted(m["Name"] for b in init for m in b["_aws"]["CloudWatchMetrics"][0]["Metrics"]) == [
        "ColdStart",
        "InitDuration",
    ]
    (init_blob,) = [b for b in init if "InitDuration" in b]
    assert init_blob["InitDuration"][0] > 0 and init_blob["service"] == "haystack-lambda"
    fresh_handler(http_v2("POST", "/echo/run", body={"text": "x"}), Context())
    first = _blobs(capsys.readouterr().out)
    names = [m["Name"] for b in first for m in b["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    assert sorted(names) == ["Errors", "Invocations", "Latency"]  # no warm-up request counted either
    (pipeline_blob,) = [b for b in first if "pipeline" in b]
    assert pipeline_blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "HaystackLambdaTest"
    assert ["pipeline", "service"] in pipeline_blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    assert pipeline_blob["pipeline"] == "echo"
    assert pipeline_blob["Invocations"] == [1.0] and pipeline_blob["Errors"] == [0.0]
    assert pipeline_blob["Latency"][0] > 0

    fresh_handler(http_v2("POST", "/failing/run", body={"divisor": 0}), Context())
    second = _blobs(capsys.readouterr().out)
    assert len(second) == 1 and second[0]["pipeline"] == "failing" and second[0]["Errors"] == [1.0]


def test_flushed_even_when_the_handler_fails(fresh_handler, capsys):
    capsys.readouterr()
    broken = {"version": "2.0", "requestContext": {"http": {"method": "GET"}}}  # Mangum cannot use this
    assert fresh_handler(broken, Context())["statusCode"] == 400
    fresh_handler(http_v2("POST", "/echo/run", body={"text": "y"}), Context())
    blobs = _blobs(capsys.readouterr().out)
    assert [b["pipeline"] for b in blobs] == ["echo"]  # nothing stale carried over, nothing lost


def test_metrics_disabled_like_powertools(monkeypatch, capsys):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    handler = LambdaHandler(fixture_settings())
    handler(http_v2("POST", "/echo/run", body={"text": "x"}), Context())
    assert _blobs(capsys.readouterr().out) == []


def test_service_dimension_and_timestamp(monkeypatch, capsys):
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "search-api")
    handler = LambdaHandler(fixture_settings())
    capsys.readouterr()
    handler(http_v2("POST", "/echo/run", body={"text": "x"}), Context())
    (blob,) = _blobs(capsys.readouterr().out)
    assert blob["service"] == "search-api" and blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "HaystackLambda"
    assert abs(blob["_aws"]["Timestamp"] / 1000 - time.time()) < 60
