"""The official `openai` SDK as the client, against the Lambda handler and against `make run`'s server."""

import httpx
import openai
import pytest

from tests.cold import clean_env
from tests.conftest import FIXTURE_PIPELINES, FIXTURE_PYTHON_PATH
from tests.lambda_transport import LambdaTransport
from tests.make_run import make_run_server


@pytest.fixture(scope="module")
def server_url():
    env = clean_env(
        HAYHOOKS_PIPELINES_DIR=str(FIXTURE_PIPELINES),
        HAYHOOKS_ADDITIONAL_PYTHON_PATH=str(FIXTURE_PYTHON_PATH),
        LOG="WARNING",
    )
    with make_run_server(env) as url:
        yield url


@pytest.fixture(params=["lambda", "make-run"])
def client(request, fixture_handler):
    if request.param == "lambda":
        http = httpx.Client(transport=LambdaTransport(fixture_handler), base_url="https://api.example")
        return openai.OpenAI(base_url="https://api.example/v1", api_key="unused", http_client=http, max_retries=0)
    url = request.getfixturevalue("server_url")
    return openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)


USER = [{"role": "user", "content": "hello there"}]


def test_models_list(client):
    ids = [m.id for m in client.models.list()]
    assert {"chat_sync", "chat_async", "echo"} <= set(ids)


def test_chat_completion_whole(client):
    completion = client.chat.completions.create(model="chat_sync", messages=USER)
    assert completion.object == "chat.completion"
    assert completion.model == "chat_sync"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "You said: hello there"
    assert completion.choices[0].finish_reason == "stop"


def test_chat_completion_plain_string_and_extra_fields(client):
    completion = client.chat.completions.create(model="chat_plain", messages=USER, temperature=0.25)
    assert completion.choices[0].message.content == "hello there (temperature=0.25, model=chat_plain)"


@pytest.mark.parametrize("model", ["chat_sync", "chat_async"])
def test_chat_completion_stream(client, model):
    chunks = list(client.chat.completions.create(model=model, messages=USER, stream=True))
    assert all(c.object == "chat.completion.chunk" and c.model == model for c in chunks)
    assert len({c.id for c in chunks}) == 1
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == "You said: hello there"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert len(chunks) >= 4  # streamed word by word, not one blob


def test_stream_of_a_plain_string(client):
    chunks = list(client.chat.completions.create(model="chat_plain", messages=USER, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks).startswith("hello there")
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_tool_call_deltas(client):
    chunks = list(client.chat.completions.create(model="chat_tools", messages=USER, stream=True))
    calls = [tc for c in chunks for tc in (c.choices[0].delta.tool_calls or [])]
    assert calls[0].id == "call_1" and calls[0].function.name == "get_weather"
    assert "".join(tc.function.arguments or "" for tc in calls) == '{"city": "Paris"}'
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_mid_stream_error_reaches_the_sdk_as_an_api_error(client):
    stream = client.chat.completions.create(model="chat_midstream", messages=USER, stream=True)
    received = []
    with pytest.raises(openai.APIError, match=r"(?s)^Pipeline execution failed: .*the model connection dropped$"):
        for chunk in stream:
            received.append(chunk.choices[0].delta.content)
    assert received == ["You ", "said: "]


@pytest.mark.parametrize(
    ("call", "status", "detail"),
    [
        (
            lambda c: c.chat.completions.create(model="nope", messages=USER),
            404,
            "Pipeline 'nope' not found or not a pipeline wrapper",
        ),
        (
            lambda c: c.chat.completions.create(model="echo", messages=USER),
            501,
            "Chat endpoint not implemented for this model",
        ),
        (
            lambda c: c.chat.completions.create(model="chat_raises", messages=USER),
            500,
            "Pipeline execution failed: the model rejected the request",
        ),
        (
            lambda c: c.chat.completions.create(model="broken_setup", messages=USER),
            503,
            "Pipeline 'broken_setup' failed to load: PipelineWrapper.setup() raised RuntimeError: index file missing: "
            "index.bin (at pipeline_wrapper.py, line 6)",
        ),
        (
            lambda c: c.responses.create(model="chat_plain", input="hi"),
            501,
            "Responses endpoint not implemented for this model",
        ),
        (
            lambda c: c.responses.create(model="nope", input="hi"),
            404,
            "Pipeline 'nope' not found or not a pipeline wrapper",
        ),
    ],
)
def test_status_codes(client, call, status, detail):
    with pytest.raises(openai.APIStatusError) as err:
        call(client)
    assert err.value.status_code == status
    assert err.value.response.json() == {"detail": detail}


def test_request_without_messages_is_422(client):
    with pytest.raises(openai.UnprocessableEntityError) as err:
        client.chat.completions.create(model="chat_sync", messages=None)  # type: ignore[arg-type]
    assert err.value.response.json()["detail"][0]["loc"] == ["body", "messages"]


def test_responses_whole(client):
    response = client.responses.create(model="responder", input="hello there")
    assert response.status == "completed" and response.model == "responder"
    assert response.output_text == "You said: hello there"


def test_responses_stream(client):
    events = list(client.responses.create(model="responder", input="hello there", stream=True))
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert "response.reasoning_summary_text.delta" in kinds
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "You said: hello there"
    final = events[-1].response
    assert [item.type for item in final.output] == ["reasoning", "message"]
    assert final.output_text == "You said: hello there"


def test_responses_stream_failure_is_well_formed(client):
    events = list(client.responses.create(model="chat_midstream", input="a b c", stream=True))
    kinds = [e.type for e in events]
    assert kinds[-2:] == ["error", "response.failed"]
    message = events[-1].response.error.message
    assert message.startswith("Pipeline execution failed: ") and message.endswith("the model connection dropped")
