"""What the layers of one request tell each other: which pipeline it runs, its Lambda request id, and
whether it is one of the init warm-up's requests.

A leaf: it imports nothing of ours, so logging, tracing, authentication, the access log, the routes
and the init warm-up can all read it without importing one another.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any

# ASGI scope key of the init warm-up's requests (core/warmup.py): let through authentication, not
# logged, not counted. Only code in this process can put it in a scope; no HTTP request can.
INIT_WARM_UP_KEY = "haystack_lambda.init_warm_up"
# ASGI scope key set by the streaming Runtime API loop (handler/runtime_stream.py): this answer streams, up to
# 200 MB, so it is neither held by the Lambda response guard nor drained by the routes
STREAMED = "haystack_lambda.streaming"
# ASGI scope key a streamed answer sets when the stream failed half-way but the app ended the body itself (an
# SSE error event): the exception, so the loop can still end the stream with Lambda's error trailers
STREAM_FAILURE = "haystack_lambda.stream_failure"

# the pipeline the current request runs, for whoever needs it below the route (log lines, trace spans)
current_pipeline: ContextVar[str | None] = ContextVar("current_pipeline", default=None)


def is_init_warm_up(scope: MutableMapping[str, Any]) -> bool:
    return bool(scope.get(INIT_WARM_UP_KEY))


def name_pipeline(scope: MutableMapping[str, Any], name: str) -> None:
    """The request runs `name`: its log line, metrics and spans say so. Only known names: each value
    becomes a log field and a CloudWatch metric dimension."""
    scope.setdefault("state", {})["pipeline"] = name  # what `request.state.pipeline` reads and writes
    current_pipeline.set(name)


def pipeline_of(scope: MutableMapping[str, Any]) -> str | None:
    return (scope.get("state") or {}).get("pipeline")


def lambda_request_id(scope: MutableMapping[str, Any]) -> str | None:
    """The invocation's `aws_request_id` (Mangum puts Lambda's context in the scope); None off Lambda."""
    return getattr(scope.get("aws.context"), "aws_request_id", None)
