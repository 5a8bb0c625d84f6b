"""Schemathesis against the OpenAPI document that `make run`'s server publishes, every operation.

The server is the real one (`python -m core` serving pipelines/, uvicorn on a free loopback port), started
without OpenAI or AWS configuration. Each operation gets up to FUZZ_MAX_EXAMPLES generated requests that
fit its schema and as many that do not. No answer may be a 5xx except the few listed in EXPECTED_5XX, each
tied to a pipeline, a status and the exact message, and every answer must conform to the document.

Schemathesis' pytest loader (`schemathesis.pytest.from_fixture`) does not run under pytest 9.2 (it sets a
node attribute pytest removed), so each operation's Hypothesis strategy is driven with `@given` here.

FUZZ_MAX_EXAMPLES=500 .venv/bin/python -m pytest tests/core/test_openapi_fuzz.py runs a longer fuzz.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from core.routes.deploy import REFUSAL
from tests.conftest import EXAMPLE_PIPELINES
from tests.make_run import make_run_server, server_env

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "50"))

CHAT_WITH_DOCS_503 = (
    "chat_with_docs needs OPENAI_API_KEY: set it in the function's environment "
    "(from SSM or Secrets Manager in production) and redeploy."
)
BEDROCK_503 = (
    "bedrock_chat needs an AWS region (AWS_REGION) and credentials: on Lambda the function's "
    "role provides them; locally configure the AWS CLI or set AWS_PROFILE"
)
NO_CHAT_501 = "Chat endpoint not implemented for this model"
NO_RESPONSES_501 = "Responses endpoint not implemented for this model"
NO_FILES_501 = (
    "No pipeline implements run_file_upload: the file was not kept. "
    "Implement run_file_upload in a PipelineWrapper to accept uploads."
)
# the example pipelines that implement each OpenAI-compatible endpoint
CHAT_MODELS = {"bedrock_chat"}
RESPONSES_MODELS: set[str] = set()

# The only 5xx answers allowed, keyed by (method, path, the body's "model" for the OpenAI endpoints):
# - the two pipelines that need outside configuration answer 503 saying what is missing (they are built to);
# - the OpenAI endpoints answer a pipeline without the method behind them with Hayhooks' 501, on purpose:
#   the same status and message a Hayhooks client gets;
# - /v1/files answers 501 when no example pipeline takes uploads (none does): the file is not kept.
EXPECTED_5XX: dict[tuple[str, ...], tuple[int, str]] = {
    ("POST", "/chat_with_docs/run"): (503, CHAT_WITH_DOCS_503),
    ("POST", "/bedrock_chat/run"): (503, BEDROCK_503),
    ("POST", "/v1/chat/completions", "bedrock_chat"): (503, BEDROCK_503),
    **{("POST", "/v1/chat/completions", m): (501, NO_CHAT_501) for m in set(EXAMPLE_PIPELINES) - CHAT_MODELS},
    **{("POST", "/v1/responses", m): (501, NO_RESPONSES_501) for m in set(EXAMPLE_PIPELINES) - RESPONSES_MODELS},
    ("POST", "/v1/files"): (501, NO_FILES_501),
}
# Answers a wrapper raises itself (HTTPException reaches the client as is), so their body is the wrapper's,
# not the request-validation shape the document gives for that status: the status and the exact body.
WRAPPER_ANSWERS = {
    ("POST", "/file_stats/run"): (422, {"detail": "Send at least one file in the 'files' form field"}),
}
# Not checked: that every schema-violating request is rejected. The request models validate in pydantic's
# lax mode, as Hayhooks' do, so `"top_k": false` or `"top_k": "3"` are accepted as 0 and 3 on purpose.
# Hayhooks' deploy endpoints exist to refuse: 405 is their only answer, whatever is sent.
DEPLOY_PATHS = {"/deploy_files", "/deploy-yaml", "/undeploy/{pipeline_name}"}

# what the server must not see: configuration that would make the two pipelines above really run
UNSET = ("OPENAI_API_KEY", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE")


@pytest.fixture(scope="module")
def server_url():
    env = {k: v for k, v in server_env().items() if k not in UNSET}
    # no region from ~/.aws/config either
    with make_run_server({**env, "HAYHOOKS_LOG_LEVEL": "WARNING", "AWS_CONFIG_FILE": os.devnull}) as base:
        yield base


@pytest.fixture(scope="module")
def api_schema(server_url):
    return schemathesis.openapi.from_url(f"{server_url}/openapi.json")


def _key(case) -> tuple[str, ...]:
    key = (case.method.upper(), case.path)
    model = case.body.get("model") if isinstance(case.body, dict) and case.path.startswith("/v1/") else None
    return (*key, model) if isinstance(model, str) else key


def _json(response):
    try:
        return response.json()
    except ValueError:
        return None


def check_case(case) -> None:
    response = case.call(timeout=30)
    described = f"{case.method} {case.formatted_path} {case.body!r:.300} -> {response.status_code} {response.text:.500}"
    if case.path in DEPLOY_PATHS:
        assert (response.status_code, response.json()) == (405, {"detail": REFUSAL}), described
        case.validate_response(response, excluded_checks=[positive_data_acceptance])
        return
    if response.status_code >= 500:
        expected = EXPECTED_5XX.get(_key(case))
        assert expected is not None, f"unexpected 5xx: {described}"
        status, message = expected
        assert (response.status_code, response.json()) == (status, {"detail": message}), described
        return  # a pipeline's own answer: the document cannot describe its body
    if (response.status_code, _json(response)) == WRAPPER_ANSWERS.get(_key(case)):
        return
    if _file_sent_as_text(response):
        case.validate_response(response, excluded_checks=[not_a_server_error, positive_data_acceptance])
        return
    case.validate_response(response, excluded_checks=[not_a_server_error, negative_data_rejection])


def _file_sent_as_text(response) -> bool:
    """Schemathesis sends a `contentMediaType` string as a plain form field (no filename), not as a file.

    FastAPI then rightly answers that `files` needs files. Only that 422, and its body is still checked.
    """
    body = _json(response)
    if response.status_code != 422 or not isinstance(body, dict) or not body.get("detail"):
        return False
    return all(
        error["loc"][:2] == ["body", "files"]
        and error["msg"] == "Value error, Expected UploadFile, received: <class 'str'>"
        for error in body["detail"]
    )


def _with_example_models(strategy):
    """Cases whose `model` is an example pipeline: random strings would only ever reach the 404."""

    def set_model(args):
        case, model = args
        if isinstance(case.body, dict):
            case.body["model"] = model
        return case

    return st.tuples(strategy, st.sampled_from(EXAMPLE_PIPELINES)).map(set_model)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_no_server_errors_and_answers_match_the_document(api_schema, mode):
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    paths = {op.path for op in operations}
    assert {f"/{name}/run" for name in EXAMPLE_PIPELINES} | {"/status", "/v1/chat/completions"} <= paths
    for operation in operations:
        strategy = operation.as_strategy(generation_mode=mode)
        if mode is GenerationMode.POSITIVE and operation.path in ("/v1/chat/completions", "/v1/responses"):
            strategy = st.one_of(strategy, _with_example_models(strategy))
        ran = 0

        @given(strategy)
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case):
            nonlocal ran
            ran += 1
            check_case(case)

        try:
            fuzz()
        except Unsatisfiable:
            # nothing in the document can be violated (no parameters, or only free-form strings)
            assert mode is GenerationMode.NEGATIVE, f"{operation.label}: no request could be generated"
        except (Exception, FailureGroup) as exc:  # FailureGroup: several checks failed on one answer
            failures.append(f"{operation.label}: {exc}")
        else:
            assert ran > 0, operation.label
    assert not failures, "\n\n".join(failures)


# Shapes from the outside attack of issue #20, sent over real HTTP to every JSON operation of the document:
# numbers too large for a float, two Content-Type headers (raw HTTP allows them), and bodies whose
# validation errors would amplify. None may be a 5xx the document does not list, and a 422 stays small.
HOSTILE_BODIES = [
    b'{"question": 1e999, "top_k": 1e999, "model": "greeting", "messages": [], "name": 1e999}',
    b'{"question": "x", "top_k": -1E+400}',
    b'{"model": "greeting", "messages": [' + b",".join([b"1"] * 100_000) + b"]}",
    b'{"question": [' + b",".join([b"null"] * 100_000) + b"], " + b'"files": [' + b",".join([b"1"] * 50_000) + b"]}",
    b'{"name": "' + b"x" * 1_000_000 + b'", "top_k": "many"}',
]


def test_hostile_json_bodies_over_http(api_schema, server_url):
    import httpx

    operations = [result.ok() for result in api_schema.get_all_operations()]
    posts = sorted({op.path for op in operations if op.method.upper() == "POST" and "{" not in op.path})
    assert "/v1/chat/completions" in posts
    with httpx.Client(base_url=server_url, timeout=30) as client:
        for path in posts:
            for body in HOSTILE_BODIES:
                for types in (["application/json"], ["text/plain", "application/json"], ["application/json"] * 2):
                    headers = [("content-type", t) for t in types]
                    reply = client.post(path, content=body, headers=headers)
                    described = f"POST {path} {body[:80]!r} {types} -> {reply.status_code} {reply.text[:300]}"
                    if reply.status_code >= 500:
                        model = "greeting" if path.startswith("/v1/") and b'"greeting"' in body else None
                        key = ("POST", path, model) if model else ("POST", path)
                        assert key in EXPECTED_5XX, described
                    assert len(reply.content) < 64_000, described
                    if len(types) > 1:
                        assert reply.status_code == 400, described
                    if reply.status_code == 422 and isinstance(reply.json().get("detail"), list):
                        assert len(reply.json()["detail"]) <= 20, described
