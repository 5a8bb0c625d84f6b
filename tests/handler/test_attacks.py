"""Regression tests for the outside attack of issue #20, through the Lambda handler.

Each test reproduces one attack as it was run against the function; docs/reliability.md lists them.
"""

import json
import time
from pathlib import Path

import pytest

from core.settings import CorsSettings
from infra.lambda_events import BUILDERS, Context, assert_still_serving, http_v2
from infra.lambda_events import parse as parse_reply
from tests.hostile import hostile_handler, write_pipelines

PASSWORD = "correct-horse-battery"
API_KEY = "the-api-key-0123456789abcdef"

LEAKY = {
    "leaky_setup": """
        import os


        class PipelineWrapper(BasePipelineWrapper):
            def setup(self) -> None:
                raise ConnectionError(f"redis://:{os.environ['HARDEN_DB_PASSWORD']}@cache:6379 refused login "
                                      f"{os.environ['HARDEN_DB_PASSWORD']}")

            def run_api(self) -> str:
                return "never"
    """,
    "leaky_run": """
        import os


        class PipelineWrapper(BasePipelineWrapper):
            def setup(self) -> None:
                pass

            def run_api(self, what: str) -> str:
                raise RuntimeError(f"upstream said: {os.environ[what]}; config={{'api_key': 'abcd1234efgh5678'}}")
    """,
    "echo": """
        class PipelineWrapper(BasePipelineWrapper):
            def setup(self) -> None:
                pass

            def run_api(self, text: str) -> dict:
                return {"text": text}
    """,
}


def call(handler, event):
    return parse_reply(handler(event, Context()))


@pytest.mark.parametrize("tracebacks", [False, True])
def test_secret_values_never_leave_the_function(tmp_path, monkeypatch, capsys, tracebacks):
    """Leaked before: a setup() error quoting a password was served by /status and the 503, a run error
    quoting a key by the 500; tracebacks and log lines carried both verbatim."""
    monkeypatch.setenv("HARDEN_DB_PASSWORD", PASSWORD)
    monkeypatch.setenv("HAYHOOKS_API_KEYS", API_KEY)
    monkeypatch.setenv("HAYHOOKS_LOG_FORMAT", "json")
    handler = hostile_handler(write_pipelines(tmp_path, **LEAKY), auth_public_status=True, show_tracebacks=tracebacks)
    key = {"x-api-key": API_KEY}
    answers = [
        call(handler, http_v2("GET", "/status")),
        call(handler, http_v2("GET", "/status/leaky_setup")),
        call(handler, http_v2("POST", "/leaky_setup/run", body={}, headers=key)),
        call(handler, http_v2("POST", "/leaky_run/run", body={"what": "HARDEN_DB_PASSWORD"}, headers=key)),
        call(handler, http_v2("POST", "/leaky_run/run", body={"what": "HAYHOOKS_API_KEYS"}, headers=key)),
    ]
    assert [a.status for a in answers] == [200, 503, 503, 500, 500]
    assert "***" in answers[2].json()["detail"] and "***" in answers[3].json()["detail"]
    if tracebacks:
        assert "Traceback" in json.dumps(answers[0].json()["failed"]) and "Traceback" in answers[3].text
    logged = capsys.readouterr().out
    assert "leaky_setup" in logged and "upstream said" in logged
    for text in [a.text for a in answers] + [logged]:
        assert PASSWORD not in text and API_KEY not in text and "abcd1234efgh5678" not in text
    assert_still_serving_with_key(handler)


