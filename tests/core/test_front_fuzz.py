"""core/front.py, differentially: a generated request gets the same answer from the lean front as from the eager
FastAPI app of core/app.py.

Each configuration builds two registries of the same fixture pipelines (tests/fixtures/pipelines: JSON runs of
several parameter types, a YAML pipeline, pipelines that fail to load, fail when run, stream, answer with their
own Response or HTTPException) and puts one app on each: the eager FastAPI app, and the lean front (with the
FastAPI app it builds behind it). Two registries, not one, because some wrappers keep state (`echo` counts its
calls): both apps get every request in the same order, so their states stay equal. Configurations: no keys; API
keys with CORS and tracebacks shown; the lazy strategy (pipelines `pending` until first run) with keys,
public status and credentialed CORS by origin regex.

Generated: methods, paths (/status, /status/x, /{name}/run of known, unknown, failed, pending names; trailing and
double slashes, percent-encoding, unicode, query strings; a few other routes), content types (JSON with and
without charset, `+json`, upper case, text, multipart, form, none, two), bodies (valid objects, wrong types,
extra fields, nesting past the depth limit, empty, invalid JSON, NaN, numbers past a float, non-UTF-8 bytes,
arrays, null) and headers (x-api-key right, wrong or missing, `Authorization: Bearer`, Origin and CORS
preflights, a Content-Length that disagrees with the body, Accept).

Compared: status, every header in order, body. Left out over ASGI: the `x-request-id` header, a fresh UUID
per request when there is no Lambda invocation to take it from (core/request_id.py). Through the Lambda
handler (`LambdaHandler`, Mangum, the event kinds of infra/lambda_events.py) both get the same invocation
context, so there the whole result is compared, `x-request-id` included. No generated request goes to
/v1/models: its `created` is the second it answered in, which two requests may straddle. Nothing else
answers with a date or a time.

Left out of the generated names: `slow`, `slow_async` and `chat_slow` (they sleep as asked) and `thread_name`
(it answers the name of the thread that ran it, which differs between two test clients by design).

FUZZ_MAX_EXAMPLES=3000 .venv/bin/python -m pytest tests/core/test_front_fuzz.py runs a longer fuzz.
"""

from __future__ import annotations

import copy
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mangum import Mangum

from core.app import create_app
from core.app_services import AppServices
from core.front import LeanFront
from core.loader import load_registry
from core.root_path import RootPathMiddleware
from core.settings import CorsSettings, Settings
from handler.entry import LambdaHandler, _stage_root
from infra.lambda_events import BUILDERS, Context
from tests.conftest import FIXTURE_PIPELINES, fixture_settings

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "250"))
FUZZ = settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)

KEY = "fuzz-key-0123456789abcdef"
ORIGIN = "https://app.example"

CONFIGS: dict[str, tuple[Settings, tuple[bytes, ...]]] = {
    "open": (fixture_settings(), ()),
    "keys_cors_tracebacks": (
        fixture_settings(
            show_tracebacks=True,
            cors=CorsSettings(allow_origins=(ORIGIN,), expose_headers=("x-request-id",), max_age=60),
        ),
        (KEY.encode(),),
    ),
    "lazy_keys_public_status": (
        fixture_settings(
            startup_deploy_strategy="lazy",
            auth_public_status=True,
            max_json_depth=8,
            cors=CorsSettings(
                allow_origin_regex=r"https://[a-z]+\.example",
                allow_credentials=True,
                allow_methods=("GET", "POST"),
                allow_headers=("content-type", "x-api-key", "authorization"),
            ),
        ),
        (KEY.encode(),),
    ),
    # wrappers made for this test (tests/fixtures/front_parity): parameters of many types sent back as
    # validated, and FastAPI's HTTPException raised with any status, detail and headers
    "edges": (fixture_settings(pipelines_dir=FIXTURE_PIPELINES.parent / "front_parity", additional_python_path=()), ()),
}


@dataclass
class Pair:
    eager: TestClient
    front: TestClient


@pytest.fixture(scope="module")
def pairs() -> dict[str, Pair]:
    built = {}
    for name, (config, keys) in CONFIGS.items():
        eager = create_app(config, load_registry(config), sync_inline=True, api_keys=keys)
        front = LeanFront(AppServices(config, load_registry(config), sync_inline=True, api_keys=keys))
        built[name] = Pair(
            TestClient(eager, raise_server_exceptions=False), TestClient(front, raise_server_exceptions=False)
        )
    return built


