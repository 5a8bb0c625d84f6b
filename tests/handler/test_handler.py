"""The handler, end to end, for each event source: every case goes through `lambda_handler(event, context)`."""

import hashlib

import httpx
import pytest

from handler.entry import LambdaHandler
from infra.lambda_events import BUILDERS, Context, assert_still_serving, http_v2, parse
from tests.conftest import fixture_settings

SOURCES = list(BUILDERS)


@pytest.fixture(params=SOURCES)
def build(request):
    return BUILDERS[request.param]


def test_status_lists_loaded_and_failed_pipelines(build, invoke):
    reply = invoke(build("GET", "/status"))
    assert reply.status == 200
    body = reply.json()
    assert body["status"] == "Up!"
    assert {"echo", "echo_async", "relative", "openai", "yaml_echo", "duck_typed", "hayhooks_style"} <= set(
        body["pipelines"]
    )
    failed = {f["name"]: f for f in body["failed"]}
    assert set(failed) == {
        "broken_import",
        "broken_setup",
        "no_run",
        "no_return",
        "bad_component",
        "no_io",
        "not_yaml",
        "arbitrary_type",
        "leaky_setup",
    }
    assert not set(failed) & set(body["pipelines"])
    assert all("traceback" not in f for f in failed.values())


def test_status_of_one_pipeline(build, invoke):
    assert invoke(build("GET", "/status/echo")).json() == {
        "status": "Up!",
        "pipeline": "echo",
        "source": "package",
        "version": None,
        "state": "loaded",
    }
    missing = invoke(build("GET", "/status/nope"))
    assert missing.status == 404
    assert missing.json() == {"detail": "Pipeline 'nope' not found"}


def test_run_sync_wrapper(build, invoke):
    reply = invoke(build("POST", "/echo/run", body={"text": "ab", "times": 2, "tags": ["x"]}))
    assert reply.status == 200
    result = reply.json()["result"]
    assert result["text"] == "abab" and result["tags"] == ["x"]


def test_run_async_wrapper_wins_over_sync(build, invoke):
    reply = invoke(build("POST", "/echo_async/run", body={"text": "quiet"}))
    assert reply.json() == {"result": "QUIET"}


def test_validation_error_is_fastapi_422(build, invoke):
    reply = invoke(build("POST", "/echo/run", body={"times": "many"}))
    assert reply.status == 422
    errors = reply.json()["detail"]
    assert {tuple(e["loc"]) for e in errors} == {("body", "text"), ("body", "times")}


def test_invalid_json_is_422(build, invoke):
    reply = invoke(build("POST", "/echo/run", body='{"text": ', headers={"content-type": "application/json"}))
    assert reply.status == 422
    assert reply.json()["detail"][0]["type"] == "json_invalid"


def test_pipeline_exception_is_500_without_traceback(build, invoke):
    reply = invoke(build("POST", "/failing/run", body={"divisor": 0}))
    assert reply.status == 500
    assert reply.json() == {"detail": "Pipeline execution failed: division by zero"}


def test_pipeline_exception_carries_traceback_when_enabled(build, invoke, traceback_handler):
    reply = invoke(build("POST", "/failing/run", body={"divisor": 0}), handler=traceback_handler)
    assert reply.status == 500
    detail = reply.json()["detail"]
    assert detail.startswith("Pipeline execution failed: division by zero\nTraceback (most recent call last):")
    assert "ZeroDivisionError" in detail


def test_http_exception_passes_through(build, invoke):
    reply = invoke(build("POST", "/http_error/run", body={"item_id": "42"}))
    assert reply.status == 404
    assert reply.json() == {"detail": "Item '42' does not exist"}


def test_generator_result_is_text_plain(build, invoke):
    reply = invoke(build("POST", "/streamer/run", body={"words": ["a", "b"]}))
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/plain")
    assert reply.text == 'a b chunk(thinking){"done": true}'