def assert_still_serving_with_key(handler):
    reply = call(handler, http_v2("POST", "/echo/run", body={"text": "still"}, headers={"x-api-key": API_KEY}))
    assert reply.status == 200 and reply.json() == {"result": {"text": "still"}}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/completions", '{"model": "chat_sync", "messages": [' + ",".join(["1"] * 200_000) + "]}"),
        ("/echo/run", '{"text": "x", "tags": [' + ",".join(["1"] * 200_000) + "]}"),
        ("/echo/run", '{"tags": ["' + "a" * 3_000_000 + '"], "times": "x"}'),
    ],
    ids=["chat-messages", "run-list", "huge-input"],
)
def test_validation_errors_are_bounded(invoke, fixture_handler, path, body):
    """Amplified before: a 400 KB body of wrong list items answered a 21 MB 422 (over Lambda's 6 MB) after
    seconds of work; an error's input (the whole body for a missing field) was echoed whole."""
    started = time.monotonic()
    reply = invoke(http_v2("POST", path, body=body, headers={"content-type": "application/json"}))
    elapsed = time.monotonic() - started
    assert reply.status == 422
    assert len(reply.body) < 20_000 and elapsed < 1.5
    answer = reply.json()
    assert isinstance(answer["detail"], list) and 1 <= len(answer["detail"]) <= 20
    for error in answer["detail"]:  # FastAPI's shape for the errors listed
        assert {"type", "loc", "msg", "input"} <= set(error) and error["loc"][0] == "body"
    assert_still_serving(fixture_handler)


def test_a_capped_422_lists_the_first_errors_and_counts_them(invoke):
    body = {"text": "x", **{f"f{i}": 1 for i in range(5)}, "times": "many", "tags": "not-a-list"}
    few = invoke(http_v2("POST", "/echo/run", body=body)).json()
    assert few == {
        "detail": [
            {
                "type": "int_parsing",
                "loc": ["body", "times"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "many",
            },
            {
                "type": "list_type",
                "loc": ["body", "tags"],
                "msg": "Input should be a valid list",
                "input": "not-a-list",
            },
        ]
    }  # under the cap: exactly FastAPI's body


def test_a_422_over_the_cap_lists_the_first_errors_and_counts_them(tmp_path):
    fields = ", ".join(f"f{i}: int" for i in range(30))
    handler = hostile_handler(
        write_pipelines(
            tmp_path,
            many_fields=f"""
        class PipelineWrapper(BasePipelineWrapper):
            def setup(self) -> None:
                pass

            def run_api(self, {fields}) -> int:
                return 0
    """,
        )
    )
    reply = call(handler, http_v2("POST", "/many_fields/run", body={f"f{i}": "x" * 1000 for i in range(30)}))
    answer = reply.json()
    assert reply.status == 422 and answer["error_count"] == 30 and answer["errors_shown"] == 20
    assert [e["loc"] for e in answer["detail"]] == [["body", f"f{i}"] for i in range(20)]
    assert all(e["input"].endswith("... (truncated)") and len(e["input"]) < 600 for e in answer["detail"])


@pytest.fixture(scope="module")
def keyed_handler():
    import os

    os.environ["HAYHOOKS_API_KEYS"] = API_KEY
    try:
        from handler.entry import LambdaHandler
        from tests.conftest import fixture_settings

        return LambdaHandler(fixture_settings())
    finally:
        del os.environ["HAYHOOKS_API_KEYS"]


@pytest.mark.parametrize(
    "body",
    [
        b"x" * (6 * 1024 * 1024 + 1),  # over the limit: was a 413, after reading it
        b'{"text": ' + b"[" * 5000 + b"]" * 5000 + b"}",  # deep: was a 422, after scanning it
        b'{"text": NaN}',  # was a 422, after parsing it
    ],
    ids=["too-large", "too-deep", "nan"],
)
def test_authentication_comes_before_any_work_on_the_body(keyed_handler, body):
    """Before: an unauthenticated crafted body was read, counted, scanned and parsed (about 1 s of CPU for
    6 MiB) before the 401."""
    for build in BUILDERS.values():
        event = build("POST", "/echo/run", body=body.decode(), headers={"content-type": "application/json"})
        reply = call(keyed_handler, event)
        assert reply.status == 401, build


def test_the_limits_layer_never_reads_an_unauthenticated_body(registry_app_with_keys=None):
    import asyncio

    from core.app import create_app
    from core.loader import load_registry
    from tests.conftest import fixture_settings

    app = create_app(fixture_settings(), load_registry(fixture_settings()), api_keys=(API_KEY.encode(),))
    sent = []

    async def receive():
        raise AssertionError("the body was read")

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/echo/run",
        "raw_path": b"/echo/run",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"99999999")],
        "http_version": "1.1",
        "scheme": "http",
        "server": ("x", 80),
        "client": ("1.2.3.4", 1),
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 401


