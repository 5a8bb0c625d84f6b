"""The trace an invocation continues, read from Lambda's `_X_AMZN_TRACE_ID` and the request's headers.

Order (OpenTelemetry's conventions for Lambda): Lambda's own trace header first, since with active tracing
its segment for this invocation is the real parent; then the request's `X-Amzn-Trace-Id` (ALB, REST APIs,
a caller using X-Ray); then W3C `traceparent` (+ `tracestate`). When Lambda's header is the parent and a
request header names another trace, that trace becomes a link, so neither is lost.
Imported only when tracing is on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagators.aws import AwsXRayPropagator
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_XRAY = AwsXRayPropagator()
_W3C = TraceContextTextMapPropagator()


class _LowerCaseGetter(Getter[Mapping[str, str]]):
    """Header lookups whatever the case the event uses (HTTP API lower-cases, REST APIs and ALB keep it)."""

    def get(self, carrier: Mapping[str, str], key: str) -> list[str] | None:
        value = carrier.get(key.lower())
        return [value] if value is not None else None

    def keys(self, carrier: Mapping[str, str]) -> list[str]:
        return list(carrier)


_GETTER = _LowerCaseGetter()


def incoming(event: Any, lambda_trace_header: str | None) -> tuple[Context | None, list[trace.Link]]:
    """(parent context or None for a new trace, links to other traces the request names)."""
    headers = _headers(event)
    candidates: list[Context] = []
    if lambda_trace_header:
        candidates.append(_XRAY.extract({"x-amzn-trace-id": lambda_trace_header}, getter=_GETTER))
    if "x-amzn-trace-id" in headers:
        candidates.append(_XRAY.extract(headers, getter=_GETTER))
    if "traceparent" in headers:
        candidates.append(_W3C.extract(headers, getter=_GETTER))
    valid = [(ctx, trace.get_current_span(ctx).get_span_context()) for ctx in candidates]
    valid = [(ctx, span) for ctx, span in valid if span.is_valid]
    if not valid:
        return None, []
    parent, parent_span = valid[0]
    links, seen = [], {parent_span.trace_id}
    for _, span in valid[1:]:
        if span.trace_id not in seen:
            seen.add(span.trace_id)
            links.append(trace.Link(span))
    return parent, links


def _headers(event: Any) -> dict[str, str]:
    if not isinstance(event, dict):
        return {}
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items() if isinstance(v, str)}
    for key, values in (event.get("multiValueHeaders") or {}).items():  # REST API / ALB multi-value mode
        if isinstance(values, list) and values and isinstance(values[0], str):
            headers.setdefault(str(key).lower(), values[0])
    return headers
