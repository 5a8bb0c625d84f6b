"""Haystack's OpenTelemetry tracer (opentelemetry-haystack), with names and errors as this service wants them.

Haystack reports each pipeline run (`haystack.pipeline.run`) and each component run through
`haystack.tracing`; this tracer makes each an OpenTelemetry span, a child of whatever span is current (the
invocation's). Two changes to the integration's tracer: a component span is named `component <name>`, so
X-Ray's timeline reads without opening each one; a failure's message and stack go on the span only
when tracebacks are shown (HAYHOOKS_SHOW_TRACEBACKS), as in responses: otherwise its type alone; and a
pipeline's input data (which Haystack tags whatever its content-tracing switch says, unlike its output)
is left out unless HAYSTACK_CONTENT_TRACING_ENABLED=true: prompts and documents stay out of traces.
Imported only when tracing is on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from haystack.tracing import Span, tracer
from haystack_integrations.tracing.opentelemetry import OpenTelemetrySpan, OpenTelemetryTracer
from opentelemetry.trace import Status, StatusCode

from core.request_context import current_pipeline

PIPELINE_NAME = "hayhooks.pipeline.name"  # Hayhooks' own attribute for the deployed pipeline's name
CONTENT_TAGS = {"haystack.pipeline.input_data"}


class PipelineTracer(OpenTelemetryTracer):
    def __init__(self, tracer: Any, *, record_exceptions: bool) -> None:
        super().__init__(tracer)
        self.record_exceptions = record_exceptions

    @contextlib.contextmanager
    def trace(
        self, operation_name: str, tags: dict[str, Any] | None = None, parent_span: Span | None = None
    ) -> Iterator[Span]:
        name = operation_name
        if operation_name == "haystack.component.run" and tags and tags.get("haystack.component.name"):
            name = f"component {tags['haystack.component.name']}"
        with self._tracer.start_as_current_span(name, record_exception=False, set_status_on_exception=False) as raw:
            span = OpenTelemetrySpan(raw)
            if tags and not tracer.is_content_tracing_enabled:
                tags = {k: v for k, v in tags.items() if k not in CONTENT_TAGS}
            if tags:
                span.set_tags(tags)
            if operation_name == "haystack.pipeline.run" and (pipeline := current_pipeline.get()):
                raw.set_attribute(PIPELINE_NAME, pipeline)
            try:
                yield span
            except BaseException as exc:
                mark_failed(raw, exc, record=self.record_exceptions)
                raise


def mark_failed(raw: Any, exc: BaseException, *, record: bool) -> None:
    if record:
        raw.record_exception(exc)
        raw.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
    else:
        raw.set_status(Status(StatusCode.ERROR, type(exc).__name__))
    raw.set_attribute("error.type", type(exc).__name__)