@pytest.mark.parametrize("declared", ["10", "0", "6291456"])
def test_the_body_limit_counts_bytes_not_the_content_length_header(invoke, declared):
    """Before: a false `content-length: 10` let a 7 MB non-JSON body through to the app."""
    body = b"y" * (7 * 1024 * 1024)
    for build in BUILDERS.values():
        headers = {"content-type": "application/octet-stream", "content-length": declared}
        reply = invoke(build("POST", "/echo/run", body=body, headers=headers))
        assert reply.status == 413 and reply.json()["detail"].startswith(f"Request body too large: {len(body)} bytes")


@pytest.mark.parametrize("number", ["1e999", "-1e999", "1E+400", "123.5e9999"])
def test_a_number_too_large_for_a_float_is_a_422(invoke, number):
    """Before: `1e999` became infinity: a 500 (the answer could not be rendered) or `inf` in a wrapper."""
    for build in BUILDERS.values():
        body = '{"text": "x", "times": ' + number + "}"
        reply = invoke(build("POST", "/echo/run", body=body, headers={"content-type": "application/json"}))
        assert reply.status == 422, (build, reply.body)
        [error] = reply.json()["detail"]
        assert error["type"] == "json_invalid" and error["ctx"]["error"] == f"{number} is too large"
    text = {"text": "1e999 in a string is text", "tags": ["2E500"]}
    assert invoke(http_v2("POST", "/echo/run", body=text)).status == 200


def _two_content_types(build, first, second, body):
    event = build("POST", "/echo/run", body=body, headers={"content-type": first})
    event.setdefault("multiValueHeaders", {})
    if "multiValueHeaders" in event and event.get("httpMethod"):
        for key in [k for k in event["headers"] if k.lower() == "content-type"]:
            del event["headers"][key]
        event["multiValueHeaders"] = {
            k: v for k, v in event["multiValueHeaders"].items() if k.lower() != "content-type"
        } | {"content-type": [first, second]}
        if "elb" in event["requestContext"]:
            event["multiValueHeaders"] |= {k: [v] for k, v in event.pop("headers").items()}
    return event


@pytest.mark.parametrize(
    ("first", "second", "body"),
    [
        ("text/plain", "application/json", '{"text": NaN}'),
        ("text/plain", "application/json", '{"text": ' + "[" * 900 + "]" * 900 + "}"),
        ("application/json", "text/plain", '{"text": NaN}'),
    ],
)
def test_two_content_type_headers_are_refused(invoke, first, second, body):
    """Before: the limits layer read the last Content-Type and FastAPI the first: NaN or 900-deep JSON got
    past the checks (a 500). ALB multi-value headers and REST multiValueHeaders both carry two."""
    for build in (BUILDERS["rest-v1"], BUILDERS["alb"]):
        reply = invoke(_two_content_types(build, first, second, body))
        assert reply.status == 400, (build, reply.status, reply.body[:200])
        assert reply.json() == {"detail": "Request has 2 Content-Type headers; send one"}


@pytest.mark.parametrize("body", ['{"text": NaN}', '{"text": ' + "[" * 900 + "]" * 900 + "}", '{"times": 1e999}'])
def test_a_json_body_without_content_type_is_never_parsed(invoke, body):
    """The checks skip a body without a content type: FastAPI (strict content type) does not parse it either."""
    reply = invoke(http_v2("POST", "/echo/run", body=body))
    assert reply.status == 422 and reply.json()["detail"]


@pytest.fixture(scope="module")
def cors_handler():
    from handler.entry import LambdaHandler
    from tests.conftest import fixture_settings

    cors = CorsSettings(allow_origins=("https://app.example",))
    return LambdaHandler(fixture_settings(cors=cors, max_request_bytes=1024))


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        ("x" * 2000, {"content-type": "application/json"}, 413),
        ('{"text": "x"}', {"content-type": "application/json", "x-big": "v" * 20_000}, 431),
        ('{"text": ' + "[" * 70 + "]" * 70 + "}", {"content-type": "application/json"}, 422),
    ],
    ids=["413", "431", "422-depth"],
)
def test_limit_answers_carry_cors_headers(cors_handler, body, headers, status):
    """Before: the limits layer answered outside CORS; a browser saw a CORS failure, not the error."""
    event = http_v2("POST", "/echo/run", body=body, headers={"origin": "https://app.example", **headers})
    reply = call(cors_handler, event)
    assert reply.status == status and reply.headers["access-control-allow-origin"] == "https://app.example"


