"""Events by kind (handler/events.py) through the Lambda handler: HTTP events under a stage, events that are
not HTTP, and malformed HTTP events (a 400 naming the field, and the function keeps serving)."""

import pytest

from handler.entry import LambdaHandler
from handler.events import classify, describe, malformed, stage_root_path
from infra.lambda_events import BUILDERS, Context, assert_still_serving, http_v2, parse
from tests.conftest import fixture_settings


class TestStagePrefix:
    def test_http_api_named_stage_serves_routes_and_docs(self, invoke):
        from infra.lambda_events import http_v2

        assert invoke(http_v2("GET", "/status", stage="prod")).json()["status"] == "Up!"
        docs = invoke(http_v2("GET", "/docs", stage="prod"))
        assert "/prod/openapi.json" in docs.text
        spec = invoke(http_v2("GET", "/openapi.json", stage="prod")).json()
        assert spec["servers"] == [{"url": "/prod"}]

    def test_rest_api_stage_serves_routes_and_docs(self, invoke):
        from infra.lambda_events import rest_v1

        assert invoke(rest_v1("POST", "/echo/run", body={"text": "x"}, stage="v1")).json()["result"]["text"] == "x"
        assert "/v1/openapi.json" in invoke(rest_v1("GET", "/docs", stage="v1")).text

    def test_custom_domain_base_path_with_root_path_setting(self):
        from infra.lambda_events import http_v2

        handler = LambdaHandler(fixture_settings(root_path="/api"))
        # HTTP API custom domain with API mapping key "api": the mapping key stays in the path
        event = http_v2("GET", "/api/status", domain="ml.example.com")
        assert parse(handler(event, Context())).json()["status"] == "Up!"
        assert (
            "/api/openapi.json" in parse(handler(http_v2("GET", "/api/docs", domain="ml.example.com"), Context())).text
        )


class TestNonHttpEvents:
    def test_scheduled_warmup_ping(self, fixture_handler):
        from infra.lambda_events import template

        calls = fixture_handler.registry.get("echo").wrapper.calls
        result = fixture_handler(template("scheduled-event"), Context())
        assert result["warm"] is True and result["pipelines"] == len(fixture_handler.registry.loaded)
        assert fixture_handler.registry.get("echo").wrapper.calls == calls

    @pytest.mark.parametrize("event", [{"Records": [{"eventSource": "aws:sqs"}]}, {}, [], "ping", None])
    def test_unrecognised_event_is_answered_and_logged(self, fixture_handler, event, caplog):
        result = fixture_handler(event, Context())
        assert result == {
            "error": "Unsupported event: this function answers API Gateway, Function URL and ALB HTTP events"
        }
        assert "Unsupported event" in caplog.text
        assert_still_serving(fixture_handler)

    def test_malformed_http_event_is_a_json_400(self, fixture_handler):
        event = {"version": "2.0", "requestContext": {"http": {"method": "GET"}}}
        context = Context()
        reply = parse(fixture_handler(event, context))
        assert reply.status == 400
        assert reply.headers["x-request-id"] == context.aws_request_id
        assert reply.json() == {"detail": "Malformed HTTP event: 'requestContext.http.path' is missing"}
        assert_still_serving(fixture_handler)


def _without(builder, *path, **replace):
    def build(*args, **kwargs):
        event = builder(*args, **kwargs)
        target = event
        for key in path[:-1]:
            target = target[key]
        if path:
            target.pop(path[-1])
        event.update(replace)
        return event

    return build


@pytest.mark.parametrize(
    ("build", "problem"),
    [
        (_without(http_v2, "requestContext", "http", "method"), "'requestContext.http.method' is missing"),
        (_without(http_v2, "requestContext", "http", "sourceIp"), "'requestContext.http.sourceIp' is missing"),
        (_without(http_v2, "version"), "'version' is missing"),
        (_without(http_v2, headers=None), "'headers' must be an object, got null"),
        (_without(http_v2, headers={"x-n": 5}), "header 'x-n' in 'headers' must be a string"),
        (_without(http_v2, rawQueryString=None), "'rawQueryString' must be a string, got null"),
        (_without(http_v2, cookies="a=b"), "'cookies' must be an array, got a string"),
        (_without(http_v2, body=5), "'body' must be a string, got a number"),
        (_without(BUILDERS["rest-v1"], "path"), "'path' is missing"),
        (_without(BUILDERS["rest-v1"], "httpMethod"), "'httpMethod' is missing"),
        (
            _without(BUILDERS["rest-v1"], multiValueHeaders={"x-a": "b"}),
            "header 'x-a' in 'multiValueHeaders' must be an array of strings",
        ),
        (_without(BUILDERS["alb"], "headers"), "'headers' (or 'multiValueHeaders') is missing"),
        (_without(BUILDERS["alb"], "path"), "'path' is missing"),
    ],
)
def test_truncated_http_event_names_the_field_and_the_function_keeps_serving(fixture_handler, build, problem):
    context = Context()
    reply = parse(fixture_handler(build("POST", "/echo/run", body={"text": "x"}), context))
    assert reply.status == 400
    assert reply.json() == {"detail": f"Malformed HTTP event: {problem}"}
    assert reply.headers["x-request-id"] == context.aws_request_id
    assert_still_serving(fixture_handler)


