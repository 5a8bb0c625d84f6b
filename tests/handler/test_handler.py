"""The handler, end to end, for each event source: every case goes through `lambda_handler(event, context)`."""

import hashlib

import httpx
import pytest

from tests.apigw import BUILDERS, Context, http_v2, parse

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


def test_generator_failing_half_way_is_a_json_500_on_lambda(build, invoke):
    context = Context()
    reply = invoke(build("POST", "/stream_fails/run", body={}), context=context)
    assert reply.status == 500
    assert reply.json() == {"detail": "Pipeline execution failed: the model connection dropped"}
    assert reply.headers["x-request-id"] == context.aws_request_id


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
        from tests.apigw import http_v2

        assert invoke(http_v2("GET", "/status", stage="prod")).json()["status"] == "Up!"
        docs = invoke(http_v2("GET", "/docs", stage="prod"))
        assert "/prod/openapi.json" in docs.text
        spec = invoke(http_v2("GET", "/openapi.json", stage="prod")).json()
        assert spec["servers"] == [{"url": "/prod"}]

    def test_rest_api_stage_serves_routes_and_docs(self, invoke):
        from tests.apigw import rest_v1

        assert invoke(rest_v1("POST", "/echo/run", body={"text": "x"}, stage="v1")).json()["result"]["text"] == "x"
        assert "/v1/openapi.json" in invoke(rest_v1("GET", "/docs", stage="v1")).text

    def test_custom_domain_base_path_with_root_path_setting(self):
        from handler.entry import LambdaHandler
        from tests.apigw import http_v2
        from tests.conftest import fixture_settings

        handler = LambdaHandler(fixture_settings(root_path="/api"))
        # HTTP API custom domain with API mapping key "api": the mapping key stays in the path
        event = http_v2("GET", "/api/status", domain="ml.example.com")
        assert parse(handler(event, Context())).json()["status"] == "Up!"
        assert (
            "/api/openapi.json" in parse(handler(http_v2("GET", "/api/docs", domain="ml.example.com"), Context())).text
        )


class TestNonHttpEvents:
    def test_scheduled_warmup_ping(self, fixture_handler):
        from tests.apigw import template

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

    def test_malformed_http_event_is_a_json_400(self, fixture_handler):
        event = {"version": "2.0", "requestContext": {"http": {"method": "GET"}}}
        context = Context()
        reply = parse(fixture_handler(event, context))
        assert reply.status == 400
        assert reply.headers["x-request-id"] == context.aws_request_id
        assert reply.json()["detail"].startswith("Malformed HTTP event:")

    # found by tests/handler/test_event_fuzz.py: Mangum copied these into the ASGI scope and Starlette's
    # router raised on them, after the app's error handling: a 500 instead of a 400
    @pytest.mark.parametrize(
        ("source", "where", "value", "detail"),
        [
            ("alb", ("httpMethod",), [], "httpMethod must be a non-empty string, got list"),
            ("rest-v1", ("httpMethod",), 7, "httpMethod must be a non-empty string, got int"),
            ("alb", ("httpMethod",), "", "httpMethod must be a non-empty string, got str"),
            ("http-v2", ("requestContext", "http", "method"), None, "requestContext.http.method must be a "),
            ("http-v2", ("requestContext", "http", "path"), 5, "requestContext.http.path must be a string, got int"),
            ("function-url", ("rawPath",), ["/echo/run"], "rawPath must be a string, got list"),
        ],
    )
    def test_http_event_with_a_method_or_path_of_the_wrong_type_is_a_400(
        self, fixture_handler, source, where, value, detail
    ):
        event = BUILDERS[source]("POST", "/echo/run", body={"text": "x"})
        *parents, key = where
        holder = event
        for parent in parents:
            holder = holder[parent]
        holder[key] = value
        reply = parse(fixture_handler(event, Context()))
        assert reply.status == 400
        assert reply.json()["detail"].startswith(f"Malformed HTTP event: {detail}")


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
    from tests.apigw import http_v2

    body = invoke(http_v2("GET", "/status")).json()
    assert body["durable_mode"] is False
    assert body["durable"] == {"healthy": True, "deployments": {}}
    assert body["capabilities"] == {"execution_enumeration": False}
    deployments = {d["name"]: d for d in body["deployments"]}
    assert set(deployments) == set(body["pipelines"])
    assert deployments["echo"]["capabilities"] == ["run_api"] and deployments["echo"]["state"] == "Loaded"
    assert deployments["echo"]["description"] == "Echo the text back."
    assert deployments["upload"]["capabilities"] == ["run_api", "file_upload"]
    assert deployments["chat_only"]["capabilities"] == ["chat_completion"]
    assert deployments["yaml_echo"]["type"] == "pipeline"


def test_custom_eventbridge_event_is_answered_without_error(fixture_handler, caplog):
    event = {"version": "0", "id": "1", "detail-type": "OrderPlaced", "source": "shop.orders", "detail": {}}
    assert fixture_handler(event, Context()) == {
        "handled": False,
        "detail": "EventBridge events run no pipeline: call the HTTP API",
    }
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_stage_named_like_a_pipeline_on_a_custom_domain(invoke):
    """A custom domain carries no stage prefix in the client's URL: '/prod/run' is the pipeline 'prod'."""
    from tests.apigw import http_v2

    event = http_v2("POST", "/echo/run", body={"text": "x"}, domain="ml.example.com")
    event["requestContext"]["stage"] = "echo"
    assert invoke(event).json()["result"]["text"] == "x"


def test_rest_api_custom_domain_base_path_with_root_path_setting():
    from handler.entry import LambdaHandler
    from tests.apigw import rest_v1
    from tests.conftest import fixture_settings

    handler = LambdaHandler(fixture_settings(root_path="/api"))
    event = rest_v1("POST", "/api/echo/run", body={"text": "y"}, stage="prod", domain="ml.example.com")
    assert parse(handler(event, Context())).json()["result"]["text"] == "y"
    docs = parse(handler(rest_v1("GET", "/api/docs", domain="ml.example.com"), Context()))
    assert "/api/openapi.json" in docs.text