def _with_two_keys(build, first, second):
    event = build("POST", "/echo/run", body={"text": "x"}, headers={"x-api-key": first})
    if "elb" in event["requestContext"]:
        headers = {k: [v] for k, v in event.pop("headers").items() if k != "x-api-key"}
        event["multiValueHeaders"] = headers | {"x-api-key": [first, second]}
    elif event.get("httpMethod"):
        event["headers"] = {k: v for k, v in event["headers"].items() if k.lower() != "x-api-key"}
        event["multiValueHeaders"] = {k: v for k, v in event["multiValueHeaders"].items() if k.lower() != "x-api-key"}
        event["multiValueHeaders"]["X-Api-Key"] = [first, second]
    else:  # HTTP API joins repeated headers with a comma
        event["headers"]["x-api-key"] = f"{first},{second}"
    return event


@pytest.mark.parametrize("order", ["wrong-first", "right-first"])
def test_two_api_keys_in_one_request_are_refused_on_every_event_kind(keyed_handler, order):
    """Before: two x-api-key values were a 401 on REST (joined) and a 200 on ALB (separate headers)."""
    keys = ["wrong-key-0123456789", API_KEY]
    if order == "right-first":
        keys.reverse()
    for build in BUILDERS.values():
        assert call(keyed_handler, _with_two_keys(build, *keys)).status == 401, build


def test_head_status_is_public_when_status_is(tmp_path, monkeypatch):
    """Before: `HEAD /status` was a 401 with a public status: the answer a function without keys gives (as
    Hayhooks, FastAPI's 405 naming GET) is the one a public status gives."""
    root = write_pipelines(tmp_path, echo=LEAKY["echo"])
    open_handler = hostile_handler(root)
    monkeypatch.setenv("HAYHOOKS_API_KEYS", API_KEY)
    handler = hostile_handler(root, auth_public_status=True)
    for path in ("/status", "/status/echo"):
        expected = call(open_handler, http_v2("HEAD", path))
        assert expected.status != 401 and call(handler, http_v2("HEAD", path)).status == expected.status
    assert call(handler, http_v2("HEAD", "/openapi.json")).status == 401


@pytest.mark.parametrize("host", ["evil.example", "app.example.com"])
def test_a_slash_redirect_does_not_follow_the_host_header(invoke, host):
    """Before: `GET /status/` answered 307 to `https://<Host header>/status`: a redirect anywhere."""
    for build in BUILDERS.values():
        reply = invoke(build("GET", "/status/", headers={"host": host}, query="a=1"))
        stage = "/prod" if build is BUILDERS["rest-v1"] else ""  # the REST API's stage, in the client's URL
        assert reply.status == 307 and reply.headers["location"] == f"{stage}/status?a=1", build
    staged = invoke(http_v2("GET", "/status/", stage="prod", headers={"host": "evil.example"}))
    assert staged.status == 307 and staged.headers["location"] == "/prod/status"


BIG_ANSWERS = {
    "big_text": """
        class PipelineWrapper(BasePipelineWrapper):
            def setup(self) -> None:
                pass

            def run_api(self, size: int, char: str = "a") -> str:
                return char * size
    """,
    "big_binary": """
        import os

        from fastapi.responses import Response


        class PipelineWrapper(BasePipelineWrapper):
            def setup(self) -> None:
                pass

            def run_api(self, size: int) -> Response:
                return Response(os.urandom(size), media_type="application/octet-stream")
    """,
    "odd_header": """
        from fastapi.responses import JSONResponse


        class PipelineWrapper(BasePipelineWrapper):
            def setup(self) -> None:
                pass

            def run_api(self, value: str) -> JSONResponse:
                return JSONResponse({"ok": True}, headers={"x-name": value})
    """,
    "echo": LEAKY["echo"],
}


@pytest.fixture
def big_handler(tmp_path):
    return hostile_handler(write_pipelines(tmp_path, **BIG_ANSWERS))