@pytest.mark.parametrize("body", ["!!!not base64", "%%%", "YWJj=ZA=="])
def test_invalid_base64_body_is_a_400_not_an_empty_body(build, fixture_handler, body):
    event = build("POST", "/echo/run", body={"text": "x"})
    event.update(body=body, isBase64Encoded=True)
    reply = parse(fixture_handler(event, Context()))
    assert reply.status == 400
    assert reply.json() == {"detail": "Malformed HTTP event: 'body' is marked isBase64Encoded but is not valid base64"}
    assert_still_serving(fixture_handler, build)


# found by tests/handler/test_event_fuzz.py: Mangum copied these into the ASGI scope and Starlette's
# router raised on them, after the app's error handling: a 500 instead of a 400
@pytest.mark.parametrize(
    ("source", "where", "value", "detail"),
    [
        ("alb", ("httpMethod",), [], "'httpMethod' must be a string, got an array"),
        ("rest-v1", ("httpMethod",), 7, "'httpMethod' must be a string, got a number"),
        ("alb", ("httpMethod",), "", "'httpMethod' must not be empty"),
        (
            "http-v2",
            ("requestContext", "http", "method"),
            None,
            "'requestContext.http.method' must be a string, got null",
        ),
        ("http-v2", ("requestContext", "http", "path"), 5, "'requestContext.http.path' must be a string, got a number"),
        ("function-url", ("rawPath",), ["/echo/run"], "'rawPath' must be a string, got an array"),
    ],
)
def test_http_event_with_a_method_or_path_of_the_wrong_type_is_a_400(fixture_handler, source, where, value, detail):
    event = BUILDERS[source]("POST", "/echo/run", body={"text": "x"})
    *parents, key = where
    holder = event
    for parent in parents:
        holder = holder[parent]
    holder[key] = value
    reply = parse(fixture_handler(event, Context()))
    assert reply.status == 400
    assert reply.json()["detail"] == f"Malformed HTTP event: {detail}"
    assert_still_serving(fixture_handler, BUILDERS[source])


def test_custom_eventbridge_event_is_answered_without_error(fixture_handler, caplog):
    event = {"version": "0", "id": "1", "detail-type": "OrderPlaced", "source": "shop.orders", "detail": {}}
    assert fixture_handler(event, Context()) == {
        "handled": False,
        "detail": "EventBridge events run no pipeline: call the HTTP API",
    }
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_stage_named_like_a_pipeline_on_a_custom_domain(invoke):
    """A custom domain carries no stage prefix in the client's URL: '/prod/run' is the pipeline 'prod'."""
    from infra.lambda_events import http_v2

    event = http_v2("POST", "/echo/run", body={"text": "x"}, domain="ml.example.com")
    event["requestContext"]["stage"] = "echo"
    assert invoke(event).json()["result"]["text"] == "x"


# The module on its own: what each event is taken for, and the stage prefix, without the handler.
@pytest.mark.parametrize(
    ("event", "kind"),
    [
        *((BUILDERS[source]("GET", "/status"), "http") for source in BUILDERS),
        ({"detail-type": "Scheduled Event", "source": "aws.events"}, "keep_warm"),
        ({"source": "aws.scheduler"}, "keep_warm"),
        ({"warmup": True}, "keep_warm"),
        ({"detail-type": "OrderPlaced", "source": "shop.orders"}, "eventbridge"),
        ({"requestContext": {"accountId": "1"}}, "unsupported"),  # an event with a context that is not HTTP
        ({"Records": []}, "unsupported"),
        ([{"requestContext": {"http": {}}}], "unsupported"),
    ],
)
def test_classify(event, kind):
    assert classify(event) == kind


def test_describe_names_keys_never_values():
    event = {"password": "hunter2", "Records": [{"body": "secret"}]}
    assert describe(event) == "object with keys [Records, password]"
    assert describe("hunter2") == "str" and describe(None) == "NoneType"


def test_a_whole_event_of_each_source_is_not_malformed():
    for build in BUILDERS.values():
        assert malformed(build("POST", "/echo/run", body={"text": "x"})) is None


def test_stage_root_path_only_on_the_execute_api_domain_and_only_when_the_path_carries_it():
    assert stage_root_path(http_v2("GET", "/prod/status", stage="prod")) == "/prod"
    assert stage_root_path(http_v2("GET", "/status")) == ""  # $default stage
    assert stage_root_path(http_v2("GET", "/status", stage="prod", domain="ml.example.com")) == ""
    assert stage_root_path(BUILDERS["rest-v1"]("GET", "/status", stage="v1")) == "/v1"
    assert stage_root_path({"requestContext": None}) == ""
