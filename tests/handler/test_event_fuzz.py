"""Hypothesis-generated Lambda events against `lambda_handler`: well-formed, mutated, truncated, not HTTP at all.

HTTP events come from the same builders as the other handler tests (infra/lambda_events.py: HTTP API 2.0, REST API
1.0, Function URL, ALB, edited from `sam local generate-event`'s templates), with generated methods, paths,
headers, query strings and bodies (unicode and control characters included), then mutated: keys removed,
values nulled or of the wrong type, bodies that claim base64 and are not, huge headers. Properties:

* the handler never raises;
* an HTTP event gets a dict with an int `statusCode` and a str `body`; any other event a dict;
* no 5xx, except from the fixture pipelines built to fail (EXPECTED_5XX: which request, which status, which
  message), and the 503 of a pipeline that failed to load, with its load failure as the detail;
* with HAYHOOKS_SHOW_TRACEBACKS unset, no body carries a traceback.

FUZZ_MAX_EXAMPLES=2000 .venv/bin/python -m pytest tests/handler/test_event_fuzz.py runs a longer fuzz.
"""

from __future__ import annotations

import base64
import json
import os
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handler.events import classify
from infra.lambda_events import BUILDERS, Context

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "500"))
FUZZ = settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)

# Fixture pipelines that answer quickly whatever they are sent. Left out: slow, slow_async and chat_slow
# (they sleep as long as asked) and png_echo (a test double that indexes files[0] without checking).
RUN_PIPELINES = [
    "echo",
    "echo_async",
    "upload",
    "binary",
    "streamer",
    "iterator_result",
    "yaml_echo",
    "relative",
    "duck_typed",
    "hayhooks_style",
    "http_error",
    "thread_name",
    # built to fail
    "failing",
    "stream_fails",
    "wrong_type",
    # failed to load: 503 with the reason
    "broken_import",
    "broken_setup",
    "no_run",
]
# Left out: chat_sync, chat_async and chat_midstream, test doubles that assume a user message is there.
CHAT_MODELS = ["chat_plain", "chat_only", "chat_raises", "echo", "broken_import", "nope", ""]
FAILED = {"broken_import", "broken_setup", "no_run", "no_return", "bad_component", "no_io", "not_yaml"}
FAILED |= {"arbitrary_type", "leaky_setup"}

# (path, model or None) -> (status, how the detail must read). Nothing else may be a 5xx.
EXPECTED_5XX: dict[tuple[str, str | None], tuple[int, re.Pattern[str]]] = {
    ("/failing/run", None): (500, re.compile(r"Pipeline execution failed: division by zero")),
    ("/stream_fails/run", None): (500, re.compile(r"Pipeline execution failed: the model connection dropped")),
    ("/wrong_type/run", None): (500, re.compile(r"Pipeline execution failed: 1 validation error for .*", re.S)),
    ("/v1/chat/completions", "chat_raises"): (
        500,
        re.compile(r"Pipeline execution failed: the model rejected the request"),
    ),
    ("/v1/chat/completions", "echo"): (501, re.compile(r"Chat endpoint not implemented for this model")),
    # Hayhooks' answer for a pipeline without run_response: none of CHAT_MODELS has one
    **{
        ("/v1/responses", m): (501, re.compile(r"Responses endpoint not implemented for this model"))
        for m in ("chat_plain", "chat_only", "chat_raises", "echo")
    },
}

TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]*\", line \d+")

# text with what breaks naive code: control characters, surrogates escaped by JSON, non-Latin-1, NUL
NASTY = st.text(st.characters(codec=None, exclude_categories=["Cs"]), max_size=40) | st.sampled_from(
    ["", "\x00", "\r\n", "%", "%ff", "../..", "é", "😀", "a\x7fb", "\u2028", "?x=1", "#", " ", "//"]
)
HEADER_NAMES = st.sampled_from(
    ["content-type", "content-length", "host", "x-api-key", "authorization", "x-request-id", "accept", "cookie"]
) | st.text(st.characters(codec="ascii"), min_size=1, max_size=20)
CONTENT_TYPES = (
    st.sampled_from(
        ["application/json", "text/plain", "multipart/form-data; boundary=b", "multipart/form-data", "application/JSON"]
    )
    | NASTY
)


