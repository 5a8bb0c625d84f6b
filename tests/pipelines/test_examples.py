"""The example pipelines (fixture copies of pipelines/), through the Lambda handler as they are deployed."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from core.settings import Settings
from handler.entry import LambdaHandler
from infra.lambda_events import http_v2
from tests.conftest import EXAMPLE_PIPELINES, EXAMPLES


@pytest.fixture(scope="module")
def examples():
    return LambdaHandler(Settings(pipelines_dir=EXAMPLES))


def test_all_examples_load(examples, invoke):
    status = invoke(http_v2("GET", "/status"), handler=examples).json()
    assert status["pipelines"] == EXAMPLE_PIPELINES
    assert status["failed"] == []


def test_search_docs_ranks_by_bm25(examples, invoke):
    result = invoke(
        http_v2("POST", "/search_docs/run", body={"query": "lambda cold start", "top_k": 2}), handler=examples
    )
    documents = result.json()["result"]
    assert len(documents) == 2
    assert "cold start" in documents[0]["content"]
    assert documents[0]["score"] >= documents[1]["score"]


@pytest.mark.parametrize(
    ("body", "field", "error"),
    [({"query": ""}, "query", "string_too_short"), ({"query": "lambda", "top_k": -1}, "top_k", "greater_than_equal")],
)
def test_search_docs_rejects_an_empty_query_and_a_negative_top_k_with_422(examples, invoke, body, field, error):
    # found by tests/core/test_openapi_fuzz.py: both reached the BM25 retriever, which raised (a 500)
    reply = invoke(http_v2("POST", "/search_docs/run", body=body), handler=examples)
    assert reply.status == 422
    [problem] = reply.json()["detail"]
    assert (problem["loc"], problem["type"]) == (["body", field], error)
    assert invoke(
        http_v2("POST", "/search_docs/run", body={"query": "lambda", "top_k": 0}), handler=examples
    ).json() == {"result": []}


def test_prompt_builder_async(examples, invoke):
    reply = invoke(http_v2("POST", "/prompt_builder/run", body={"question": "Why?", "max_words": 5}), handler=examples)
    assert reply.json() == {"result": "Answer in English, in at most 5 words.\nQuestion: Why?\nAnswer:"}


def test_greeting_yaml(examples, invoke):
    reply = invoke(http_v2("POST", "/greeting/run", body={"name": "Ann", "place": "Lambda"}), handler=examples)
    assert reply.json() == {"result": {"greeting_builder": {"prompt": "Hello Ann, welcome to Lambda!"}}}
    missing = invoke(http_v2("POST", "/greeting/run", body={"name": "Ann"}), handler=examples)
    assert missing.status == 422 and missing.json()["detail"][0]["loc"] == ["body", "place"]


def test_chat_with_docs_without_key_says_what_is_missing(examples, invoke, monkeypatch):
    reply = invoke(http_v2("POST", "/chat_with_docs/run", body={"question": "What is it?"}), handler=examples)
    assert reply.status == 503
    assert reply.json()["detail"].startswith("chat_with_docs needs OPENAI_API_KEY")


class _ChatCompletions(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint on loopback: answers from what it was sent, and keeps it."""

    received: ClassVar[list] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.received.append({"path": self.path, "auth": self.headers.get("authorization"), "body": body})
        user = body["messages"][-1]["content"]
        text = user if isinstance(user, str) else " ".join(part.get("text", "") for part in user)
        answer = f"{len(text.split())} words received"
        payload = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": answer}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_chat_with_docs_calls_openai_with_retrieved_documents(monkeypatch, invoke):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ChatCompletions)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
        monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{server.server_port}/v1")
        handler = LambdaHandler(Settings(pipelines_dir=EXAMPLES))
        reply = invoke(http_v2("POST", "/chat_with_docs/run", body={"question": "How are pipelines loaded?"}), handler)
    finally:
        server.shutdown()
    assert reply.status == 200, reply.body
    (request,) = _ChatCompletions.received
    assert request["path"] == "/v1/chat/completions"
    assert request["auth"] == "Bearer sk-test-not-a-real-key"
    prompt = request["body"]["messages"][-1]["content"]
    prompt = prompt if isinstance(prompt, str) else " ".join(p.get("text", "") for p in prompt)
    assert "Question: How are pipelines loaded?" in prompt
    assert "Pipelines are loaded once, at cold start" in prompt
    assert reply.json() == {"result": f"{len(prompt.split())} words received"}


def test_file_stats_multipart_through_api_gateway(examples, invoke):
    import httpx

    text = ("word " * 250).encode()
    request = httpx.Request(
        "POST", "http://x/file_stats/run", data={"encoding": "utf-8"}, files=[("files", ("notes.txt", text))]
    )
    event = http_v2(
        "POST", "/file_stats/run", body=request.read(), headers={"content-type": request.headers["content-type"]}
    )
    reply = invoke(event, handler=examples)
    assert reply.json() == {"result": [{"name": "notes.txt", "bytes": 1250, "words": 250, "chunks": 3}]}
    empty = invoke(
        http_v2("POST", "/file_stats/run", body="", headers={"content-type": "multipart/form-data; boundary=x"}),
        handler=examples,
    )
    assert empty.status in (400, 422)
