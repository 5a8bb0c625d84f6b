"""What kind of event a Lambda invocation carries, and the stage prefix an HTTP event was served under.

Mangum answers API Gateway HTTP API (payload 2.0), REST API (1.0), Function URL and ALB events. Anything
else reaches a Lambda too: scheduled keep-warm pings, EventBridge events, test events from the console.
Those must be answered without running a pipeline and without raising, or an async invoker retries them.
"""

from __future__ import annotations

import binascii
from typing import Any, Literal

# "keep_warm": a scheduled ping that only keeps an environment warm (`{"warmup": true}` is the payload
# serverless-plugin-warmup sends); not the init warm-up (core/warmup.py)
EventKind = Literal["http", "keep_warm", "eventbridge", "unsupported"]


def classify(event: Any) -> EventKind:
    if not isinstance(event, dict):
        return "unsupported"
    context = event.get("requestContext")
    if isinstance(context, dict) and (
        "http" in context or "elb" in context or "httpMethod" in event or "httpMethod" in context
    ):
        return "http"
    if (
        event.get("detail-type") == "Scheduled Event"
        or event.get("source") in ("aws.scheduler", "serverless-plugin-warmup")
        or event.get("warmup")
    ):
        return "keep_warm"
    if "detail-type" in event and "source" in event:
        return "eventbridge"
    return "unsupported"


_JSON_TYPES = {str: "a string", dict: "an object", list: "an array", bool: "a boolean", type(None): "null"}


def _json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__)


def _field(event: dict[str, Any], path: str) -> tuple[bool, Any]:
    value: Any = event
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def malformed(event: dict[str, Any]) -> str | None:
    """What an HTTP event lacks for Mangum to build a request, in the event's own field names; None if whole.

    API Gateway, Function URLs and ALB always send these fields; a truncated event comes from a test
    invoke, a hand-written event or a proxy in between, and deserves an answer that names the field rather
    than Python's KeyError.
    """
    context = event["requestContext"]
    nullable = {"body", "isBase64Encoded"}
    if "http" in context:  # payload 2.0: HTTP API, Function URL
        required = ("version", "requestContext.http.method", "requestContext.http.path", "requestContext.http.sourceIp")
        optional = {"headers": dict, "rawQueryString": str, "cookies": list}
    else:  # REST API payload 1.0, ALB
        required = ("httpMethod", "path")
        optional = {"headers": dict, "multiValueHeaders": dict, "queryStringParameters": dict}
        optional["multiValueQueryStringParameters"] = dict
        nullable |= set(optional)
        if "elb" in context and not isinstance(event.get("headers") or event.get("multiValueHeaders"), dict):
            return "'headers' (or 'multiValueHeaders') is missing"
    if not isinstance(context.get("http", {}), dict):
        return f"'requestContext.http' must be an object, got {_json_type(context['http'])}"
    for path in required:
        found, value = _field(event, path)
        if not found:
            return f"'{path}' is missing"
        if not isinstance(value, str):
            return f"'{path}' must be a string, got {_json_type(value)}"
        if not value and path.endswith(("method", "httpMethod")):
            return f"'{path}' must not be empty"
    if "http" in context and "rawPath" in event and not isinstance(event["rawPath"], str | None):
        return f"'rawPath' must be a string, got {_json_type(event['rawPath'])}"  # Mangum prefers it to http.path
    for name, kind in {**optional, "body": str, "isBase64Encoded": bool}.items():
        value = event.get(name)
        if name in event and not isinstance(value, kind) and not (value is None and name in nullable):
            return f"'{name}' must be {_JSON_TYPES[kind]}, got {_json_type(value)}"
    for name in ("headers", "multiValueHeaders"):
        for key, value in (event.get(name) or {}).items():
            multi = name == "multiValueHeaders"
            values = value if multi and isinstance(value, list) else [value]
            if (multi and not isinstance(value, list)) or not all(isinstance(v, str) for v in values):
                return f"header {key!r} in '{name}' must be {'an array of strings' if name[0] == 'm' else 'a string'}"
    if event.get("isBase64Encoded") and event.get("body"):
        try:
            binascii.a2b_base64(event["body"], strict_mode=True)
        except (binascii.Error, ValueError):
            return "'body' is marked isBase64Encoded but is not valid base64"
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
