"""OpenTelemetry traces: a span per invocation, and within it one per pipeline run and per Haystack component.

When it is on (`tracing_config`):
- OTEL_SDK_DISABLED=true turns it off (the template's `Tracing` parameter sets it), whatever else is set;
- OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT (as Hayhooks reads them; the second
  gets `/v1/traces` appended): spans go there over OTLP/HTTP, JSON-encoded (handler/otlp_json.py), or
  protobuf when OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL=http/protobuf; gRPC is refused (no gRPC exporter);
- otherwise, on Lambda with active tracing (Lambda then sets AWS_XRAY_DAEMON_ADDRESS): X-Ray's OTLP
  endpoint for the function's region, `https://xray.<region>.amazonaws.com/v1/traces`, signed with
  SigV4 (docs/decisions.md says why this and not the ADOT layer), or AWS_ENDPOINT_URL_XRAY's host instead;
- neither: off. When off, nothing of OpenTelemetry is imported.

The invocation span continues the caller's trace: Lambda's own `_X_AMZN_TRACE_ID` (active tracing: its
segment is the parent, so the spans sit under the function in X-Ray), else the request's
`X-Amzn-Trace-Id` header, else a W3C `traceparent` header; a header naming another trace than Lambda's
becomes a link. Service name: OTEL_SERVICE_NAME, else POWERTOOLS_SERVICE_NAME, else the function's name.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

logger = logging.getLogger("handler.tracing")

_TRUE = {"1", "true", "yes", "on"}
_XRAY_HOST = re.compile(r"^xray\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")
DEFAULT_EXPORT_TIMEOUT = 2.0  # seconds an invocation may wait for its spans to be accepted
# OTLP/HTTP encodings: JSON unless protobuf is asked for by name (JSON needs no more imports: otlp_json.py)
_PROTOCOLS = {"": "http/json", "http/json": "http/json", "http/protobuf": "http/protobuf", "http": "http/protobuf"}


@dataclass(frozen=True)
class TracingConfig:
    endpoint: str
    sign_region: str | None  # SigV4-sign requests for X-Ray's OTLP endpoint in this region
    service_name: str
    record_exceptions: bool = False
    export_timeout: float = DEFAULT_EXPORT_TIMEOUT
    protocol: str = "http/json"


def tracing_config(environ: Mapping[str, str] | None = None, *, show_tracebacks: bool = False) -> TracingConfig | None:
    """What tracing the environment asks for; None when it is off."""
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() in _TRUE:
        return None
    asked = (env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "").strip()
    protocol = _PROTOCOLS.get(asked.lower())
    if protocol is None:
        logger.warning("Tracing off: OTLP protocol %r is not supported here (use http/json or http/protobuf)", asked)
        return None
    endpoint = (env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or "").strip()
    if not endpoint and (base := (env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "").strip()):
        endpoint = base.rstrip("/") + "/v1/traces"
    if not endpoint:
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        if not (env.get("AWS_XRAY_DAEMON_ADDRESS") and env.get("AWS_LAMBDA_FUNCTION_NAME") and region):
            return None
        # AWS_ENDPOINT_URL_XRAY moves X-Ray's endpoint as it does for the AWS SDKs (a VPC endpoint, a
        # stand-in on loopback); requests to it are still signed for the region
        moved = (env.get("AWS_ENDPOINT_URL_XRAY") or "").strip().rstrip("/")
        suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
        endpoint = f"{moved or f'https://xray.{region}.{suffix}'}/v1/traces"
        sign_region = region
    else:
        host = re.sub(r"^[a-z]+://", "", endpoint).split("/", 1)[0].split(":", 1)[0]
        match = _XRAY_HOST.match(host)
        sign_region = match.group(1) if match else None
    timeout = env.get("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT") or env.get("OTEL_EXPORTER_OTLP_TIMEOUT")
    return TracingConfig(
        endpoint=endpoint,
        sign_region=sign_region,
        service_name=env.get("OTEL_SERVICE_NAME")
        or env.get("POWERTOOLS_SERVICE_NAME")
        or env.get("AWS_LAMBDA_FUNCTION_NAME")
        or "haystack-lambda",
        record_exceptions=show_tracebacks,
        export_timeout=_seconds(timeout) if timeout else DEFAULT_EXPORT_TIMEOUT,
        protocol=protocol,
    )


def _seconds(raw: str) -> float:
    # OTel's OTLP timeout variables are in milliseconds
    try:
        return max(0.1, float(raw) / 1000)
    except ValueError:
        return DEFAULT_EXPORT_TIMEOUT


class Tracing:
    """Tracing set up for this process: Haystack's spans go through it, `invocation` opens the parent span."""

    def __init__(self, config: TracingConfig, exporter: Any = None) -> None:
        from haystack import tracing as haystack_tracing
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider

        from handler.haystack_spans import PipelineTracer
        from handler.span_export import ROUTER, InvocationSpans, otlp_exporter

        self.config = config
        if exporter is None and config.endpoint[:6].lower() == "https:":
            from core.http_opener import warm_tls_context

            warm_tls_context()  # the CA bundle loads during the cold start's imports, not in the first export
        exporter = exporter or otlp_exporter(
            config.endpoint, sign_region=config.sign_region, timeout=config.export_timeout, protocol=config.protocol
        )
        self.spans = InvocationSpans(exporter)
        if ROUTER.provider is None:
            # one provider per process, made the global one: FastAPI's request spans and a wrapper's own
            # OpenTelemetry spans go through it too (OpenTelemetry lets the global be set only once)
            # Resource(...), not Resource.create(): create() looks resource detectors up among the installed
            # packages' entry points (~10 ms of a cold start); the attributes it would add are set here
            ROUTER.provider = TracerProvider(resource=Resource(_resource(config.service_name)))
            ROUTER.provider.add_span_processor(ROUTER)
            trace.set_tracer_provider(ROUTER.provider)
        ROUTER.target = self.spans
        self.provider = ROUTER.provider
        self.tracer = self.provider.get_tracer("haystack-lambda")
        haystack_tracing.enable_tracing(PipelineTracer(self.tracer, record_exceptions=config.record_exceptions))
        self.current: Any = None  # the invocation span being served

    @contextlib.contextmanager
    def invocation(self, event: Any, context: Any, *, cold_start: bool) -> Iterator[Any]:
        from opentelemetry.trace import SpanKind

        from handler.trace_context import incoming

        # Lambda's header is the parent only under active tracing (AWS_XRAY_DAEMON_ADDRESS): then its
        # sampling decision (X-Ray's sampling rules) is ours too; without it, it is not the function's trace
        active = bool(os.environ.get("AWS_XRAY_DAEMON_ADDRESS"))
        parent, links = incoming(event, os.environ.get("_X_AMZN_TRACE_ID") if active else None)
        attributes: dict[str, Any] = {
            "faas.trigger": "http",
            "faas.coldstart": cold_start,
            "faas.invocation_id": getattr(context, "aws_request_id", "") or "",
        }
        if arn := getattr(context, "invoked_function_arn", None):
            attributes["cloud.resource_id"] = arn
        attributes.update(_request_attributes(event))
        # OpenTelemetry's FaaS conventions: the invocation span is named after the function
        name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or self.config.service_name
        with self.tracer.start_as_current_span(
            name,
            context=parent,
            kind=SpanKind.SERVER,
            links=links,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            self.current = span
            try:
                yield span
            except BaseException as exc:
                from handler.haystack_spans import mark_failed

                mark_failed(span, exc, record=self.config.record_exceptions)
                raise
            finally:
                self.current = None

    def propagated(self, event: Any) -> Any:
        """The event with the current (invocation) span's context in its headers, written by the process's
        propagator (W3C traceparent by default): FastAPI (0.165+) starts its request span from the request's
        headers, not from the current context, so without this it would begin a trace of its own."""
        from opentelemetry import propagate

        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        if not carrier or not isinstance(event, dict):
            return event
        event = dict(event)
        replaced = {k.lower() for k in carrier}
        for key in ("headers", "multiValueHeaders"):
            if isinstance(event.get(key), dict):
                kept = {k: v for k, v in event[key].items() if str(k).lower() not in replaced}
                added = carrier if key == "headers" else {k: [v] for k, v in carrier.items()}
                event[key] = {**kept, **added}
        if "headers" not in event and "multiValueHeaders" not in event:
            event["headers"] = dict(carrier)
        return event

    def observe(self, record: Any) -> None:
        """A request observer (core/access_log.py): the pipeline and status go on the invocation span."""
        span = self.current
        if span is None:
            return
        if record.pipeline:
            span.set_attribute("hayhooks.pipeline.name", record.pipeline)
        span.set_attribute("http.response.status_code", record.status)
        if record.status >= 500:
            from opentelemetry.trace import Status, StatusCode

            span.set_status(Status(StatusCode.ERROR))

    def flush(self) -> bool:
        return self.spans.force_flush()

    def shutdown(self) -> None:
        from haystack import tracing as haystack_tracing

        from handler.span_export import ROUTER

        haystack_tracing.disable_tracing()
        if ROUTER.target is self.spans:
            ROUTER.target = None
        self.spans.shutdown()


def _resource(service_name: str) -> dict[str, Any]:
    """What Resource.create() would give (the SDK's own attributes, then OTEL_RESOURCE_ATTRIBUTES), then
    the function's, which win."""
    from opentelemetry.sdk.version import __version__ as sdk_version

    env = os.environ
    values: dict[str, Any] = {
        "telemetry.sdk.language": "python",
        "telemetry.sdk.name": "opentelemetry",
        "telemetry.sdk.version": sdk_version,
        "service.instance.id": str(uuid.uuid4()),  # one per execution environment, as create() makes it
    }
    for item in env.get("OTEL_RESOURCE_ATTRIBUTES", "").split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            values[unquote(key.strip())] = unquote(value.strip())
    values.update({"service.name": service_name, "cloud.provider": "aws", "cloud.platform": "aws_lambda"})
    optional = {
        "cloud.region": env.get("AWS_REGION"),
        "faas.name": env.get("AWS_LAMBDA_FUNCTION_NAME"),
        "faas.version": env.get("AWS_LAMBDA_FUNCTION_VERSION"),
        "faas.max_memory": int(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]) * 1024 * 1024
        if env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "").isdigit()
        else None,
    }
    values.update({k: v for k, v in optional.items() if v is not None})
    return values


def _request_attributes(event: Any) -> dict[str, str]:
    if not isinstance(event, dict):
        return {}
    request_context = event.get("requestContext")
    http = request_context.get("http") if isinstance(request_context, dict) else None
    http = http if isinstance(http, dict) else {}
    method = http.get("method") or event.get("httpMethod")
    path = http.get("path") or event.get("rawPath") or event.get("path")
    if not (isinstance(method, str) and isinstance(path, str)):
        return {}
    return {"http.request.method": method, "url.path": path}


def start_tracing(show_tracebacks: bool = False, environ: Mapping[str, str] | None = None) -> Tracing | None:
    config = tracing_config(environ, show_tracebacks=show_tracebacks)
    if config is None:
        return None
    tracing = Tracing(config)
    logger.info("Tracing on: spans to %s%s", config.endpoint, " (SigV4-signed, X-Ray)" if config.sign_region else "")
    return tracing