# --- what is generated ---------------------------------------------------------------------------------------

TEXT = st.text(max_size=12) | st.sampled_from(["", "héllo ✓", "\x00", "😀", "\u2028", "a\nb"])
WORDS = st.lists(TEXT, max_size=3)
SMALL = st.integers(-3, 40)
# wrong for an int a wrapper multiplies by or ranges over: never a value that makes it build gigabytes or loop
# for ever (pydantic coerces "7" and 7.0 to ints, so neither is large); `"x" * 10**30` fails at once, but
# `range(10**30)` runs until the invocation's deadline, so only `times` gets huge numbers
NOT_AN_INT = st.sampled_from(["many", "7", 1.5, 7.0, True, None, [], {}, "1e400", "١٢"])
HUGE = st.sampled_from([10**30, -(10**30), 2**63])
JSON_SCALARS = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | TEXT


def json_values(max_leaves: int = 6):
    return st.recursive(
        JSON_SCALARS,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
        max_leaves=max_leaves,
    )


# run_api's parameters of the generated pipelines, with values of their types (the wrong ones come below)
PARAMETERS: dict[str, dict[str, Any]] = {
    "echo": {"text": TEXT, "times": SMALL, "tags": WORDS | st.none()},  # str, int, list[str] | None
    "echo_async": {"text": TEXT},
    "duck_typed": {"name": TEXT},
    "hayhooks_style": {"name": TEXT},
    "relative": {"text": TEXT},
    "yaml_echo": {"a": TEXT, "b": TEXT},  # a YAML pipeline
    "http_error": {"item_id": TEXT},  # raises fastapi.HTTPException
    "failing": {"divisor": st.integers(-2, 2)},  # 500 on zero
    "exits": {"code": TEXT},  # sys.exit
    "wrong_type": {},  # returns other than it declares: 500
    "binary": {"size": st.integers(0, 300)},  # its own Response
    "iterator_result": {"words": WORDS},
    "streamer": {"words": WORDS},
    "stream_fails": {},
    "sse_stream": {"words": WORDS, "fail": st.booleans()},
    "upload": {"label": TEXT, "count": SMALL},  # multipart: always FastAPI's
    # tests/fixtures/front_parity (the "edges" configuration; elsewhere unknown names)
    "typed_echo": {
        "text": TEXT,
        "count": st.integers(-(2**70), 2**70),
        "ratio": st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**70), 2**70),
        "flag": st.booleans() | st.sampled_from(["yes", "off", 1, 0, "t"]),
        "items": st.lists(st.integers(-(2**64), 2**64) | st.sampled_from(["3", 2.0, 2.5]), max_size=3) | st.none(),
        "mapping": st.dictionaries(TEXT, json_values(3), max_size=3) | st.none(),
        "choice": st.sampled_from(["a", "b", "c", "A", None]),
        "when": st.sampled_from(["2024-02-29T12:00:00Z", "2024-01-01", "2024-13-01T00:00:00", 0, 1e10, "now", None]),
        "anything": json_values(),
    },
    "refuses": {
        "status": st.sampled_from([101, 199, 200, 204, 205, 304, 400, 401, 404, 418, 422, 500, 503, 599, 99, 600]),
        "detail": json_values(3),
        "headers": st.none()
        | st.dictionaries(
            st.sampled_from(["www-authenticate", "x-why", "retry-after", "content-type"]),
            st.sampled_from(["Bearer", "later", "é", "application/problem+json", ""]),
            max_size=2,
        ),
    },
}
WRONG = {"times", "size", "count", "divisor"}  # int parameters: their wrong values are NOT_AN_INT
FAILED = ["broken_setup", "broken_import", "no_run", "not_yaml"]  # failed to load: 503
UNKNOWN = ["nope", "run", "status", "docs", "v1", "Echo", "echo.", "ech%6F"]
EDGES = ["typed_echo", "refuses"]
KNOWN = {config: EDGES if config == "edges" else sorted(set(PARAMETERS) - set(EDGES)) for config in CONFIGS}


