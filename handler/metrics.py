"""CloudWatch metrics as Embedded Metric Format (EMF) lines, with Powertools Metrics.

Per invocation that ran a pipeline: `Invocations` (1), `Errors` (1 for a 5xx) and `Latency` (ms), with the
pipeline name as a dimension. Once per environment, on its first invocation: `ColdStart` (1) and
`InitDuration` (ms). Flushed at the end of every invocation, error paths included. Namespace and service
come from POWERTOOLS_METRICS_NAMESPACE (default HaystackLambda) and POWERTOOLS_SERVICE_NAME.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from core.access_log import RequestRecord


class PipelineMetrics:
    def __init__(self, init_ms: float) -> None:
        self.namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "HaystackLambda")
        self.service = os.environ.get("POWERTOOLS_SERVICE_NAME", "haystack-lambda")
        self.metrics = Metrics(namespace=self.namespace, service=self.service)
        self.init_ms = init_ms
        self.cold = True
        self.pending = False

    def observe(self, record: RequestRecord) -> None:
        if record.pipeline is None:
            return
        self.metrics.add_dimension(name="pipeline", value=record.pipeline)
        self.metrics.add_metric(name="Invocations", unit=MetricUnit.Count, value=1)
        self.metrics.add_metric(name="Errors", unit=MetricUnit.Count, value=1 if record.status >= 500 else 0)
        self.metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=record.duration_ms)
        self.pending = True

    def flush(self) -> None:
        """End of an invocation: write what was recorded, and the cold-start metrics once."""
        if self.cold:
            self.cold = False
            for name, unit, value in (
                ("ColdStart", MetricUnit.Count, 1),
                ("InitDuration", MetricUnit.Milliseconds, round(self.init_ms, 1)),
            ):
                with single_metric(name=name, unit=unit, value=value, namespace=self.namespace) as metric:
                    metric.add_dimension(name="service", value=self.service)
        if self.pending:
            self.pending = False
            self.metrics.flush_metrics()