def test_generator_failing_half_way_is_a_json_500_on_lambda(build, invoke, fixture_handler):
    context = Context()
    reply = invoke(build("POST", "/stream_fails/run", body={}), context=context)
    assert reply.status == 500
    assert reply.json() == {"detail": "Pipeline execution failed: the model connection dropped"}
    assert reply.headers["x-request-id"] == context.aws_request_id
    assert_still_serving(fixture_handler, build)


def test_sys_exit_in_a_wrapper_is_a_json_500_and_the_environment_lives_on(build, invoke, fixture_handler):
    reply = invoke(build("POST", "/exits/run", body={"code": "quota"}))
    assert reply.status == 500
    assert reply.json() == {"detail": "Pipeline execution failed: giving up: quota"}
    assert_still_serving(fixture_handler, build)


def test_iterator_result_is_json_not_a_stream(build, invoke):
    assert invoke(build("POST", "/iterator_result/run", body={"words": ["a", "b"]})).json() == {"result": ["a", "b"]}


def test_multipart_upload_with_binary_file_and_form_fields(build, invoke):
    payload = bytes(range(256)) * 40  # not valid UTF-8: must survive base64 both ways
    request = httpx.Request(
        "POST",
        "http://x/upload/run",
        data={"label": "scan", "count": "3"},
        files=[
            ("files", ("scan.bin", payload, "application/octet-stream")),
            ("files", ("notes.txt", b"hello", "text/plain")),
        ],
    )
    body = request.read()
    reply = invoke(
        build("POST", "/upload/run", body=body, headers={"content-type": request.headers["content-type"]}, binary=True)
    )
    assert reply.status == 200, reply.body
    result = reply.json()["result"]
    assert result["label"] == "scan" and result["count"] == 3
    assert result["files"] == [
        {
            "name": "scan.bin",
            "size": len(payload),
            "sha256": hashlib.sha256(payload).hexdigest(),
            "content_type": "application/octet-stream",
        },
        {"name": "notes.txt", "size": 5, "sha256": hashlib.sha256(b"hello").hexdigest(), "content_type": "text/plain"},
    ]


def test_multipart_form_field_validation(build, invoke):
    request = httpx.Request("POST", "http://x/upload/run", data={"count": "lots"}, files=[("files", ("a", b"1"))])
    reply = invoke(
        build(
            "POST",
            "/upload/run",
            body=request.read(),
            headers={"content-type": request.headers["content-type"]},
            binary=True,
        )
    )
    assert reply.status == 422
    assert reply.json()["detail"][0]["loc"] == ["body", "count"]


def test_binary_response_is_base64_and_byte_identical(build, invoke):
    reply = invoke(build("POST", "/binary/run", body={"size": 1000}))
    assert reply.status == 200
    assert reply.raw["isBase64Encoded"] is True
    assert reply.body == bytes(i % 256 for i in range(1000))
    assert reply.headers["content-type"] == "application/octet-stream"
    assert reply.headers["x-size"] == "1000"


def test_yaml_pipeline(build, invoke):
    reply = invoke(build("POST", "/yaml_echo/run", body={"a": "1", "b": "2"}))
    assert reply.status == 200
    assert reply.json() == {"result": {"builder": {"prompt": "1+2"}}}


def test_relative_imports_package_init_and_file_in_place(build, invoke):
    reply = invoke(build("POST", "/relative/run", body={"text": "hi"}))
    result = reply.json()["result"]
    assert result["shout"] == "HI!"
    assert result["data"] == "data next to the wrapper"
    assert result["mark"] == "from __init__" and result["init_ran"] is True
    assert result["file"].endswith("tests/fixtures/pipelines/relative/pipeline_wrapper.py")


def test_folder_named_like_a_package_does_not_shadow_it(build, invoke):
    result = invoke(build("POST", "/openai/run", body={})).json()["result"]
    assert "site-packages" in result["sdk_file"]
    assert result["client_class"] == "OpenAI"


