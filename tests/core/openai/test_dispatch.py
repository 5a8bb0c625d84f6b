"""The OpenAI endpoints' shared route plumbing (core/openai/dispatch.py): documented answers, unknown models."""

from infra.lambda_events import http_v2


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
