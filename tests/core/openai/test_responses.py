"""`POST /v1/responses` (core/openai/responses.py) answered whole, through the Lambda handler; `input` as the
wrapper receives it."""

import pytest

from core.openai.responses import input_items
from infra.lambda_events import http_v2


def test_input_as_text_is_one_user_message_and_a_list_is_passed_as_it_is():
    assert input_items(None) == []
    assert input_items("hello") == [{"type": "message", "role": "user", "content": "hello"}]
    items = [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}]
    assert input_items(items) is items


@pytest.mark.parametrize("path", ["/v1/responses", "/responses"])
def test_a_whole_response_carries_the_wrappers_text_as_one_output_message(invoke, path):
    reply = invoke(http_v2("POST", path, body={"model": "responder", "input": "hello"}))
    assert reply.status == 200
    response = reply.json()
    assert (response["object"], response["status"], response["model"]) == ("response", "completed", "responder")
    assert response["id"].startswith("resp_") and response["error"] is None
    (message,) = response["output"]
    assert (message["type"], message["role"], message["status"]) == ("message", "assistant", "completed")
    assert message["id"].startswith("msg_")
    assert message["content"] == [{"type": "output_text", "text": "You said: hello", "annotations": []}]


def test_a_chat_only_wrapper_is_a_501(invoke):
    reply = invoke(http_v2("POST", "/v1/responses", body={"model": "chat_plain", "input": "hello"}))
    assert (reply.status, reply.json()) == (501, {"detail": "Responses endpoint not implemented for this model"})
