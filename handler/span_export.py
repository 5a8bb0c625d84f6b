"""Where the spans go: kept during an invocation, sent in one OTLP/HTTP request when it ends (under our
Runtime API loop, once its answer is posted: handler/entry.py `after_response`).

Lambda freezes the environment as soon as the handler returns, so a background exporter thread (the SDK's
BatchSpanProcessor) could hold spans for minutes or lose them; exporting per span would make one request
per component. Here the spans of an invocation are kept in memory and `force_flush` sends them together.
Imported only when tracing is on (it loads the OpenTelemetry SDK).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

logger = logging.getLogger("handler.tracing")

MAX_SPANS = 2048  # per invocation; more (a runaway loop of components) are counted and dropped


class InvocationSpans(SpanProcessor):
    def __init__(self, exporter: SpanExporter, max_spans: int = MAX_SPANS) -> None:
        self.exporter = exporter
        self.max_spans = max_spans
        self.dropped = 0
        self._spans: list[ReadableSpan] = []
        self._lock = threading.Lock()

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            if len(self._spans) < self.max_spans:
                self._spans.append(span)
            else:
                self.dropped += 1

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        with self._lock:
            spans, self._spans = self._spans, []
            dropped, self.dropped = self.dropped, 0
        if dropped:
            logger.warning("Dropped %d span(s) over the %d an invocation keeps", dropped, self.max_spans)
        if not spans:
            return True
        try:
            ok = self.exporter.export(spans) == SpanExportResult.SUCCESS
        except Exception:  # tracing must never fail a request
            logger.warning("Exporting %d span(s) failed", len(spans), exc_info=True)
            return False
        if not ok:
            logger.warning("Exporting %d span(s) failed (the OTLP endpoint refused them)", len(spans))
        return ok

    def discard(self) -> None:
        with self._lock:
            self._spans, self.dropped = [], 0

    def shutdown(self) -> None:
        self.force_flush()
        self.exporter.shutdown()


class SpanRouter(SpanProcessor):
    """The process provider's one processor: hands finished spans to the current `Tracing`'s buffer (one
    per process on Lambda; tests make several handlers in one process)."""

    def __init__(self) -> None:
        self.provider: Any = None
        self.target: InvocationSpans | None = None

    def on_end(self, span: ReadableSpan) -> None:
        if (target := self.target) is not None:
            target.on_end(span)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.target.force_flush(timeout_millis) if self.target is not None else True


ROUTER = SpanRouter()


def otlp_exporter(
    endpoint: str, *, sign_region: str | None, timeout: float, protocol: str = "http/json"
) -> SpanExporter:
    """OTLP/HTTP with JSON bodies (handler/otlp_json.py: nothing more to import), or OpenTelemetry's own
    protobuf exporter when OTEL_EXPORTER_OTLP_PROTOCOL asks for http/protobuf."""
    if protocol == "http/protobuf":
        from handler.otlp_protobuf import protobuf_exporter

        return protobuf_exporter(endpoint, sign_region=sign_region, timeout=timeout)
    from handler.otlp_json import OtlpJsonExporter

    return OtlpJsonExporter(endpoint, sign_region=sign_region, timeout=timeout)