def names(known: list[str]):
    """Mostly pipelines that run: what the front answers itself, where a difference would be its own."""
    return st.sampled_from(["known"] * 8 + ["failed", "unknown"]).flatmap(
        lambda kind: st.sampled_from({"known": known, "failed": FAILED, "unknown": UNKNOWN}[kind])
    )


@st.composite
def run_objects(draw, name: str) -> Any:
    """A JSON object for `name`'s run: its fields valid, wrong, missing or extra."""
    params = PARAMETERS.get(name, {"text": TEXT})
    body = {}
    for param, valid in params.items():
        how = draw(st.sampled_from(["valid"] * 6 + ["missing", "wrong"]))
        if how == "valid":
            body[param] = draw(valid)
        elif how == "wrong":
            wrong = (NOT_AN_INT | HUGE if param == "times" else NOT_AN_INT) if param in WRONG else json_values(3)
            body[param] = draw(wrong)
    if draw(st.booleans()):
        extra = draw(st.dictionaries(TEXT, json_values(2), max_size=2))
        body.update({k: v for k, v in extra.items() if k not in params})  # extra fields
    return body


RAW_BODIES = st.sampled_from(
    [
        b"",
        b"null",
        b"[]",
        b"{}",
        b"0",
        b'"text"',
        b'{"text": ',  # invalid JSON
        b'{"text": "x",}',
        b'{"text": NaN, "times": Infinity}',
        b'{"text": "x", "times": 1e400}',
        b'{"text": "x", "times": 123456789012345678901234567890}',
        b'{"text": "\xff\xfe"}',  # not UTF-8
        b'\xef\xbb\xbf{"text": "BOM"}',
        b'{"text": "\\ud800"}',  # a lone surrogate, escaped
        b'{"text": "a", "text": "b"}',
        b'{"a": ' * 12 + b"1" + b"}" * 12,  # deeper than the depth limit of one configuration
        b"[" * 70 + b"]" * 70,
        b'{"name": "x"}\x00',
        b"label=x&count=1",
        b'--xyz\r\nContent-Disposition: form-data; name="label"\r\n\r\nformed\r\n--xyz--\r\n',
    ]
)

CONTENT_TYPES = st.sampled_from(
    [
        None,
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=latin-1",
        "APPLICATION/JSON",
        " application/json ",
        "application/json;",
        "application/vnd.api+json",
        "application/problem+json; charset=utf-8",
        "application/jsonx",
        "application/json, text/plain",
        "text/json",
        "text/plain",
        "text/plain; charset=utf-8",
        "multipart/form-data; boundary=xyz",
        "multipart/form-data",
        "application/x-www-form-urlencoded",
        "",
    ]
)


@st.composite
def paths(draw, known: list[str]) -> tuple[str, str | None]:
    """(path, the pipeline it names, if a run)."""
    kind = draw(st.sampled_from(["run"] * 6 + ["status", "status_of", "status_of", "odd_run", "other"]))
    name = draw(names(known))
    if kind == "run":
        return f"/{name}/run", name
    if kind == "status":
        return draw(st.sampled_from(["/status", "/status/", "//status", "/status?", "/Status", "/status/%20"])), None
    if kind == "status_of":
        shape = draw(st.sampled_from(["/status/{}", "/status/{}/", "/status//{}", "/status/{}/run", "/status/{}%2F"]))
        return shape.format(name), None
    if kind == "odd_run":
        shape = draw(
            st.sampled_from(
                ["/{}/run/", "//{}/run", "/{}//run", "/{}/run//", "/{}/RUN", "/{}/run%2F", "/%7B{}%7D/run", "{}/run"]
            )
        )
        if draw(st.booleans()):  # the name percent-encoded, or in unicode
            name = draw(st.sampled_from(["%65cho", "ech%C3%B6", "échø", "%2e%2e", "ec%2Fho", "e cho"]))
        return shape.format(name), name
    # not /v1/models: its `created` is the second it answered in, which two requests may not share
    return draw(st.sampled_from(["/", "/openapi.json", "/docs", "/run", "//run", "/undeploy/echo", "/x/y/run"])), None


@dataclass
class Generated:
    method: str
    path: str
    query: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None

    def describe(self) -> str:
        return f"{self.method} {self.path}?{self.query} {self.headers} {self.body!r:.300}"


