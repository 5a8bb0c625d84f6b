"""OpenTelemetry spans: the invocation, the pipeline run and each component, exported in memory and over
OTLP/HTTP to a receiver on loopback; the caller's trace continued; nothing of OpenTelemetry when off."""

import datetime
import subprocess
import sys

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from core.sigv4 import Credentials, sign
from handler import span_export
from handler.entry import LambdaHandler
from handler.trace_context import incoming
from handler.tracing import tracing_config
from infra.lambda_events import Context, http_v2
from infra.otlp_receiver import OtlpReceiver
from tests.cold import ROOT, clean_env
from tests.conftest import fixture_settings

TRACED = ROOT / "tests" / "fixtures" / "traced"
XRAY_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
XRAY_TRACE_ID = 0x5759E988BD862E3FE1BE46A994272793
XRAY_PARENT_ID = 0x53995C3F42CD8AD8
W3C_TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
W3C_PARENT_ID = "b7ad6b7169203331"


def _handler(monkeypatch, endpoint: str, **settings) -> LambdaHandler:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", endpoint)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "traced-test")
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    monkeypatch.delenv("AWS_XRAY_DAEMON_ADDRESS", raising=False)
    return LambdaHandler(fixture_settings(pipelines_dir=TRACED, **settings))


@pytest.fixture
def in_memory(monkeypatch):
    exporter = InMemorySpanExporter()
    monkeypatch.setattr(span_export, "otlp_exporter", lambda *a, **k: exporter)
    handler = _handler(monkeypatch, "http://127.0.0.1:9/v1/traces")
    yield handler, exporter
    handler.tracing.shutdown()


def _by_name(spans) -> dict:
    return {span.name: span for span in spans}


# FastAPI (0.165+) traces requests itself through the same provider: its request span is a child of the
# invocation's (the handler hands it the context in the request's headers), its operation spans below it
FASTAPI = {"POST /two_step/run", "GET /status", "fastapi.dependencies", "fastapi.endpoint", "fastapi.serialization"}


def _ancestors(span, spans) -> list[str]:
    """Names of the span's ancestors among `spans`, nearest first."""
    by_id = {s.context.span_id: s for s in spans}
    names = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        names.append(span.name)
    return names


# the invocation span is named after the function (here: the service name, no function name is set)
OURS = {"traced-test", "haystack.pipeline.run", "component prompt", "component shout"}


def test_invocation_pipeline_and_component_spans(in_memory, monkeypatch):
    handler, exporter = in_memory
    assert exporter.get_finished_spans() == ()  # the init warm-up's runs are not exported
    monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", "127.0.0.1:2000")  # active tracing
    monkeypatch.setenv("_X_AMZN_TRACE_ID", XRAY_HEADER)  # Lambda sets it per invocation
    context = Context()
    reply = handler(http_v2("POST", "/two_step/run", body={"name": "ada"}), context)
    assert reply["statusCode"] == 200
    finished = exporter.get_finished_spans()
    spans = _by_name(finished)
    assert OURS <= set(spans) and set(spans) - OURS <= FASTAPI
    invocation, pipeline = spans["traced-test"], spans["haystack.pipeline.run"]
    prompt, shout = spans["component prompt"], spans["component shout"]
    # one trace, Lambda's: the invocation's parent is Lambda's segment, then pipeline, then components
    assert {s.context.trace_id for s in finished} == {XRAY_TRACE_ID}
    assert invocation.parent.span_id == XRAY_PARENT_ID and invocation.kind == SpanKind.SERVER
    assert _ancestors(pipeline, finished)[-1] == "traced-test"
    assert prompt.parent.span_id == shout.parent.span_id == pipeline.context.span_id
    assert prompt.end_time <= shout.start_time  # shout runs on prompt's output
    assert invocation.attributes["faas.invocation_id"] == context.aws_request_id
    assert invocation.attributes["faas.coldstart"] is True
    assert invocation.attributes["hayhooks.pipeline.name"] == "two_step"
    assert invocation.attributes["http.response.status_code"] == 200
    assert pipeline.attributes["hayhooks.pipeline.name"] == "two_step"
    assert prompt.attributes["haystack.component.name"] == "prompt"
    assert prompt.attributes["haystack.component.type"] == "PromptBuilder"
    assert shout.attributes["haystack.component.type"] == "Shout"
    assert invocation.resource.attributes["service.name"] == "traced-test"
    # content tracing is off (Haystack's default): no inputs or outputs on any span
    assert not any("ada" in str(v) for s in finished for v in s.attributes.values())

    exporter.clear()
    monkeypatch.delenv("_X_AMZN_TRACE_ID")
    handler(http_v2("GET", "/status"), Context())
    status = _by_name(exporter.get_finished_spans())["traced-test"]
    assert status.attributes["faas.coldstart"] is False and status.parent is None  # no incoming trace: a new one


