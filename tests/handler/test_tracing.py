"""X-Ray subsegments per pipeline run and per component, captured from the real aws-xray-sdk recorder.

The recorder runs in its Lambda mode (a facade segment from _X_AMZN_TRACE_ID); an emitter that keeps what
it would send over UDP to the X-Ray daemon stands in for the daemon.
"""

import json

import pytest

from tests.apigw import Context, http_v2


class CapturingEmitter:
    def __init__(self) -> None:
        self.sent: list[dict] = []

    def send_entity(self, entity) -> None:
        self.sent.append(json.loads(entity.serialize()))

    def set_daemon_address(self, address) -> None:
        pass

    @property
    def ip(self):
        return "127.0.0.1"

    @property
    def port(self):
        return 2000


def _flatten(entities: list[dict]) -> list[dict]:
    out = []
    for entity in entities:
        out.append(entity)
        out.extend(_flatten(entity.get("subsegments", [])))
    return out


@pytest.fixture
def traced_handler(monkeypatch):
    yield from _traced("tests/fixtures/examples", monkeypatch)


@pytest.fixture
def traced_fixture_handler(monkeypatch):
    yield from _traced("tests/fixtures/pipelines", monkeypatch)


def _traced(pipelines: str, monkeypatch):
    monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", "127.0.0.1:2000")
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "haystack-lambda")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)
    from aws_xray_sdk.core import xray_recorder
    from haystack import tracing

    from handler.entry import LambdaHandler
    from tests.conftest import ROOT, fixture_settings

    emitter = CapturingEmitter()
    xray_recorder.configure(emitter=emitter, streaming_threshold=1, sampling=False)
    handler = LambdaHandler(fixture_settings(pipelines_dir=ROOT / pipelines))
    yield handler, emitter
    tracing.disable_tracing()


def test_subsegments_for_the_pipeline_and_each_component(traced_handler):
    handler, emitter = traced_handler
    assert handler.tracer is not None
    reply = handler(http_v2("POST", "/search_docs/run", body={"query": "lambda"}), Context())
    assert reply["statusCode"] == 200
    segments = _flatten(emitter.sent)
    pipeline = [s for s in segments if s["name"] == "haystack.pipeline.run"]
    components = [s for s in segments if s["name"] == "component retriever"]
    assert pipeline and components
    assert pipeline[-1]["annotations"] == {"pipeline": "search_docs", "status": "ok"}
    assert components[-1]["annotations"]["component"] == "retriever"
    assert components[-1]["annotations"]["component_type"] == "InMemoryBM25Retriever"
    assert components[-1]["annotations"]["status"] == "ok"


def test_failed_run_is_annotated_as_error(traced_fixture_handler):
    handler, emitter = traced_fixture_handler
    # chat_midstream's scripted model raises after two chunks
    event = http_v2(
        "POST",
        "/v1/chat/completions",
        body={"model": "chat_midstream", "messages": [{"role": "user", "content": "a b c d"}]},
    )
    reply = handler(event, Context())
    assert reply["statusCode"] == 500
    pipeline = [s for s in _flatten(emitter.sent) if s["name"] == "haystack.pipeline.run"]
    assert pipeline[-1]["annotations"] == {"pipeline": "chat_midstream", "status": "error"}


def test_off_without_active_tracing(monkeypatch):
    from handler.tracing import tracing_enabled

    assert not tracing_enabled({})
    assert not tracing_enabled({"AWS_XRAY_DAEMON_ADDRESS": "x", "POWERTOOLS_TRACE_DISABLED": "true"})
    assert tracing_enabled({"AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000"})
