"""OTLP/HTTP with JSON bodies: the spans of an invocation in one POST, signed for X-Ray when it is the target.

OpenTelemetry's own OTLP exporter encodes protobuf and sends with requests: importing it (protobuf, its
generated modules, the exporter) cost every traced cold start ~0.2 s. OTLP/HTTP also defines a JSON
encoding, which X-Ray's OTLP endpoint (and the OpenTelemetry Collector) accept; writing it takes json and
urllib, already loaded. The mapping is OTLP's: ids in lowercase hex, 64-bit integers as strings, enums as
numbers, field names in lowerCamelCase. OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf still selects
OpenTelemetry's exporter (handler/span_export.py).
"""

from __future__ import annotations

import base64
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from core.http_opener import opener_for
from core.sigv4 import LambdaCredentials, sign

logger = logging.getLogger("handler.tracing")

CONTENT_TYPE = "application/json"
# OTLP's SpanFlags: the W3C trace flags in the low byte, then "is the parent's remoteness known" and "is it"
_HAS_IS_REMOTE, _IS_REMOTE = 0x100, 0x200


def any_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):  # before int: bool is an int
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode()}
    if isinstance(value, Mapping):
        return {"kvlistValue": {"values": attributes(value)}}
    if isinstance(value, Sequence):
        return {"arrayValue": {"values": [any_value(v) for v in value]}}
    return {"stringValue": str(value)}


def attributes(values: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    return [{"key": str(k), "value": any_value(v)} for k, v in (values or {}).items()]


def _span(span: ReadableSpan) -> dict[str, Any]:
    context = span.get_span_context()
    flags = int(context.trace_flags) | _HAS_IS_REMOTE
    encoded: dict[str, Any] = {
        "traceId": f"{context.trace_id:032x}",
        "spanId": f"{context.span_id:016x}",
        "name": span.name,
        "kind": span.kind.value + 1,  # the API's INTERNAL is 0; OTLP keeps 0 for "unspecified"
        "startTimeUnixNano": str(span.start_time or 0),
        "endTimeUnixNano": str(span.end_time or 0),
        "attributes": attributes(span.attributes),
        "status": {"code": span.status.status_code.value},
    }
    if context.trace_state:
        encoded["traceState"] = context.trace_state.to_header()
    if span.parent is not None:
        encoded["parentSpanId"] = f"{span.parent.span_id:016x}"
        if span.parent.is_remote:
            flags |= _IS_REMOTE
    encoded["flags"] = flags
    if span.status.description:
        encoded["status"]["message"] = span.status.description
    if span.events:
        encoded["events"] = [
            {"timeUnixNano": str(e.timestamp), "name": e.name, "attributes": attributes(e.attributes)}
            for e in span.events
        ]
    if span.links:
        encoded["links"] = [
            {
                "traceId": f"{link.context.trace_id:032x}",
                "spanId": f"{link.context.span_id:016x}",
                "attributes": attributes(link.attributes),
            }
            for link in span.links
        ]
    dropped = {
        "droppedAttributesCount": span.dropped_attributes,
        "droppedEventsCount": span.dropped_events,
        "droppedLinksCount": span.dropped_links,
    }
    encoded.update({k: v for k, v in dropped.items() if v})
    return encoded


def encode(spans: Sequence[ReadableSpan]) -> bytes:
    """An ExportTraceServiceRequest in OTLP's JSON encoding: spans grouped by resource, then by scope."""
    by_resource: dict[int, tuple[Any, dict[tuple[str, str | None], list[dict[str, Any]]]]] = {}
    for span in spans:
        _, scopes = by_resource.setdefault(id(span.resource), (span.resource, {}))
        scope = span.instrumentation_scope
        key = (scope.name, scope.version) if scope is not None else ("", None)
        scopes.setdefault(key, []).append(_span(span))
    resource_spans = []
    for resource, scopes in by_resource.values():
        scope_spans = []
        for (name, version), encoded in scopes.items():
            scope: dict[str, Any] = {"name": name}
            if version:
                scope["version"] = version
            scope_spans.append({"scope": scope, "spans": encoded})
        entry: dict[str, Any] = {"resource": {"attributes": attributes(resource.attributes)}, "scopeSpans": scope_spans}
        if resource.schema_url:
            entry["schemaUrl"] = resource.schema_url
        resource_spans.append(entry)
    return json.dumps({"resourceSpans": resource_spans}, separators=(",", ":")).encode()


class OtlpJsonExporter(SpanExporter):
    """Sends each batch in one POST, within `timeout` seconds; SigV4-signed when `sign_region` is set."""

    def __init__(self, endpoint: str, *, sign_region: str | None, timeout: float) -> None:
        self.endpoint = endpoint
        self.sign_region = sign_region
        self.timeout = timeout
        self.credentials = LambdaCredentials() if sign_region else None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        body = encode(spans)
        headers = {"Content-Type": CONTENT_TYPE}
        if self.credentials is not None and self.sign_region:
            headers.update(
                sign(
                    "POST",
                    self.endpoint,
                    headers,
                    body,
                    credentials=self.credentials.get(),
                    region=self.sign_region,
                    service="xray",
                )
            )
        request = urllib.request.Request(self.endpoint, data=body, headers=headers, method="POST")
        try:
            with opener_for(self.endpoint).open(request, timeout=self.timeout) as reply:
                reply.read()
            return SpanExportResult.SUCCESS
        except urllib.error.HTTPError as error:
            # the endpoint's own words (e.g. X-Ray: Transaction Search not enabled), never the spans
            logger.warning("OTLP endpoint answered %d: %s", error.code, error.read()[:300].decode(errors="replace"))
            return SpanExportResult.FAILURE
        except OSError as error:
            logger.warning("OTLP endpoint not reached: %s", error)
            return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        pass
