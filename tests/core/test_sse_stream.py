"""`SSEStream` from `/{name}/run`: text/event-stream with Hayhooks' framing, on Lambda and under `make run`."""

import asyncio

import httpx
import pytest

from core.service import build_service
from infra.lambda_events import BUILDERS
from tests.conftest import fixture_settings

# what Hayhooks 2.1.0 writes for these items: `data: ` per line of each item's text, then a blank line
EXPECTED = 'data: a\n\ndata: b c\n\ndata: two\ndata: lines\n\ndata:\n\ndata: {"done": true}\n\n'


@pytest.mark.parametrize("source", list(BUILDERS))
def test_sse_stream_on_lambda_is_one_event_stream_body(source, invoke):
    reply = invoke(BUILDERS[source]("POST", "/sse_stream/run", body={"words": ["a", "b c"]}))
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    assert reply.text == EXPECTED


def test_sse_stream_failing_half_way_on_lambda_is_a_json_500(invoke):
    reply = invoke(BUILDERS["http-v2"]("POST", "/sse_stream/run", body={"words": ["a"], "fail": True}))
    assert reply.status == 500
    assert reply.json() == {"detail": "Pipeline execution failed: the stream broke"}


def test_sse_stream_streams_under_make_run():
    app, _ = build_service(fixture_settings())

    async def request() -> tuple[httpx.Response, list[str]]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            async with client.stream("POST", "/sse_stream/run", json={"words": ["a", "b c"]}) as response:
                return response, [chunk async for chunk in response.aiter_text()]

    response, chunks = asyncio.run(request())
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "".join(chunks) == EXPECTED


def test_openapi_documents_an_sse_stream_route_as_a_stream(invoke):
    schema = invoke(BUILDERS["http-v2"]("GET", "/openapi.json")).json()
    operation = schema["paths"]["/sse_stream/run"]["post"]
    assert "application/json" not in operation["responses"]["200"].get("content", {})
