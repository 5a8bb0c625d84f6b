"""The OpenAI endpoints' shared route plumbing (core/openai/dispatch.py): documented answers, unknown models."""

import pytest
from fastapi import HTTPException
from haystack.dataclasses import StreamingChunk

from core.invocation import (
    DeadlineExpired,
    NotImplementedByPipeline,
    PipelineFailed,
    PipelineNotFound,
    PipelineUnavailable,
    WrapperRefused,
)
from core.openai.dispatch import http_errors, whole_text
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


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (PipelineNotFound("Pipeline 'x' not found"), 404),
        (NotImplementedByPipeline("Chat endpoint not implemented for this model"), 501),
        (PipelineUnavailable("Pipeline 'x' failed to load: boom"), 503),
        (DeadlineExpired("Pipeline 'x' did not finish"), 504),
        (PipelineFailed(ValueError("bad input")), 500),
    ],
)
def test_invocation_errors_are_raised_as_hayhooks_http_exceptions(error, status):
    with pytest.raises(HTTPException) as raised, http_errors():
        raise error
    assert (raised.value.status_code, raised.value.detail) == (status, error.detail)
    assert raised.value.__cause__ is error


def test_the_wrappers_own_http_exception_is_raised_as_it_is():
    own = HTTPException(status_code=418, detail="short and stout", headers={"x-teapot": "1"})
    with pytest.raises(HTTPException) as raised, http_errors():
        raise WrapperRefused(own)
    assert raised.value is own


def test_whole_text_joins_the_text_of_chunks_and_skips_those_without():
    chunks = ["a", StreamingChunk(content="b"), StreamingChunk(content=""), None, "c"]
    assert whole_text(chunks) == "abc"
