"""The fields every log line of an invocation carries (core/logs.py writes them), read from the event and
context the way Powertools' Logger reads them (`inject_lambda_context`, `set_correlation_id`)."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

_RUN_PATH = re.compile(r"^/(?:[^/]+/)*?([^/]+)/run/?$")


def invocation_log_fields(event: Any, context: Any, *, cold_start: bool, pipelines: Collection[str]) -> dict[str, Any]:
    request_context = _dict(event.get("requestContext") if isinstance(event, dict) else None)
    memory = getattr(context, "memory_limit_in_mb", None)
    return {
        "function_request_id": getattr(context, "aws_request_id", None),
        "correlation_id": request_context.get("requestId"),  # API Gateway's id for the request
        "cold_start": cold_start,
        "function_name": getattr(context, "function_name", None),
        "function_arn": getattr(context, "invoked_function_arn", None),
        "function_memory_size": int(memory) if str(memory or "").isdigit() else None,
        "pipeline": _run_pipeline(event, pipelines),
    }


def _run_pipeline(event: Any, pipelines: Collection[str]) -> str | None:
    """The pipeline a `/{name}/run` request names, when it is one of ours (OpenAI-style routes name theirs in
    the body: the route adds it to the lines it writes)."""
    if not isinstance(event, dict):
        return None
    path = _dict(_dict(event.get("requestContext")).get("http")).get("path") or event.get("path")
    if not isinstance(path, str) or not (match := _RUN_PATH.match(path)):
        return None
    return match.group(1) if match.group(1) in pipelines else None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}  # events come from outside: any shape may arrive


def xray_trace_id(trace_id: int) -> str:
    """An OpenTelemetry trace id as X-Ray writes it: `1-<8 hex digits>-<24 hex digits>`."""
    digits = f"{trace_id:032x}"
    return f"1-{digits[:8]}-{digits[8:]}"