@pytest.mark.parametrize(
    ("pipeline", "body"),
    [
        ("big_text", {"size": 7_000_000}),
        ("big_text", {"size": 1_500_000, "char": "\u00e9"}),  # 3 MB of UTF-8, 9 MB as JSON-escaped
        ("big_binary", {"size": 5_000_000}),  # 6.7 MB base64-encoded
    ],
    ids=["text", "escaped", "binary"],
)
def test_an_answer_over_lambdas_6_mb_is_a_json_500_counted_as_an_error(tmp_path, monkeypatch, capsys, pipeline, body):
    """Before: the handler returned it as a 200; Lambda replaced it with a bare error (no JSON, no request
    id) while the logs and metrics recorded a success."""
    monkeypatch.setenv("HAYHOOKS_LOG_FORMAT", "json")  # the lines Lambda writes
    big_handler = hostile_handler(write_pipelines(tmp_path, **BIG_ANSWERS))
    context = Context()
    result = big_handler(http_v2("POST", f"/{pipeline}/run", body=body), context)
    reply = parse_reply(result)
    assert reply.status == 500 and reply.headers["x-request-id"] == context.aws_request_id
    detail = reply.json()["detail"]
    assert detail.startswith(f"Pipeline '{pipeline}' answered, but the response is ") and "6291456-byte limit" in detail
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert any(line.get("level") == "ERROR" and "Response not sent" in line["message"] for line in lines)
    assert any(line.get("Errors") == [1.0] and line.get("pipeline") == pipeline for line in lines)
    assert any(line.get("status") == 500 and line.get("path") == f"/{pipeline}/run" for line in lines)
    assert len(json.dumps(result)) < 6 * 1024 * 1024
    small = call(big_handler, http_v2("POST", "/big_text/run", body={"size": 900_000, "char": "\u00e9"}))
    assert small.status == 200 and len(small.json()["result"]) == 900_000  # 5.4 MB escaped: still fits


@pytest.mark.parametrize("builder", list(BUILDERS))
def test_a_non_utf8_response_header_is_the_pipelines_500_not_a_malformed_request(big_handler, builder):
    """Before: Mangum failed to read the header and the handler answered 400 "Malformed HTTP event"."""
    reply = call(big_handler, BUILDERS[builder]("POST", "/odd_header/run", body={"value": "caf\u00e9"}))
    assert reply.status == 500
    assert reply.json()["detail"] == (
        "Pipeline 'odd_header' answered, but the response header 'x-name' is not UTF-8 text, which Lambda cannot "
        "send: return ASCII header values (percent-encode others)"
    )
    assert call(big_handler, BUILDERS[builder]("POST", "/odd_header/run", body={"value": "plain"})).status == 200
    assert_still_serving_with(big_handler)


def assert_still_serving_with(handler):
    reply = call(handler, http_v2("POST", "/echo/run", body={"text": "still"}))
    assert reply.status == 200 and reply.json() == {"result": {"text": "still"}}


BLOCKING = {
    "blocks_async": """
        import time


        class PipelineWrapper(BasePipelineWrapper):
            def setup(self) -> None:
                pass

            async def run_api_async(self, seconds: float) -> str:
                time.sleep(seconds)  # a sync pipeline.run() inside an async wrapper: the loop is blocked
                return "done"
    """,
    "swallows": """
        import time


        class PipelineWrapper(BasePipelineWrapper):
            def setup(self) -> None:
                pass

            def run_api(self, seconds: float) -> str:
                try:
                    time.sleep(seconds)
                except:  # noqa: E722 - the point of the test
                    return "swallowed"
                return "done"
    """,
    "swallows_and_goes_on": """
        import time


        class PipelineWrapper(BasePipelineWrapper):
            def setup(self) -> None:
                pass

            def run_api(self, seconds: float) -> str:
                for _ in range(3):
                    try:
                        time.sleep(seconds)
                    except BaseException:
                        pass
                return "done"
    """,
    "swallows_async": """
        import time


        class PipelineWrapper(BasePipelineWrapper):
            def setup(self) -> None:
                pass

            async def run_api_async(self, seconds: float) -> str:
                try:
                    time.sleep(seconds)
                except:  # noqa: E722
                    return "swallowed"
                return "done"
    """,
    "echo": LEAKY["echo"],
}


@pytest.fixture(scope="module")
def blocking_handler(tmp_path_factory):
    return hostile_handler(write_pipelines(tmp_path_factory.mktemp("blocking"), **BLOCKING))


