"""Request limits (core/limits.py) through the Lambda handler: headers (431), JSON depth and encoding (422)."""

import pytest

from core.app_services import services_of
from infra.lambda_events import BUILDERS, Context, assert_still_serving, http_v2, parse


def test_too_many_header_bytes_is_431(invoke):
    for build in BUILDERS.values():
        reply = invoke(build("POST", "/echo/run", body={"text": "x"}, headers={"x-big": "v" * 20_000}))
        assert reply.status == 431
        assert reply.json()["detail"].startswith("Request headers too large:")


def test_deep_json_is_422_and_ordinary_json_is_not_scanned_away(invoke):
    deep = '{"text": "x", "tags": ' + "[" * 65 + "]" * 65 + "}"
    reply = invoke(http_v2("POST", "/echo/run", body=deep, headers={"content-type": "application/json"}))
    assert reply.status == 422
    assert reply.json() == {"detail": "JSON body nested deeper than 64 levels (HAYHOOKS_MAX_JSON_DEPTH)"}
    # many brackets, shallow: brackets inside strings do not nest, and 500 siblings are depth 2
    wide = {"text": "[" * 300, "tags": [str(i) for i in range(500)], "note": "{{{{" * 50}
    assert invoke(http_v2("POST", "/echo/run", body=wide)).status == 200


def test_json_depth_check_ignores_content_type_case(invoke):
    deep = '{"text": "x", "tags": ' + "[" * 200 + "]" * 200 + "}"
    reply = invoke(http_v2("POST", "/echo/run", body=deep, headers={"content-type": "Application/JSON"}))
    assert reply.status == 422 and "HAYHOOKS_MAX_JSON_DEPTH" in reply.json()["detail"]


def test_unknown_model_is_not_a_metric_dimension(invoke, fixture_handler):
    records = []
    services_of(fixture_handler.app).request_observers.append(records.append)
    try:
        invoke(http_v2("POST", "/v1/chat/completions", body={"model": "attacker-chosen", "messages": []}))
    finally:
        services_of(fixture_handler.app).request_observers.remove(records.append)
    assert records[-1].status == 404 and records[-1].pipeline is None


def test_json_body_that_is_not_utf8_is_a_422_saying_so(invoke):
    # found by tests/core/test_openapi_fuzz.py: FastAPI answered these bytes with a bare 400
    # "There was an error parsing the body", undocumented and saying nothing about what was wrong
    for build in BUILDERS.values():
        reply = invoke(
            build("POST", "/echo/run", body=b'{"text": "\xff"}', headers={"content-type": "application/json"})
        )
        assert reply.status == 422
        assert reply.json() == {
            "detail": [
                {
                    "type": "json_invalid",
                    "loc": ["body", 10],
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": "the body is not valid UTF-8 text: invalid start byte at byte 10"},
                }
            ]
        }


def test_json_body_in_utf16_is_still_accepted(invoke):
    body = '{"text": "ü"}'.encode("utf-16")
    reply = invoke(http_v2("POST", "/echo/run", body=body, headers={"content-type": "application/json"}))
    assert reply.status == 200
    assert reply.json()["result"]["text"] == "ü"


@pytest.mark.parametrize(
    ("body", "position", "name"),
    [
        ("[Infinity]", 1, "Infinity"),
        ('{"text": "NaN", "times": NaN}', 25, "NaN"),
        ('{"text": -Infinity}', 9, "-Infinity"),
    ],
)
def test_json_nan_and_infinity_are_a_422_not_a_500(invoke, body, position, name):
    # found by tests/handler/test_event_fuzz.py: Python's parser accepted them, and the 422 quoting them
    # (or a result carrying them) could not be rendered as JSON: a 500
    reply = invoke(http_v2("POST", "/echo/run", body=body, headers={"content-type": "application/json"}))
    assert reply.status == 422
    assert reply.json() == {
        "detail": [
            {
                "type": "json_invalid",
                "loc": ["body", position],
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": f"{name} is not a JSON number"},
            }
        ]
    }
    words = invoke(http_v2("POST", "/echo/run", body={"text": "NaN and Infinity"}))
    assert words.json()["result"]["text"] == "NaN and Infinity"


@pytest.mark.parametrize(
    ("body", "position", "error"),
    [
        (r'{"text": "\ud800"}', 10, r"\ud800 is the high half"),
        (r'{"text": "a\udfff"}', 11, r"\udfff is the low half"),
        (r'{"text": "\ude00\ud83d"}', 10, r"\ude00 is the low half"),  # the pair's halves swapped
        (r'{"text": "\ud83d\n"}', 10, r"\ud83d is the high half"),  # another escape after the high half
        (r'{"text": "\ud83d x\ude00"}', 10, r"\ud83d is the high half"),  # not adjacent
        (r'{"text": "\\\ud800"}', 12, r"\ud800 is the high half"),  # an escaped backslash, then the escape
    ],
)
def test_json_lone_surrogate_escapes_are_a_422_not_a_500(invoke, body, position, error):
    """Python's parser accepts `\\ud800` alone, and the answer echoing it cannot be encoded: it was a 500."""
    reply = invoke(http_v2("POST", "/echo/run", body=body, headers={"content-type": "application/json"}))
    assert reply.status == 422
    [problem] = reply.json()["detail"]
    assert (problem["type"], problem["loc"]) == ("json_invalid", ["body", position])
    assert problem["msg"] == "JSON decode error"
    assert problem["ctx"]["error"].startswith(error)


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (r'{"text": "\ud83d\ude00"}', "\U0001f600"),  # a pair: one character
        (r'{"text": "\\ud800"}', "\\ud800"),  # an escaped backslash: the text \ud800, no escape
        (r'{"text": "\u00e9\u0041"}', "\u00e9A"),
    ],
)
def test_json_escapes_that_make_characters_pass(invoke, body, text):
    reply = invoke(http_v2("POST", "/echo/run", body=body, headers={"content-type": "application/json"}))
    assert reply.status == 200
    assert reply.json()["result"]["text"] == text


def test_a_lone_surrogate_in_a_utf16_body_is_found_too(invoke):
    body = r'{"text": "\udc00"}'.encode("utf-16")
    reply = invoke(http_v2("POST", "/echo/run", body=body, headers={"content-type": "application/json"}))
    assert reply.status == 422
    assert reply.json()["detail"][0]["loc"] == ["body", 10]


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
