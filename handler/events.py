"""What kind of event a Lambda invocation carries, and the stage prefix an HTTP event was served under.

Mangum answers API Gateway HTTP API (payload 2.0), REST API (1.0), Function URL and ALB events. Anything
else reaches a Lambda too: scheduled warm-up pings, EventBridge events, test events from the console.
Those must be answered without running a pipeline and without raising, or an async invoker retries them.
"""

from __future__ import annotations

from typing import Any, Literal

EventKind = Literal["http", "warmup", "eventbridge", "unsupported"]


def classify(event: Any) -> EventKind:
    if not isinstance(event, dict):
        return "unsupported"
    context = event.get("requestContext")
    if isinstance(context, dict) and ("http" in context or "elb" in context or "httpMethod" in event):
        return "http"
    if (
        event.get("detail-type") == "Scheduled Event"
        or event.get("source") in ("aws.scheduler", "serverless-plugin-warmup")
        or event.get("warmup")
    ):
        return "warmup"
    if "detail-type" in event and "source" in event:
        return "eventbridge"
    return "unsupported"


def malformed(event: dict[str, Any]) -> str | None:
    """What in an HTTP event Mangum would hand to the app unchecked and the app cannot take, or None.

    Mangum copies the method and path into the ASGI scope as they are; a method that is not a string (a
    list, say) then fails inside Starlette's router, after the app's error handling, as a 500. Fields that
    Mangum itself cannot read (a missing key, a header that is not a string) already fail before the app.
    """
    context = event.get("requestContext")
    http = context.get("http") if isinstance(context, dict) else None
    fields = {"httpMethod": event, "path": event, "rawPath": event}
    if isinstance(http, dict):
        fields |= {"requestContext.http.method": http, "requestContext.http.path": http}
    for name, holder in fields.items():
        key = name.rsplit(".", 1)[-1]
        if key not in holder:
            continue
        value = holder[key]
        if key in ("httpMethod", "method") and not (isinstance(value, str) and value):
            return f"{name} must be a non-empty string, got {type(value).__name__}"
        if key in ("path", "rawPath") and not (value is None or isinstance(value, str)):
            return f"{name} must be a string, got {type(value).__name__}"
    return None


def describe(event: Any) -> str:
    """A short, value-free description for logs: never log an unknown event's contents."""
    if isinstance(event, dict):
        keys = ", ".join(sorted(str(k) for k in event)[:12])
        return f"object with keys [{keys}]"
    return type(event).__name__


def stage_root_path(event: dict[str, Any]) -> str:
    """The path prefix the client used that the app's routes do not include, e.g. '/prod'.

    HTTP API (2.0) on a named stage puts the stage in the path; REST API (1.0) on its execute-api
    domain strips it from `path` but the client's URL still has it. Swagger UI at /docs needs the
    prefix to find /openapi.json. Custom domains with a base path: set HAYHOOKS_ROOT_PATH instead.
    """
    context = event.get("requestContext") or {}
    stage = context.get("stage")
    if not stage or stage == "$default":
        return ""
    prefix = f"/{stage}"
    if ".execute-api." not in str(context.get("domainName", "")):
        return ""  # a custom domain: its base path, if any, is HAYHOOKS_ROOT_PATH's to say
    if "http" in context:
        path = context["http"].get("path") or event.get("rawPath") or ""
        return prefix if path == prefix or path.startswith(prefix + "/") else ""
    return prefix if "httpMethod" in event else ""
