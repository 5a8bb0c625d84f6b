"""X-Ray traces with Powertools Tracer: a subsegment per pipeline run and per Haystack component.

On only when the function has active tracing (Lambda sets AWS_XRAY_DAEMON_ADDRESS; the template's
`Tracing: Active`) and POWERTOOLS_TRACE_DISABLED is not true; otherwise neither aws-xray-sdk nor anything
here is imported at cold start (importing Haystack early would also stop it overlapping the S3 fetch).
Haystack reports its work through its own tracing API (`haystack.tracing`); the tracer built here turns
each span into an X-Ray subsegment: `haystack.pipeline.run` for the pipeline (annotated with the pipeline
name and its outcome) and `component <name>` per component (annotated with component name and type).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from core.access_log import current_pipeline

_ANNOTATED_TAGS = {"haystack.component.name": "component", "haystack.component.type": "component_type"}


def tracing_enabled(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    disabled = env.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true")
    return bool(env.get("AWS_XRAY_DAEMON_ADDRESS")) and not disabled


def xray_haystack_tracer(provider: Any) -> Any:
    """A `haystack.tracing.Tracer` writing X-Ray subsegments through Powertools' provider."""
    from haystack.tracing import Span, Tracer

    class XRaySpan(Span):
        def __init__(self, subsegment: Any) -> None:
            self.subsegment = subsegment

        def set_tag(self, key: str, value: Any) -> None:
            if key in _ANNOTATED_TAGS:
                self.subsegment.put_annotation(_ANNOTATED_TAGS[key], str(value))
            elif isinstance(value, (str, int, float, bool)):
                self.subsegment.put_metadata(key, value, "haystack")

        def raw_span(self) -> Any:
            return self.subsegment

    class XRayHaystackTracer(Tracer):
        def __init__(self) -> None:
            self._current: list[XRaySpan] = []

        @contextlib.contextmanager
        def trace(
            self, operation_name: str, tags: dict[str, Any] | None = None, parent_span: Span | None = None
        ) -> Iterator[Span]:
            name = operation_name
            if operation_name == "haystack.component.run" and tags and tags.get("haystack.component.name"):
                name = f"component {tags['haystack.component.name']}"
            with provider.in_subsegment(name=name) as subsegment:
                span = XRaySpan(subsegment)
                if operation_name == "haystack.pipeline.run" and current_pipeline.get():
                    subsegment.put_annotation("pipeline", current_pipeline.get())
                span.set_tags(tags or {})
                self._current.append(span)
                try:
                    yield span
                except BaseException:
                    subsegment.put_annotation("status", "error")
                    raise
                else:
                    subsegment.put_annotation("status", "ok")
                finally:
                    self._current.pop()

        def current_span(self) -> Span | None:
            return self._current[-1] if self._current else None

    return XRayHaystackTracer()


def enable_tracing(service: str) -> Any:
    """Start Powertools Tracer and route Haystack's spans to it; returns the tracer."""
    from aws_lambda_powertools import Tracer as PowertoolsTracer
    from haystack import tracing

    tracer = PowertoolsTracer(service=service)
    tracing.enable_tracing(xray_haystack_tracer(tracer.provider))
    return tracer
