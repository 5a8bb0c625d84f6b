"""`POST /v1/chat/completions` (core/openai/chat.py) answered whole, through the Lambda handler: the chat
completion object Hayhooks builds around a wrapper's text, and the request fields the wrapper receives."""

import pytest

from infra.lambda_events import http_v2

HI = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/chat/completions"])
def test_a_plain_string_becomes_a_chat_completion_and_extra_fields_reach_the_wrapper(invoke, path):
    reply = invoke(http_v2("POST", path, body={"model": "chat_plain", "messages": HI, "temperature": 0.5}))
    assert reply.status == 200
    completion = reply.json()
    assert completion["object"] == "chat.completion" and completion["model"] == "chat_plain"
    assert completion["id"].startswith("chat_plain-") and isinstance(completion["created"], int)
    (choice,) = completion["choices"]
    assert (choice["index"], choice["finish_reason"]) == (0, "stop")
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"] == "hi (temperature=0.5, model=chat_plain)"


def test_a_stream_asked_for_whole_is_joined_into_one_message(invoke):
    reply = invoke(http_v2("POST", "/v1/chat/completions", body={"model": "chat_sync", "messages": HI}))
    assert reply.status == 200
    assert reply.json()["choices"][0]["message"]["content"] == "You said: hi"


def test_each_completion_has_its_own_id(invoke):
    event = http_v2("POST", "/v1/chat/completions", body={"model": "chat_plain", "messages": HI})
    assert invoke(event).json()["id"] != invoke(event).json()["id"]


@pytest.mark.parametrize(
    ("model", "status", "detail"),
    [
        ("echo", 501, "Chat endpoint not implemented for this model"),  # a run_api-only wrapper
        ("nope", 404, "Pipeline 'nope' not found or not a pipeline wrapper"),
    ],
)
def test_a_model_without_a_chat_method_is_answered_as_hayhooks_does(invoke, model, status, detail):
    reply = invoke(http_v2("POST", "/v1/chat/completions", body={"model": model, "messages": HI}))
    assert (reply.status, reply.json()) == (status, {"detail": detail})