def test_lambdas_sampling_decision_under_active_tracing(in_memory, monkeypatch):
    handler, exporter = in_memory
    monkeypatch.setenv("_X_AMZN_TRACE_ID", XRAY_HEADER.replace("Sampled=1", "Sampled=0"))
    monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", "127.0.0.1:2000")
    assert handler(http_v2("POST", "/two_step/run", body={"name": "ada"}), Context())["statusCode"] == 200
    assert exporter.get_finished_spans() == ()  # X-Ray's rules said no: nothing recorded
    monkeypatch.delenv("AWS_XRAY_DAEMON_ADDRESS")  # PassThrough: Lambda's header is not this trace's parent
    handler(http_v2("GET", "/status"), Context())
    assert _by_name(exporter.get_finished_spans())["traced-test"].parent is None


def test_failed_component_marks_its_spans_without_the_message(in_memory):
    handler, exporter = in_memory
    reply = handler(http_v2("POST", "/two_step/run", body={"name": "boom"}), Context())
    assert reply["statusCode"] == 500
    spans = _by_name(exporter.get_finished_spans())
    shout, pipeline = spans["component shout"], spans["haystack.pipeline.run"]
    # Haystack wraps the component's error (PipelineRuntimeError) inside the component span already
    for span, error in ((shout, "PipelineRuntimeError"), (pipeline, "PipelineRuntimeError")):
        assert span.status.status_code == StatusCode.ERROR
        assert span.status.description == error  # HAYHOOKS_SHOW_TRACEBACKS off: the type, not the message
        assert span.attributes["error.type"] == error and not span.events
    assert spans["traced-test"].status.status_code == StatusCode.ERROR
    assert spans["component prompt"].status.status_code == StatusCode.UNSET


@pytest.mark.parametrize(
    ("protocol", "content_type"), [(None, "application/json"), ("http/protobuf", "application/x-protobuf")]
)
def test_exported_over_otlp_http_continuing_a_w3c_traceparent(monkeypatch, protocol, content_type):
    """JSON by default (nothing more to import); OpenTelemetry's protobuf exporter when asked for by name.
    The receiver parses either against OTLP's protobuf schema."""
    if protocol:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", protocol)
    else:
        monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    with OtlpReceiver() as receiver:
        handler = _handler(monkeypatch, receiver.endpoint)
        try:
            event = http_v2(
                "POST",
                "/two_step/run",
                body={"name": "ada"},
                headers={"traceparent": f"00-{W3C_TRACE_ID}-{W3C_PARENT_ID}-01"},
            )
            assert handler(event, Context())["statusCode"] == 200
        finally:
            handler.tracing.shutdown()
    (request,) = receiver.requests  # one request per invocation, before it returned
    assert request.path == "/v1/traces" and request.headers["content-type"] == content_type
    assert "authorization" not in request.headers  # not X-Ray's endpoint: nothing signed
    assert request.service_names == ["traced-test"]
    spans = {span.name: span for span in receiver.spans}
    assert OURS <= set(spans)
    assert {span.trace_id.hex() for span in receiver.spans} == {W3C_TRACE_ID}
    assert spans["traced-test"].parent_span_id.hex() == W3C_PARENT_ID
    by_id = {span.span_id: span for span in receiver.spans}
    chain, span = [], spans["haystack.pipeline.run"]
    while span.parent_span_id in by_id:
        span = by_id[span.parent_span_id]
        chain.append(span.name)
    assert chain[-1] == "traced-test"
    for name in ("component prompt", "component shout"):
        assert spans[name].parent_span_id == spans["haystack.pipeline.run"].span_id
    attributes = {a.key: a.value.string_value for a in spans["component shout"].attributes}
    assert attributes["haystack.component.name"] == "shout"
    invocation = {a.key: a.value for a in spans["traced-test"].attributes}
    assert invocation["faas.coldstart"].bool_value is True  # the first invocation this handler served
    assert invocation["http.response.status_code"].int_value == 200
    assert spans["traced-test"].kind == 2  # OTLP's SPAN_KIND_SERVER


