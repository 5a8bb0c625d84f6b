"""The SSE bodies as bytes on the wire: framing, the closing chunk, [DONE], and the error event."""

import json
import threading

from infra.lambda_events import assert_still_serving, http_v2


def _sse(reply):
    assert reply.headers["content-type"].startswith("text/event-stream")
    assert reply.text.endswith("\n\n")
    return [block for block in reply.text.split("\n\n") if block]


def test_chat_stream_framing(invoke):
    event = http_v2(
        "POST",
        "/v1/chat/completions",
        body={"model": "chat_async", "stream": True, "messages": [{"role": "user", "content": "hi"}]},
    )
    blocks = _sse(invoke(event))
    assert all(b.startswith("data: ") and "\n" not in b for b in blocks)
    assert blocks[-1] == "data: [DONE]"
    chunks = [json.loads(b.removeprefix("data: ")) for b in blocks[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert len({c["id"] for c in chunks}) == 1 and chunks[0]["id"].startswith("chat_async-")
    assert [c["choices"][0]["finish_reason"] for c in chunks][-1] == "stop"
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    assert "".join(c["choices"][0]["delta"]["content"] or "" for c in chunks) == "You said: hi"


def test_chat_stream_reasoning_delta(invoke):
    event = http_v2(
        "POST",
        "/chat/completions",
        body={"model": "chat_sync", "stream": True, "messages": [{"role": "user", "content": "hi"}]},
    )
    chunks = [json.loads(b.removeprefix("data: ")) for b in _sse(invoke(event))[:-1]]
    assert chunks[0]["choices"][0]["delta"]["reasoning_content"] == "Thinking."
    assert chunks[0]["choices"][0]["delta"]["content"] is None


def test_mid_stream_error_is_an_error_event_in_a_200(invoke, fixture_handler):
    event = http_v2(
        "POST",
        "/v1/chat/completions",
        body={"model": "chat_midstream", "stream": True, "messages": [{"role": "user", "content": "a b c"}]},
    )
    reply = invoke(event)
    assert reply.status == 200
    blocks = _sse(reply)
    error = json.loads(blocks[-1].removeprefix("data: "))["error"]
    assert error["type"] == "server_error" and error["message"].endswith("the model connection dropped")
    contents = [json.loads(b.removeprefix("data: "))["choices"][0]["delta"]["content"] for b in blocks[:-1]]
    assert contents == ["You ", "said: "]
    assert_still_serving(fixture_handler)


def test_responses_events_are_named(invoke):
    event = http_v2("POST", "/v1/responses", body={"model": "responder", "input": "hi", "stream": True})
    blocks = _sse(invoke(event))
    for block in blocks:
        name, data = block.split("\n")
        assert name.startswith("event: ") and data.startswith("data: ")
        assert json.loads(data.removeprefix("data: "))["type"] == name.removeprefix("event: ")


def test_no_thread_outlives_the_invocation(invoke):
    before = {t.ident for t in threading.enumerate()}
    for model in ("chat_sync", "chat_midstream", "chat_tools"):
        invoke(
            http_v2(
                "POST",
                "/v1/chat/completions",
                body={"model": model, "stream": True, "messages": [{"role": "user", "content": "x y"}]},
            )
        )
    leftover = [t.name for t in threading.enumerate() if t.ident not in before]
    assert leftover == []
