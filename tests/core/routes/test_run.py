"""`POST /{name}/run` (core/routes/run.py) through the Lambda handler, per event source: calling the wrapper,
validating the body (JSON or a form), and answering a failure as Hayhooks does."""

import hashlib

import httpx
import pytest

from infra.lambda_events import Context, assert_still_serving, parse


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


def test_sys_exit_in_a_wrapper_is_a_json_500_and_the_environment_lives_on(build, invoke, fixture_handler):
    reply = invoke(build("POST", "/exits/run", body={"code": "quota"}))
    assert reply.status == 500
    assert reply.json() == {"detail": "Pipeline execution failed: giving up: quota"}
    assert_still_serving(fixture_handler, build)


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


def test_failed_pipeline_run_says_why(build, invoke):
    reply = invoke(build("POST", "/broken_setup/run", body={}))
    assert reply.status == 503
    assert reply.json() == {
        "detail": "Pipeline 'broken_setup' failed to load: PipelineWrapper.setup() raised "
        "RuntimeError: index file missing: index.bin (at pipeline_wrapper.py, line 6)"
    }


def test_unknown_route_is_json_404(build, invoke):
    reply = invoke(build("POST", "/nope/run", body={}))
    assert reply.status == 404
    assert reply.json() == {"detail": "Not Found"}


def test_chat_only_wrapper_loads_without_run_route(build, invoke):
    assert "chat_only" in invoke(build("GET", "/status")).json()["pipelines"]
    assert invoke(build("POST", "/chat_only/run", body={})).status == 404


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