@st.composite
def requests(draw, known: list[str] = KNOWN["open"]) -> Generated:
    path, name = draw(paths(known))
    usual = "POST" if path.endswith("/run") else "GET"
    method = draw(st.sampled_from([usual] * 4 + ["POST", "GET", "HEAD", "OPTIONS", "PUT", "DELETE"]))
    query = draw(st.sampled_from(["", "", "a=1", "a=1&a=2", "text=q", "x=%ff", "é=ü", "&&="]))
    headers: dict[str, str] = {}
    body: bytes | None = None
    if method in ("POST", "PUT", "DELETE") and draw(st.integers(0, 7)):
        kind = draw(st.sampled_from(["object"] * 6 + ["value", "raw"]))
        if kind == "raw":
            body = draw(RAW_BODIES)
        else:
            value = draw(run_objects(name or "echo")) if kind == "object" else draw(json_values())
            if draw(st.integers(0, 9)) == 0 and isinstance(value, dict):
                value[draw(TEXT)] = draw(st.sampled_from([math.nan, math.inf, -math.inf]))  # Python's JSON
            body = json.dumps(value, ensure_ascii=draw(st.booleans())).encode()
        content_type = draw(CONTENT_TYPES if draw(st.integers(0, 3)) else st.just("application/json"))
        if content_type is not None:
            headers["content-type"] = content_type
        if draw(st.integers(0, 9)) == 0:  # a length that disagrees with the body
            headers["content-length"] = draw(st.sampled_from([str(len(body) + 1), str(max(len(body) - 1, 0)), "x"]))
    auth = draw(st.sampled_from(["key"] * 3 + ["bearer"] * 2 + ["none", "wrong", "bearer_wrong", "both"]))
    if auth in ("key", "both"):
        headers["x-api-key"] = KEY
    if auth == "wrong":
        headers["x-api-key"] = KEY[:-1] + "X"
    if auth in ("bearer", "both"):
        headers["authorization"] = f"Bearer {KEY}"
    if auth == "bearer_wrong":
        headers["authorization"] = draw(st.sampled_from(["Bearer nope", f"Basic {KEY}", "Bearer", f"bearer {KEY}"]))
    origin = draw(st.sampled_from([None, None, ORIGIN, "https://other.example", "https://evil.invalid", "null"]))
    if origin is not None:
        headers["origin"] = origin
        if method == "OPTIONS" and draw(st.booleans()):  # a preflight
            headers["access-control-request-method"] = draw(st.sampled_from(["POST", "GET", "PATCH"]))
            if draw(st.booleans()):
                headers["access-control-request-headers"] = draw(
                    st.sampled_from(["content-type, x-api-key", "x-other", "Authorization"])
                )
    if draw(st.integers(0, 4)) == 0:
        headers["accept"] = draw(st.sampled_from(["text/event-stream", "application/json", "*/*", "text/html"]))
    return Generated(method, path, query, headers, body)


# --- asking both ------------------------------------------------------------------------------------------


def _answer(client: TestClient, request: Generated) -> tuple[int, list[tuple[str, str]], bytes]:
    # an absolute URL: "//echo/run" on its own would be read as a host
    url = f"http://testserver{request.path}" + (f"?{request.query}" if request.query else "")
    reply = client.request(request.method, url, content=request.body, headers=request.headers, follow_redirects=False)
    headers = [(k, v) for k, v in reply.headers.multi_items() if k != "x-request-id"]
    return reply.status_code, headers, reply.content


def _same_answer(pair: Pair, request: Generated) -> None:
    expected = _answer(pair.eager, request)
    answered = _answer(pair.front, request)
    assert answered == expected, request.describe()


@pytest.mark.parametrize("config", sorted(CONFIGS))
@given(data=st.data())
@FUZZ
def test_the_front_answers_every_request_as_the_eager_app(pairs, config, data):
    _same_answer(pairs[config], data.draw(requests(KNOWN[config]), label="request"))


