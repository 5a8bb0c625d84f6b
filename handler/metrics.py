"""CloudWatch metrics as Embedded Metric Format (EMF) lines on stdout.

Per invocation that ran a pipeline: `Invocations` (1), `Errors` (1 for a 5xx) and `Latency` (ms), with the
pipeline name as a dimension. Once per environment, at the end of its init phase: `ColdStart` (1) and
`InitDuration` (ms); after a SnapStart restore, `ColdStart` again. Per-invocation metrics are written at
the end of every invocation, error paths included.

Configured as Powertools Metrics is: namespace from POWERTOOLS_METRICS_NAMESPACE (default HaystackLambda),
the `service` dimension from POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_DISABLED=true writes nothing. The
lines have the shape Powertools writes; they are built here because its per-call unit validation and
serialisation cost about 15 µs per invocation, most of the handler's metrics budget.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from core.access_log import RequestRecord
from core.stdout_lines import install as install_stdout

PIPELINE_METRICS = (("Invocations", "Count"), ("Errors", "Count"), ("Latency", "Milliseconds"))


def emf_line(namespace: str, dimensions: dict[str, str], metrics: list[tuple[str, str, float]]) -> str:
    """One EMF document: `metrics` as (name, unit, value), all sharing `dimensions`."""
    document: dict[str, Any] = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [sorted(dimensions)],
                    "Metrics": [{"Name": name, "Unit": unit} for name, unit, _ in metrics],
                }
            ],
        },
        **dimensions,
    }
    for name, _, value in metrics:
        document[name] = [float(value)]
    return json.dumps(document, separators=(",", ":"))


class PipelineMetrics:
    def __init__(self, init_ms: float) -> None:
        self.namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "HaystackLambda")
        self.service = os.environ.get("POWERTOOLS_SERVICE_NAME", "haystack-lambda")
        self.disabled = os.environ.get("POWERTOOLS_METRICS_DISABLED", "").strip().lower() in ("1", "true", "yes")
        self.init_ms = init_ms
        self.unwritten: list[str] = []
        self.out = install_stdout()

    def _write(self, lines: list[str]) -> None:
        if lines and not self.disabled:
            self.out.write("\n".join(lines) + "\n")  # on a line of its own (core/stdout_lines.py)
            self.out.flush()

    def emit_cold_start(self, *, restored: bool = False) -> None:
        """At the end of init (or of a SnapStart restore, which has no init of its own to report): written
        then rather than with the first response, so the first invocation costs what the others do."""
        values = [("ColdStart", "Count", 1.0)]
        if not restored:
            values.append(("InitDuration", "Milliseconds", round(self.init_ms, 1)))
        dimensions = {"service": self.service}
        self._write([emf_line(self.namespace, dimensions, [metric]) for metric in values])

    def observe(self, record: RequestRecord) -> None:
        if record.pipeline is None:
            return
        values = (1, 1 if record.status >= 500 else 0, record.duration_ms)
        metrics = [(name, unit, value) for (name, unit), value in zip(PIPELINE_METRICS, values, strict=True)]
        self.unwritten.append(emf_line(self.namespace, {"pipeline": record.pipeline, "service": self.service}, metrics))

    def flush(self) -> None:
        """End of an invocation: write what was recorded."""
        if self.unwritten:
            lines, self.unwritten = self.unwritten, []
            self._write(lines)