def json_values(max_leaves: int = 10):
    scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | NASTY
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NASTY, inner, max_size=4),
        max_leaves=max_leaves,
    )


@st.composite
def requests(draw) -> tuple[str, str, Any, str | None]:
    """(method, path, body, model): a request to a real route or anywhere, with a body of any kind."""
    kind = draw(st.sampled_from(["run", "chat", "responses", "fixed", "anywhere"]))
    model = None
    if kind == "run":
        name = draw(st.sampled_from(RUN_PIPELINES))
        path = f"/{name}/run"
        body = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "text": NASTY,
                    "times": st.integers(-3, 3),
                    "tags": st.lists(NASTY, max_size=3) | json_values(3),
                    "divisor": st.integers(-2, 2) | NASTY,
                    "item_id": NASTY,
                    "size": st.integers(-5, 300),
                    "words": st.lists(NASTY, max_size=3),
                    "name": NASTY,
                    "label": NASTY,
                },
            )
            | json_values()
            | st.binary(max_size=64)
        )
    elif kind in ("chat", "responses"):
        path = "/v1/chat/completions" if kind == "chat" else "/v1/responses"
        model = draw(st.sampled_from(CHAT_MODELS))
        message = st.fixed_dictionaries(
            {"role": st.sampled_from(["user", "assistant", "system", "x"])},
            optional={
                "content": NASTY | st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": NASTY}), max_size=2)
            },
        )
        body = draw(
            st.fixed_dictionaries(
                {"model": st.just(model)},
                optional={
                    "messages": st.lists(message, max_size=3) | json_values(3),
                    "input": NASTY | st.lists(message, max_size=2),
                    "stream": st.booleans() | json_values(2),
                    "temperature": json_values(1),
                },
            )
            | json_values()
        )
        if not (isinstance(body, dict) and body.get("model") == model):
            model = None
    elif kind == "fixed":
        path = draw(
            st.sampled_from(["/status", "/status/echo", "/status/broken_import", "/openapi.json", "/docs"])
            | st.sampled_from(["/v1/models", "/models", "/deploy_files", "/undeploy/echo", "/status/"])
        )
        body = draw(st.none() | NASTY)
    else:
        path = draw(st.sampled_from(["", "/"]) | NASTY.map(lambda s: "/" + s))
        body = draw(st.none() | NASTY | st.binary(max_size=32))
    method = draw(st.sampled_from(["GET", "POST"]) | st.sampled_from(["PUT", "DELETE", "OPTIONS", "HEAD", "get", ""]))
    return method, path, body, model


@st.composite
def http_events(draw) -> tuple[dict, tuple[str, str | None]]:
    source = draw(st.sampled_from(sorted(BUILDERS)))
    method, path, body, model = draw(requests())
    headers = draw(st.dictionaries(HEADER_NAMES, NASTY, max_size=4))
    if isinstance(body, (dict, list)) or draw(st.booleans()):
        headers["content-type"] = draw(CONTENT_TYPES) if draw(st.booleans()) else "application/json"
    query = draw(st.sampled_from(["", "a=1", "a=1&a=2", "x=%ff", "=", "&&"]) | NASTY)
    kwargs: dict[str, Any] = {"headers": headers, "query": query, "binary": draw(st.booleans())}
    if source in ("http-v2", "rest-v1"):
        kwargs["stage"] = draw(st.sampled_from(["$default", "prod"] if source == "http-v2" else ["prod", "v1"]))
    if not isinstance(body, (str, bytes)) and (body is not None or draw(st.booleans())):
        body = json.dumps(body)
    return BUILDERS[source](method, path, body=body, **kwargs), (path, model)