# Requests a reviewer asked about, each answered the same by both (a fuzz may not draw them every run):
# (configuration, method, path, headers, body)
JSON = {"content-type": "application/json"}
KEYED = {**JSON, "x-api-key": KEY}
CASES = [
    ("open", "POST", "/failing/run", JSON, b'{"divisor": 100000}'),  # 1e-05: FastAPI writes floats as pydantic does
    ("open", "POST", "/echo/run", JSON, b'{"text": "\\ud800"}'),  # a lone surrogate: a 500 either way
    ("keys_cors_tracebacks", "POST", "/echo/run", KEYED, b'{"text": "\\ud800"}'),
    ("open", "POST", "/echo/run", JSON, b'{"text": "\\ud800\\udc00", "times": "2"}'),  # a pair; "2" coerced
    ("open", "POST", "/echo/run", JSON, b'{"text": "x", "times": 1e400}'),  # past a float: the limits' 422
    ("open", "POST", "/echo/run", JSON, b'{"text": NaN}'),
    ("open", "POST", "/echo/run", JSON, b'\xef\xbb\xbf{"text": "BOM"}'),
    ("open", "POST", "/echo/run", {"content-type": "application/json; charset=latin-1"}, b'{"text": "\xe9"}'),
    ("open", "POST", "/echo/run", {"content-type": "application/json", "content-length": "3"}, b'{"text": "x"}'),
    ("open", "POST", "/exits/run", JSON, b'{"code": "7"}'),
    ("keys_cors_tracebacks", "POST", "/failing/run", {**KEYED, "origin": ORIGIN}, b'{"divisor": 0}'),
    ("keys_cors_tracebacks", "OPTIONS", "/echo/run", {"origin": ORIGIN, "access-control-request-method": "POST"}, None),
    ("lazy_keys_public_status", "GET", "/status/echo", {}, None),  # pending: public, never loads it
    ("lazy_keys_public_status", "POST", "/duck_typed/run", KEYED, b'{"name": "first"}'),  # loads it
    ("lazy_keys_public_status", "POST", "/duck_typed/run", KEYED, b'{"name": "then lean"}'),
    ("edges", "POST", "/refuses/run", JSON, b'{"status": 204, "headers": {"x-why": "no body"}}'),
    ("edges", "POST", "/refuses/run", JSON, b'{"status": 418, "detail": {"nested": [1, null]}}'),
    ("edges", "POST", "/refuses/run", JSON, b'{"status": 600}'),  # not a status: the wrapper fails, 500
    ("edges", "POST", "/typed_echo/run", JSON, b'{"text": "x", "ratio": 1e10, "when": "2024-02-29T12:00:00Z"}'),
]


@pytest.mark.parametrize(("config", "method", "path", "headers", "body"), CASES)
def test_cases_a_reviewer_asked_about(pairs, config, method, path, headers, body):
    _same_answer(pairs[config], Generated(method, path, "", dict(headers), body))


# --- through the Lambda handler -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def handlers(monkeypatch_module) -> tuple[LambdaHandler, LambdaHandler]:
    """(eager, front): two cold starts of the handler with API keys; the first answers with the eager app."""
    monkeypatch_module.setenv("HAYHOOKS_API_KEYS", KEY)
    config = fixture_settings(cors=CorsSettings(allow_origins=(ORIGIN,)))
    front = LambdaHandler(config)
    assert isinstance(front.app, LeanFront)
    eager = LambdaHandler(config)
    app = create_app(config, eager.registry, sync_inline=True, api_keys=(KEY.encode(),))
    eager.asgi = RootPathMiddleware(app, config.root_path, _stage_root)
    eager.adapter = Mangum(eager.asgi, lifespan="off")
    return eager, front


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@given(generated=requests(), source=st.sampled_from(sorted(BUILDERS)), binary=st.booleans())
@settings(
    max_examples=max(MAX_EXAMPLES // 2, 30), deadline=None, suppress_health_check=list(HealthCheck), database=None
)
def test_the_lambda_handler_answers_as_with_the_eager_app(handlers, generated, source, binary):
    eager, front = handlers
    event = BUILDERS[source](
        generated.method,
        generated.path,
        body=generated.body,
        headers=dict(generated.headers),
        query=generated.query,
        binary=binary,
    )
    context = Context()  # one invocation id for both: their x-request-id is the same
    expected = eager(copy.deepcopy(event), context)
    assert front(copy.deepcopy(event), context) == expected, (source, generated.describe())
