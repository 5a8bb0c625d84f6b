"""Our answers byte for byte against Hayhooks 2.1.0's, recorded in tests/fixtures/hayhooks_wire/expected.json.

Each request of tests/hayhooks_wire.py goes to the fixture pipelines (Pipelines and Agents streaming
reasoning, text, tool calls and tool results through `streaming_generator` / `async_streaming_generator`
with every callback, and a generator yielding every event type), on both ways this app answers: streamed
(`make run`) and built whole before it is sent (Lambda). Ids and timestamps are normalised; everything
else must be equal. The one documented difference: chat streams end with `data: [DONE]`, Hayhooks' do not.
"""

import pytest
from fastapi.testclient import TestClient

from core.app import create_app
from core.loader import load_registry
from core.settings import Settings
from tests.hayhooks_wire import PIPELINES, PYTHON_PATH, answer, expected, requests

DONE = "data: [DONE]\n\n"
CASES = requests()


@pytest.fixture(scope="module", params=[False, True], ids=["streamed", "lambda"])
def client(request):
    settings = Settings(pipelines_dir=PIPELINES, additional_python_path=(str(PYTHON_PATH),))
    registry = load_registry(settings)
    assert not registry.failed, registry.failed
    with TestClient(create_app(settings, registry, sync_inline=request.param)) as client:
        yield client


def test_every_request_has_a_recorded_answer():
    assert set(expected()) == set(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_answer_as_hayhooks(client, case):
    path, body = CASES[case]
    reply = client.post(path, json=body)
    ours = answer(reply.status_code, reply.headers.get("content-type", ""), reply.text)
    if path == "/v1/chat/completions" and body["stream"]:
        assert ours["body"].endswith(DONE)  # ours only: OpenAI's terminator (README, "Migrating from Hayhooks")
        ours["body"] = ours["body"].removesuffix(DONE)
    assert ours == expected()[case]