def _mutations(event: dict) -> list[tuple[dict, str]]:
    """Every (container, key) pair of the event whose value a mutation can replace or remove."""
    places = [(event, key) for key in event]
    for key in ("requestContext", "headers", "multiValueHeaders", "queryStringParameters"):
        if isinstance(event.get(key), dict):
            places += [(event[key], k) for k in event[key]]
    http = event.get("requestContext", {}).get("http") if isinstance(event.get("requestContext"), dict) else None
    if isinstance(http, dict):
        places += [(http, k) for k in http]
    return places


WRONG = st.none() | st.integers() | st.booleans() | st.just([]) | st.just({}) | NASTY | st.just("x" * 70_000)


@st.composite
def mutated_http_events(draw) -> tuple[dict, tuple[str, str | None]]:
    event, intent = draw(http_events())
    for _ in range(draw(st.integers(1, 4))):
        places = _mutations(event)
        if not places:
            break
        container, key = draw(st.sampled_from(places))
        action = draw(st.sampled_from(["remove", "replace", "bad_base64", "huge_header"]))
        if action == "remove":
            container.pop(key, None)
        elif action == "replace":
            container[key] = draw(WRONG)
        elif action == "bad_base64":
            event["isBase64Encoded"] = True
            event["body"] = draw(st.sampled_from(["%%%", "abc", "=", "YQ", "not base64!", "\x00"]) | NASTY)
        elif isinstance(event.get("headers"), dict):
            event["headers"]["x-huge"] = "h" * draw(st.integers(10_000, 200_000))
    return event, intent


OTHER_EVENTS = (
    st.none()
    | st.integers()
    | st.text(max_size=20)
    | st.lists(st.integers(), max_size=3)
    | st.just({})
    | st.just({"warmup": True})
    | st.just({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}})
    | st.just({"source": "aws.s3", "detail-type": "Object Created", "detail": {"bucket": "b"}})
    | st.just({"Records": [{"eventSource": "aws:sqs", "body": "x"}]})
    | st.dictionaries(NASTY, json_values(3), max_size=5)
    | st.just({"requestContext": {}, "httpMethod": "GET"})
    | st.just({"requestContext": {"http": None}})
    | st.just({"requestContext": {"elb": {}}})
    | st.just({"requestContext": {"http": {}}, "rawPath": None})
)


def _detail(body: str) -> str:
    try:
        detail = json.loads(body).get("detail")
    except (ValueError, AttributeError):
        return body
    return detail if isinstance(detail, str) else json.dumps(detail)


def check(handler, event: Any, intent: tuple[str, str | None] | None) -> dict:
    assert not handler.settings.show_tracebacks  # HAYHOOKS_SHOW_TRACEBACKS unset: none may reach a body
    is_http = classify(event) == "http"
    result = handler(event, Context())  # must not raise
    assert isinstance(result, dict), result
    if not is_http:
        assert "statusCode" not in result or isinstance(result["statusCode"], int)
        return result
    assert isinstance(result.get("statusCode"), int), result
    assert isinstance(result.get("body"), str), result
    body = result["body"]
    if result.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    reflected = json.dumps(event, default=str)  # a pipeline echoing its input is not a traceback leak
    for frame in TRACEBACK.findall(body):
        assert frame in reflected or json.dumps(frame)[1:-1] in reflected, f"traceback in the body: {body:.2000}"
    status = result["statusCode"]
    if status >= 500:
        path, model = intent or ("", None)
        name = model
        if path.endswith("/run") or path.startswith("/status/"):
            name = path.removeprefix("/status/").removesuffix("/run").strip("/")
        detail = _detail(body)
        if status == 503 and name in FAILED:
            assert detail == handler.registry.failure_detail(name), (event, result)
            return result
        expected = EXPECTED_5XX.get((path, model if path.startswith("/v1/") else None))
        assert expected is not None, f"unexpected {status}: {body:.1000}\nevent: {json.dumps(event, default=str):.3000}"
        assert status == expected[0] and expected[1].fullmatch(detail), (status, detail)
    return result


