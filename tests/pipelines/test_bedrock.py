"""The Bedrock example, offline: botocore's Stubber stands in for Bedrock and checks the request sent."""

import httpx
import openai
import pytest
from botocore.stub import Stubber

from core.settings import Settings
from handler.entry import LambdaHandler
from infra.lambda_events import http_v2
from tests.conftest import EXAMPLES
from tests.lambda_transport import LambdaTransport


@pytest.fixture
def bedrock(monkeypatch):
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "BEDROCK_MODEL_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")  # all Lambda sets: the example maps it for the component
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")  # what the function's role puts in the environment
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    handler = LambdaHandler(Settings(pipelines_dir=EXAMPLES))
    wrapper = handler.registry.get("bedrock_chat").wrapper
    assert wrapper.pipeline is None  # nothing made at cold start: the client waits for the first request
    client = wrapper.get_pipeline().get_component("llm").client
    assert client.meta.region_name == "eu-west-1"
    with Stubber(client) as stubber:
        yield handler, stubber


def _converse_reply(text):
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 12, "outputTokens": 3, "totalTokens": 15},
        "metrics": {"latencyMs": 100},
    }


def test_chat_completion_sends_the_converse_request(bedrock):
    handler, stubber = bedrock
    stubber.add_response(
        "converse",
        _converse_reply("Lambda runs code."),
        expected_params={
            "modelId": "amazon.nova-lite-v1:0",
            "messages": [{"role": "user", "content": [{"text": "What is Lambda?"}]}],
            "system": [{"text": "You are a concise assistant. Answer in at most three sentences."}],
            "inferenceConfig": {"temperature": 0.2, "maxTokens": 64},
        },
    )
    http = httpx.Client(transport=LambdaTransport(handler), base_url="https://api.example")
    client = openai.OpenAI(base_url="https://api.example/v1", api_key="unused", http_client=http, max_retries=0)
    completion = client.chat.completions.create(
        model="bedrock_chat", messages=[{"role": "user", "content": "What is Lambda?"}], temperature=0.2, max_tokens=64
    )
    assert completion.choices[0].message.content == "Lambda runs code."
    stubber.assert_no_pending_responses()


def test_bedrock_error_is_a_500_with_the_reason(bedrock, invoke):
    handler, stubber = bedrock
    stubber.add_client_error(
        "converse", service_error_code="AccessDeniedException", service_message="not allowed", http_status_code=403
    )
    reply = invoke(http_v2("POST", "/bedrock_chat/run", body={"question": "hi"}), handler=handler)
    assert reply.status == 500
    detail = reply.json()["detail"]
    assert detail.startswith("Pipeline execution failed: ")
    assert "(AccessDeniedException) when calling the Converse operation: not allowed" in detail


def test_without_a_region_it_says_what_is_missing(monkeypatch, invoke):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    handler = LambdaHandler(Settings(pipelines_dir=EXAMPLES))
    reply = invoke(http_v2("POST", "/bedrock_chat/run", body={"question": "hi"}), handler=handler)
    assert reply.status == 503 and reply.json()["detail"].startswith("bedrock_chat needs an AWS region")