def test_failed_pipeline_run_says_why(build, invoke):
    reply = invoke(build("POST", "/broken_setup/run", body={}))
    assert reply.status == 503
    assert reply.json() == {
        "detail": "Pipeline 'broken_setup' failed to load: PipelineWrapper.setup() raised "
        "RuntimeError: index file missing: index.bin (at pipeline_wrapper.py, line 6)"
    }


BROKEN = {
    "broken_import": "importing broken_import/pipeline_wrapper.py raised ModuleNotFoundError: No module named "
    "'a_module_that_does_not_exist' (at pipeline_wrapper.py, line 3)",
    "broken_setup": "PipelineWrapper.setup() raised RuntimeError: index file missing: index.bin "
    "(at pipeline_wrapper.py, line 6)",
    "no_return": "no_return/pipeline_wrapper.py: Pipeline wrapper is missing a return type for 'run_api' method",
    "bad_component": "bad_component.yml: Failed to load pipeline from YAML: component 'thing' (type "
    "not_allowed_module.Thing): Refusing to deserialize a class from module 'not_allowed_module': the module is not "
    "on the trusted-module allowlist. To trust it, add 'not_allowed_module' to HAYSTACK_DESERIALIZATION_ALLOWLIST "
    "in the function's environment (comma-separated module names or patterns, e.g. "
    "'not_allowed_module,other_module.*').",
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_each_broken_pipeline_answers_503_with_its_reason_and_the_rest_serve(build, invoke, fixture_handler, name):
    detail = {"detail": f"Pipeline '{name}' failed to load: {BROKEN[name]}"}
    run = invoke(build("POST", f"/{name}/run", body={}))
    assert (run.status, run.json()) == (503, detail)
    status = invoke(build("GET", f"/status/{name}"))
    assert (status.status, status.json()) == (503, detail)
    listed = {f["name"]: f["reason"] for f in invoke(build("GET", "/status")).json()["failed"]}
    assert listed[name] == BROKEN[name]
    assert_still_serving(fixture_handler, build)


@pytest.mark.parametrize("path", ["/deploy_files", "/deploy-yaml", "/undeploy/echo"])
def test_runtime_deploy_is_refused(build, invoke, path):
    reply = invoke(build("POST", path, body={"name": "x", "files": {}}))
    assert reply.status == 405
    assert "Runtime deploy is disabled" in reply.json()["detail"]
    status = invoke(build("GET", "/status")).json()
    assert "echo" in status["pipelines"]


def test_unknown_route_is_json_404(build, invoke):
    reply = invoke(build("POST", "/nope/run", body={}))
    assert reply.status == 404
    assert reply.json() == {"detail": "Not Found"}


def test_every_response_carries_the_lambda_request_id(build, invoke):
    context = Context()
    for event in (
        build("GET", "/status"),
        build("POST", "/failing/run", body={"divisor": 0}),
        build("POST", "/echo/run", body={}),
    ):
        assert invoke(event, context=context).headers["x-request-id"] == context.aws_request_id


def test_openapi_and_docs(build, invoke):
    spec = invoke(build("GET", "/openapi.json")).json()
    assert "/echo/run" in spec["paths"]
    schema = spec["components"]["schemas"]["echoRunRequest"]
    assert schema["required"] == ["text"]
    assert schema["properties"]["times"]["description"] == "How many times to repeat it."
    assert schema["properties"]["times"]["default"] == 1
    docs = invoke(build("GET", "/docs"))
    assert docs.status == 200 and "swagger-ui" in docs.text


def test_error_answers_are_in_the_openapi_document(invoke):
    # found by tests/core/test_openapi_fuzz.py: these statuses were answered but not documented
    spec = invoke(http_v2("GET", "/openapi.json")).json()
    for path in ("/v1/chat/completions", "/v1/responses"):
        assert {"200", "404", "422", "501", "503", "504"} <= set(spec["paths"][path]["post"]["responses"])
        unknown = invoke(http_v2("POST", path, body={"model": "nope", "messages": [], "input": "hi"}))
        assert (unknown.status, unknown.json()) == (
            404,
            {"detail": "Pipeline 'nope' not found or not a pipeline wrapper"},
        )
    assert "400" in spec["paths"]["/upload/run"]["post"]["responses"]
    assert "400" not in spec["paths"]["/echo/run"]["post"]["responses"]  # JSON bodies: 422 for anything unparsable
    broken = http_v2(
        "POST", "/upload/run", body="--b\r\n[]--b--\r\n", headers={"content-type": "multipart/form-data; boundary=b"}
    )
    reply = invoke(broken)
    assert (reply.status, reply.json()) == (400, {"detail": "Invalid multipart data."})


def test_hayhooks_and_duck_typed_wrappers(build, invoke):
    assert invoke(build("POST", "/hayhooks_style/run", body={"name": "Ann"})).json() == {
        "result": "hello Ann from a Hayhooks wrapper"
    }
    assert invoke(build("POST", "/duck_typed/run", body={"name": "Bo"})).json() == {"result": "hi Bo"}


def test_additional_python_path(build, invoke):
    assert invoke(build("POST", "/uses_python_path/run", body={"text": "x"})).json() == {"result": "x (shared)"}


def test_chat_only_wrapper_loads_without_run_route(build, invoke):
    assert "chat_only" in invoke(build("GET", "/status")).json()["pipelines"]
    assert invoke(build("POST", "/chat_only/run", body={})).status == 404


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


def test_base64_body_that_is_not_text_json_is_a_422_saying_where(build, fixture_handler):
    reply = parse(
        fixture_handler(
            build("POST", "/echo/run", body=b"\xff\xfe{", headers={"content-type": "application/json"}), Context()
        )
    )
    assert reply.status == 422  # as for any invalid JSON (core/limits.py), not FastAPI's bare 400
    (error,) = reply.json()["detail"]
    assert error["type"] == "json_invalid" and error["loc"] == ["body", 2]
    assert error["ctx"]["error"] == "the body is not valid UTF-16 text: truncated data at byte 2"  # a UTF-16 BOM
    assert_still_serving(fixture_handler, build)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_json_endpoint_with_another_content_type_is_422(build, fixture_handler, content_type):
    event = build("POST", "/echo/run", body='{"text": "x"}', headers={"content-type": content_type})
    reply = parse(fixture_handler(event, Context()))
    assert reply.status == 422
    (error,) = reply.json()["detail"]
    assert (error["type"], error["loc"], error["msg"]) == (
        "model_attributes_type",
        ["body"],
        "Input should be a valid dictionary or object to extract fields from",
    )
    assert_still_serving(fixture_handler, build)


def test_multipart_endpoint_refuses_json_instead_of_ignoring_it(build, fixture_handler):
    reply = parse(fixture_handler(build("POST", "/upload/run", body={"label": "scan", "count": 3}), Context()))
    assert reply.status == 415
    assert reply.json() == {
        "detail": "Pipeline 'upload' takes multipart/form-data: the request body is application/json, "
        "so its fields would be ignored"
    }
    form = parse(
        fixture_handler(
            build(
                "POST",
                "/upload/run",
                body="label=scan&count=3",
                headers={"content-type": "application/x-www-form-urlencoded"},
            ),
            Context(),
        )
    )
    assert form.json() == {"result": {"label": "scan", "count": 3, "files": []}}
    assert_still_serving(fixture_handler, build)


@pytest.mark.parametrize(
    ("path", "status", "detail"),
    [
        ("/status/日本", 404, "Pipeline '日本' not found"),
        ("/status/a\x00b", 404, "Pipeline 'a\x00b' not found"),
        ("/status/a\r\nSet-Cookie: x=1", 404, "Pipeline 'a\r\nSet-Cookie: x=1' not found"),
        ("/status/%00%ff", 404, "Pipeline '\x00\ufffd' not found"),
        ("/échø/run", 404, "Not Found"),
    ],
)
def test_unicode_and_control_characters_in_paths(build, fixture_handler, path, status, detail):
    reply = parse(fixture_handler(build("GET" if path.startswith("/status") else "POST", path, body=None), Context()))
    assert (reply.status, reply.json()) == (status, {"detail": detail})
    assert "set-cookie" not in reply.headers
    assert_still_serving(fixture_handler, build)


@pytest.mark.parametrize(
    "headers",
    [{"x-name": "Zoë 日本"}, {"x-name": "a\r\nSet-Cookie: x=1"}, {"x-name": "a\x00b"}, {"x-näme": "a"}],
)
def test_unicode_and_control_characters_in_headers(build, fixture_handler, headers):
    reply = parse(fixture_handler(build("POST", "/echo/run", body={"text": "é\u0001"}, headers=headers), Context()))
    assert reply.status == 200
    assert reply.json()["result"]["text"] == "é\u0001"
    assert "set-cookie" not in reply.headers
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


def test_binary_body_without_content_type_is_a_422_not_a_500(build, invoke):
    # found by tests/handler/test_event_fuzz.py: FastAPI's 422 decoded the body as strict UTF-8 to show it
    # as the error's input, and failed on it (a 500)
    event = build("POST", "/echo/run", body=b"\x80\xff")
    for key in ("headers", "multiValueHeaders"):
        if isinstance(event.get(key), dict):
            event[key] = {k: v for k, v in event[key].items() if k.lower() != "content-type"}
    reply = invoke(event)
    assert reply.status == 422
    assert reply.json() == {
        "detail": [
            {
                "type": "model_attributes_type",
                "loc": ["body"],
                "msg": "Input should be a valid dictionary or object to extract fields from",
                "input": "\ufffd\ufffd",
            }
        ]
    }


def test_status_keeps_hayhooks_2_1_keys(invoke):
    from infra.lambda_events import http_v2

    body = invoke(http_v2("GET", "/status")).json()
    assert body["durable_mode"] is False
    assert body["durable"] == {"healthy": True, "deployments": {}}
    assert body["capabilities"] == {"execution_enumeration": False}
    deployments = {d["name"]: d for d in body["deployments"]}
    assert set(deployments) == set(body["pipelines"])
    assert deployments["echo"]["capabilities"] == ["run_api", "mcp_eligible"]  # /mcp lists it, as Hayhooks would
    assert deployments["echo"]["state"] == "Loaded"
    assert deployments["echo"]["description"] == "Echo the text back."
    # a multipart run endpoint is not Hayhooks' file_upload (a wrapper with run_file_upload, for /v1/files)
    assert deployments["upload"]["capabilities"] == ["run_api", "mcp_eligible"]
    assert deployments["chat_only"]["capabilities"] == ["chat_completion"]
    assert deployments["yaml_echo"]["type"] == "pipeline"
    # Hayhooks sends the durable-only keys as null (not absent) for a request-bound pipeline
    assert {k: deployments["echo"][k] for k in ("revision", "health", "store_scope")} == dict.fromkeys(
        ("revision", "health", "store_scope")
    )


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


def test_rest_api_custom_domain_base_path_with_root_path_setting():
    from infra.lambda_events import rest_v1

    handler = LambdaHandler(fixture_settings(root_path="/api"))
    event = rest_v1("POST", "/api/echo/run", body={"text": "y"}, stage="prod", domain="ml.example.com")
    assert parse(handler(event, Context())).json()["result"]["text"] == "y"
    docs = parse(handler(rest_v1("GET", "/api/docs", domain="ml.example.com"), Context()))
    assert "/api/openapi.json" in docs.text


def test_invocations_survive_asyncio_run_in_between(build, invoke):
    """asyncio.run() (a SnapStart hook, a script calling the handler) clears the thread's event loop when it
    ends; Mangum asks for that loop on every invocation, which then failed as a 400 'Malformed HTTP event'."""
    import asyncio

    event = build("POST", "/echo/run", body={"text": "hi"})
    assert invoke(event).status == 200
    asyncio.run(asyncio.sleep(0))
    reply = invoke(event)
    assert reply.status == 200, reply.body
    assert reply.json()["result"]["text"] == "hi"