@given(http_events())
@FUZZ
def test_well_formed_http_events(fixture_handler, generated):
    check(fixture_handler, *generated)


@given(mutated_http_events())
@FUZZ
def test_mutated_and_truncated_http_events(fixture_handler, generated):
    check(fixture_handler, *generated)


@given(OTHER_EVENTS)
@settings(max_examples=max(MAX_EXAMPLES // 3, 20), deadline=None, database=None)
def test_events_that_are_not_http(fixture_handler, event):
    check(fixture_handler, event, None)


# Shapes from the outside attack of issue #20: numbers too large for a float, two content types, bodies
# whose validation errors would amplify. Extra properties: every answer fits Lambda's 6 MB, a 422 lists at
# most 20 errors, and the only 5xx are those `check` expects.
HUGE_NUMBERS = st.sampled_from(["1e999", "-1e999", "1E+400", "2.5e308", "123.5e9999", "1e308", "-0.0e-999"])


@st.composite
def hostile_bodies(draw) -> str:
    kind = draw(st.sampled_from(["float", "many_errors", "nested_input", "huge_string"]))
    if kind == "float":
        number = draw(HUGE_NUMBERS)
        return draw(st.sampled_from(['{"text": "x", "times": %s}', '{"text": %s}', '{"text": "x", "tags": [%s]}'])) % (
            number
        )
    if kind == "many_errors":
        count = draw(st.integers(100, 60_000))
        item = draw(st.sampled_from(["1", "null", "[]", '{"a": 1}', "true"]))
        field = draw(st.sampled_from(["tags", "times", "text", "messages", "input"]))
        items = ",".join([item] * count)
        return f'{{"model": "chat_plain", "text": 1, "{field}": [{items}]}}'
    if kind == "nested_input":
        return json.dumps({"times": "x", "extra": [{"k": "v" * 100}] * draw(st.integers(10, 5_000))})
    return json.dumps({"times": "x", "tags": ["x" * draw(st.integers(1_000, 2_000_000))]})


@st.composite
def hostile_events(draw) -> tuple[dict, tuple[str, str | None]]:
    source = draw(st.sampled_from(sorted(BUILDERS)))
    path = draw(st.sampled_from(["/echo/run", "/echo_async/run", "/v1/chat/completions", "/v1/responses"]))
    body = draw(hostile_bodies())
    types = draw(
        st.sampled_from([["application/json"], ["application/json", "text/plain"], ["text/plain", "application/json"]])
    )
    event = BUILDERS[source]("POST", path, body=body, headers={"content-type": types[0]})
    if len(types) > 1:  # two content types, as each event kind carries them
        if "elb" in event["requestContext"]:
            event["multiValueHeaders"] = {k: [v] for k, v in event.pop("headers").items()} | {"content-type": types}
        elif "multiValueHeaders" in event:
            event["headers"].pop("Content-Type", None)
            event["multiValueHeaders"] = {
                k: v for k, v in event["multiValueHeaders"].items() if k.lower() != "content-type"
            } | {"Content-Type": types}
        else:
            event["headers"]["content-type"] = ",".join(types)
    return event, (path, "chat_plain" if path.startswith("/v1/") else None)


@given(hostile_events())
@settings(
    max_examples=max(MAX_EXAMPLES // 5, 30), deadline=None, suppress_health_check=list(HealthCheck), database=None
)
def test_hostile_bodies_are_answered_in_bounds(fixture_handler, generated):
    event, intent = generated
    result = check(fixture_handler, event, intent)
    assert len(json.dumps(result)) < 6 * 1024 * 1024
    if result["statusCode"] == 422:
        answer = json.loads(result["body"])
        if isinstance(answer["detail"], list):
            assert len(answer["detail"]) <= 20 and len(result["body"]) < 64_000
