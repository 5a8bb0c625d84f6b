"""OTLP's JSON encoding of spans, checked by parsing it against OTLP's own protobuf schema."""

import json

from google.protobuf import json_format
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from handler.otlp_json import encode
from infra.otlp_receiver import _protobuf_json

REMOTE = SpanContext(0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331, is_remote=True, trace_flags=TraceFlags(1))
LINKED = SpanContext(0x5759E988BD862E3FE1BE46A994272793, 0x53995C3F42CD8AD8, is_remote=True)


def _spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "encoded"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("haystack-lambda", "1.2")
    parent = trace.set_span_in_context(NonRecordingSpan(REMOTE))
    with tracer.start_as_current_span(
        "invocation", context=parent, kind=SpanKind.SERVER, links=[trace.Link(LINKED, {"why": "header"})]
    ) as outer:
        outer.set_attributes({"s": "x", "b": True, "i": 7, "f": 0.5, "many": ["a", "b"], "big": 2**40})
        with tracer.start_as_current_span("component shout") as inner:
            inner.add_event("retry", {"attempt": 2})
            inner.set_status(Status(StatusCode.ERROR, "ValueError"))
    return exporter.get_finished_spans()


def test_encoded_spans_parse_as_otlp_and_keep_every_field():
    body = json.loads(encode(_spans()))
    message = json_format.ParseDict(_protobuf_json(body), ExportTraceServiceRequest())  # unknown fields fail
    (resource_spans,) = message.resource_spans
    assert {a.key: a.value.string_value for a in resource_spans.resource.attributes}["service.name"] == "encoded"
    (scope_spans,) = resource_spans.scope_spans
    assert (scope_spans.scope.name, scope_spans.scope.version) == ("haystack-lambda", "1.2")
    spans = {s.name: s for s in scope_spans.spans}
    outer, inner = spans["invocation"], spans["component shout"]
    assert outer.trace_id.hex() == f"{REMOTE.trace_id:032x}" and outer.parent_span_id.hex() == f"{REMOTE.span_id:016x}"
    assert outer.kind == 2 and inner.kind == 1  # SERVER, INTERNAL
    assert outer.flags == 0x301 and inner.flags == 0x101  # sampled; parent remote (outer) or local (inner)
    assert inner.parent_span_id == outer.span_id
    values = {a.key: a.value for a in outer.attributes}
    assert values["s"].string_value == "x" and values["b"].bool_value is True and values["f"].double_value == 0.5
    assert values["i"].int_value == 7 and values["big"].int_value == 2**40
    assert [v.string_value for v in values["many"].array_value.values] == ["a", "b"]
    (link,) = outer.links
    assert link.trace_id.hex() == f"{LINKED.trace_id:032x}" and link.attributes[0].key == "why"
    (event,) = inner.events
    assert event.name == "retry" and event.attributes[0].value.int_value == 2
    assert inner.status.code == 2 and inner.status.message == "ValueError"
    assert outer.end_time_unix_nano > outer.start_time_unix_nano > 0