@pytest.mark.parametrize("pipeline", ["blocks_async", "swallows", "swallows_and_goes_on", "swallows_async"])
def test_the_deadline_holds_for_blocking_async_wrappers_and_bare_excepts(blocking_handler, pipeline):
    """Before: an async wrapper blocking the loop ran into Lambda's timeout (and the next request paid a cold
    start); a bare `except:` in a sync wrapper swallowed the deadline and answered 200."""
    started = time.monotonic()
    reply = call_with(blocking_handler, http_v2("POST", f"/{pipeline}/run", body={"seconds": 4}), remaining_ms=1500)
    elapsed = time.monotonic() - started
    assert reply.status == 504, reply.body
    assert reply.json()["detail"].startswith(f"Pipeline '{pipeline}' did not finish within the time")
    assert elapsed < 2.5
    fast = call_with(blocking_handler, http_v2("POST", f"/{pipeline}/run", body={"seconds": 0.01}), remaining_ms=1500)
    assert fast.status == 200 and fast.json() == {"result": "done"}
    assert_still_serving_with(blocking_handler)


def call_with(handler, event, remaining_ms):
    return parse_reply(handler(event, Context(remaining_ms=remaining_ms)))


def test_a_wrapper_changing_directory_does_not_break_pending_pipelines(tmp_path, monkeypatch):
    """Before: with the lazy strategy and a relative HAYHOOKS_PIPELINES_DIR, one wrapper's os.chdir() made
    every pipeline not loaded yet fail to load, for good."""
    write_pipelines(
        tmp_path / "pipes",
        wanders=f"""
            import os


            class PipelineWrapper(BasePipelineWrapper):
                def setup(self) -> None:
                    pass

                def run_api(self) -> str:
                    os.chdir({str(tmp_path / "elsewhere")!r})
                    return "moved"
        """,
        echo=LEAKY["echo"],
    )
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path)
    handler = hostile_handler(Path("pipes"), startup_deploy_strategy="lazy")
    assert call(handler, http_v2("POST", "/wanders/run", body={})).json() == {"result": "moved"}
    assert_still_serving_with(handler)


PRINTERS = {
    "prints": """
        class PipelineWrapper(BasePipelineWrapper):
            def setup(self) -> None:
                pass

            def run_api(self, text: str) -> str:
                print(text, end="")  # no newline: the next line written must not be glued to it
                return "printed"
    """,
    "echo": LEAKY["echo"],
}
FORGED = '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"HaystackLambda","Dimensions":[["pipeline"]],'
FORGED += '"Metrics":[{"Name":"Errors","Unit":"Count"}]}]},"pipeline":"echo","Errors":[99]}'


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_wrapper_output_cannot_merge_into_or_forge_our_lines(tmp_path, monkeypatch, capsys, log_format):
    """Before: an unterminated print was glued onto the next access-log or EMF line (the metric was lost);
    a printed `{"_aws": ...}` line forged a metric; with text logs a CR/LF in a path wrote a standalone EMF
    line."""
    monkeypatch.setenv("HAYHOOKS_LOG_FORMAT", log_format)
    handler = hostile_handler(write_pipelines(tmp_path, **PRINTERS))
    capsys.readouterr()
    for text in ("partial output", FORGED, "x\n" + FORGED):
        assert call(handler, http_v2("POST", "/prints/run", body={"text": text})).status == 200
    assert call(handler, http_v2("GET", "/nope\r\n" + FORGED.replace(" ", ""))).status == 404
    lines = capsys.readouterr().out.splitlines()
    assert not [line for line in lines if line.lstrip().startswith("{") and "_aws" in line and line[0] != "{"]
    emf = [json.loads(line) for line in lines if line.startswith('{"_aws"')]
    assert [m["pipeline"] for m in emf] == ["prints"] * 3  # ours, each whole; none forged
    assert all(m["Errors"] == [0.0] for m in emf)
    assert any(line.endswith("partial output") or line == "partial output" for line in lines)
    if log_format == "json":
        access = [json.loads(line) for line in lines if line.startswith('{"level"')]
        assert [a["status"] for a in access if a["message"].startswith(("POST", "GET"))] == [200, 200, 200, 404]
