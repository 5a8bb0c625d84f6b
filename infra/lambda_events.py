"""Lambda events for tests, the bench and the soak, edited from the templates `sam local generate-event` writes
(infra/event_templates/).

One builder per event source (HTTP API 2.0, REST API 1.0, Function URL, ALB) and one parser for what the
handler returns, so a test reads the same whatever the source.
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

EVENTS = Path(__file__).parent / "event_templates"
_TEMPLATES: dict[str, dict] = {}


def template(name: str) -> dict:
    if name not in _TEMPLATES:
        _TEMPLATES[name] = json.loads((EVENTS / f"{name}.json").read_text())
    return copy.deepcopy(_TEMPLATES[name])


@dataclass
class Context:
    """The attributes of Lambda's context object that Mangum and the app read."""

    function_name: str = "haystack-lambda-test"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:haystack-lambda-test"
    remaining_ms: int = 30_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def _body(body: bytes | str | dict | None, headers: dict[str, str], binary: bool) -> tuple[str, bool]:
    if body is None:
        return "", False
    if isinstance(body, dict):
        headers.setdefault("content-type", "application/json")
        body = json.dumps(body)
    raw = body.encode() if isinstance(body, str) else body
    if binary or isinstance(body, bytes):
        return base64.b64encode(raw).decode(), True
    return raw.decode(), False


def http_v2(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: str = "",
    stage: str = "$default",
    binary: bool = False,
    domain: str = "id.execute-api.us-east-1.amazonaws.com",
) -> dict:
    event = template("http-api-proxy")
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    event["body"], event["isBase64Encoded"] = _body(body, headers, binary)
    full_path = path if stage == "$default" else f"/{stage}{path}"
    event["rawPath"] = full_path
    event["rawQueryString"] = query
    event["queryStringParameters"] = dict(parse_qsl(query)) or None
    event["headers"] = {"host": domain, **headers}
    event["cookies"] = []
    event["routeKey"] = "$default" if stage == "$default" else "ANY /{proxy+}"
    context = event["requestContext"]
    context.update(stage=stage, domainName=domain, requestId=str(uuid.uuid4()), routeKey=event["routeKey"])
    context["http"].update(method=method, path=full_path, sourceIp="192.0.2.1")
    return event


def function_url(method: str, path: str, **kwargs: Any) -> dict:
    """A Function URL event: payload 2.0 with the lambda-url domain, no stage, no route parameters."""
    event = http_v2(method, path, domain="abcdefgh.lambda-url.us-east-1.on.aws", **kwargs)
    for key in ("pathParameters", "stageVariables"):
        event.pop(key, None)
    event["requestContext"].pop("authentication", None)
    event["requestContext"]["authorizer"] = {"iam": {"accountId": "123456789012", "userId": "AIDAEXAMPLE"}}
    return event


def rest_v1(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: str = "",
    stage: str = "prod",
    binary: bool = False,
    domain: str = "abc123.execute-api.us-east-1.amazonaws.com",
) -> dict:
    event = template("aws-proxy")
    headers = {"host": domain, **{k.title(): v for k, v in (headers or {}).items()}}
    event["body"], event["isBase64Encoded"] = _body(body, headers, binary)
    if event["body"] == "":
        event["body"] = None
    event["httpMethod"] = method
    event["path"] = path
    event["headers"] = headers
    event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    pairs = parse_qsl(query)
    event["queryStringParameters"] = dict(pairs) or None
    event["multiValueQueryStringParameters"] = {k: [v for kk, v in pairs if kk == k] for k, _ in pairs} or None
    event["pathParameters"] = {"proxy": path.lstrip("/")}
    context = event["requestContext"]
    context.update(
        stage=stage, domainName=domain, httpMethod=method, path=f"/{stage}{path}", requestId=str(uuid.uuid4())
    )
    return event


def alb(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: str = "",
    binary: bool = False,
) -> dict:
    event = template("alb")
    headers = {
        "host": "lambda-alb-123.us-east-1.elb.amazonaws.com",
        **{k.lower(): v for k, v in (headers or {}).items()},
    }
    event["body"], event["isBase64Encoded"] = _body(body, headers, binary)
    event["httpMethod"] = method
    event["path"] = path
    event["headers"] = headers
    event["queryStringParameters"] = dict(parse_qsl(query))
    return event


BUILDERS = {"http-v2": http_v2, "rest-v1": rest_v1, "function-url": function_url, "alb": alb}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    raw: dict

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


def parse(result: dict) -> Reply:
    headers: dict[str, str] = {}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[key.lower()] = ",".join(values)
    for key, value in (result.get("headers") or {}).items():
        headers[key.lower()] = value
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    return Reply(result["statusCode"], headers, raw, result)


def assert_still_serving(handler: Any, build: Any = http_v2) -> None:
    """After a fault, the same handler (same process) still answers /status and runs a healthy pipeline."""
    status = parse(handler(build("GET", "/status"), Context()))
    assert status.status == 200 and status.json()["status"] == "Up!"
    reply = parse(handler(build("POST", "/echo/run", body={"text": "still here"}), Context()))
    assert reply.status == 200 and reply.json()["result"]["text"] == "still here"