def test_sigv4_signed_export_as_botocore_signs_it(monkeypatch):
    """X-Ray's OTLP endpoint authenticates with SigV4: the request the exporter sends carries the signature
    botocore computes for the same request (the receiver stands in for xray.<region>.amazonaws.com)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token")
    real = span_export.otlp_exporter
    monkeypatch.setattr(
        span_export, "otlp_exporter", lambda endpoint, **k: real(endpoint, **{**k, "sign_region": "eu-west-1"})
    )
    with OtlpReceiver() as receiver:
        handler = _handler(monkeypatch, receiver.endpoint)
        try:
            handler(http_v2("GET", "/status"), Context())
        finally:
            handler.tracing.shutdown()
    (request,) = receiver.requests
    assert request.headers["x-amz-security-token"] == "session-token"
    assert "/eu-west-1/xray/aws4_request" in request.headers["authorization"]
    expected = AWSRequest(
        method="POST",
        url=receiver.endpoint,
        data=request.body,
        headers={"Content-Type": request.headers["content-type"], "Host": request.headers["host"]},
    )
    signed_at = datetime.datetime.strptime(request.headers["x-amz-date"], "%Y%m%dT%H%M%SZ")
    monkeypatch.setattr("botocore.auth.datetime.datetime", _FrozenDatetime.at(signed_at))
    SigV4Auth(
        BotoCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token"), "xray", "eu-west-1"
    ).add_auth(expected)
    assert request.headers["authorization"] == expected.headers["Authorization"]


class _FrozenDatetime(datetime.datetime):
    moment: datetime.datetime

    @classmethod
    def at(cls, moment):
        return type("Frozen", (cls,), {"moment": moment})

    @classmethod
    def utcnow(cls):
        return cls.moment

    @classmethod
    def now(cls, tz=None):
        return cls.moment.replace(tzinfo=tz) if tz else cls.moment


def test_sign_matches_botocore_for_a_fixed_time():
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    body = b"\x0a\x03abc"
    url = "https://xray.us-east-1.amazonaws.com/v1/traces"
    ours = sign(
        "POST",
        url,
        {"Content-Type": "application/x-protobuf"},
        body,
        credentials=Credentials("AKID", "SECRET"),
        region="us-east-1",
        service="xray",
        now=datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=datetime.UTC),
    )
    theirs = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/x-protobuf"})
    theirs.context["timestamp"] = ours["X-Amz-Date"]
    auth = SigV4Auth(BotoCredentials("AKID", "SECRET"), "xray", "us-east-1")
    auth._modify_request_before_signing(theirs)
    theirs.headers.replace_header("X-Amz-Date", ours["X-Amz-Date"])
    string_to_sign = auth.string_to_sign(theirs, auth.canonical_request(theirs))
    assert ours["Authorization"].endswith("Signature=" + auth.signature(string_to_sign, theirs))


def test_incoming_trace_context_order_and_links():
    traceparent = f"00-{W3C_TRACE_ID}-{W3C_PARENT_ID}-01"
    parent, links = incoming(http_v2("GET", "/status", headers={"traceparent": traceparent}), XRAY_HEADER)
    from opentelemetry import trace

    assert trace.get_current_span(parent).get_span_context().trace_id == XRAY_TRACE_ID
    assert [link.context.trace_id for link in links] == [int(W3C_TRACE_ID, 16)]
    # no Lambda header (PassThrough): the request's X-Amzn-Trace-Id comes before traceparent
    headers = {"X-Amzn-Trace-Id": XRAY_HEADER, "traceparent": traceparent}
    parent, _ = incoming({"headers": headers, "requestContext": {}}, None)
    assert trace.get_current_span(parent).get_span_context().span_id == XRAY_PARENT_ID
    assert incoming(http_v2("GET", "/status"), None) == (None, [])
    assert incoming(http_v2("GET", "/status", headers={"traceparent": "garbage"}), "Root=bad") == (None, [])


def test_tracing_config_from_the_environment():
    lambda_env = {
        "AWS_LAMBDA_FUNCTION_NAME": "fn",
        "AWS_REGION": "eu-west-1",
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
    }
    config = tracing_config(lambda_env)
    assert config.endpoint == "https://xray.eu-west-1.amazonaws.com/v1/traces" and config.sign_region == "eu-west-1"
    assert config.service_name == "fn" and config.export_timeout == 2.0
    assert tracing_config({**lambda_env, "OTEL_SDK_DISABLED": "true"}) is None  # the one switch
    assert tracing_config({k: v for k, v in lambda_env.items() if k != "AWS_XRAY_DAEMON_ADDRESS"}) is None
    assert tracing_config({}) is None
    collector = tracing_config({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318/", "OTEL_SERVICE_NAME": "s"})
    assert collector.endpoint == "http://localhost:4318/v1/traces" and collector.sign_region is None
    assert collector.service_name == "s"
    assert (
        tracing_config(
            {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c/v1/traces", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
        )
        is None
    )
    explicit = tracing_config({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://xray.us-east-2.amazonaws.com/v1/traces"})
    assert explicit.sign_region == "us-east-2"
    assert tracing_config({**lambda_env, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "500"}).export_timeout == 0.5
    assert tracing_config(lambda_env, show_tracebacks=True).record_exceptions is True


@pytest.mark.parametrize("switch", [{}, {"AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000", "OTEL_SDK_DISABLED": "true"}])
def test_no_opentelemetry_at_cold_start_when_off(tmp_path, switch):
    """FastAPI (0.165+) imports OpenTelemetry's API for its own telemetry whatever we do; the SDK, the
    exporter, protobuf and Haystack's tracer are ours to import, and only when tracing is on."""
    code = (
        "import sys, handler; from infra.lambda_events import Context, http_v2; "
        "assert handler.lambda_handler(http_v2('GET', '/status'), Context())['statusCode'] == 200; "
        "print(handler.lambda_handler.tracing, sorted(m for m in sys.modules if m.startswith("
        "('opentelemetry.sdk', 'opentelemetry.exporter', 'opentelemetry.proto', 'google.protobuf', "
        "'haystack_integrations.tracing', 'opentelemetry.propagators.aws', 'handler.haystack_spans', "
        "'handler.span_export', 'handler.trace_context'))))"
    )
    env = clean_env(
        PYTHONPATH=str(ROOT),
        HAYHOOKS_PIPELINES_DIR=str(TRACED),
        AWS_LAMBDA_FUNCTION_NAME="f",
        AWS_REGION="eu-west-1",
        **switch,
    )
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "_X_AMZN_TRACE_ID"):
        env.pop(name, None)
    if not switch:
        env.pop("AWS_XRAY_DAEMON_ADDRESS", None)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "None []"
