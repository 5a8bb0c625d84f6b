"""`POST /v1/chat/completions` (and `/chat/completions`): OpenAI chat completion objects and chunks."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncGenerator, Generator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from core.lambda_response import STREAMED
from core.openai.dispatch import CHAT, ERROR_RESPONSES, as_async, call_wrapper, collect_text
from core.openai.sse import respond

router = APIRouter(tags=["openai"])


class ChatRequest(BaseModel):
    """An OpenAI chat completion request; extra fields (temperature, tools, ...) reach the wrapper in `body`."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(description="The pipeline to run")
    messages: list[dict[str, Any]] = Field(description="The conversation, in OpenAI's message format", fail_fast=True)
    stream: bool = Field(default=False, description="Answer with server-sent events")


def _message(content: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": content,
        "reasoning_content": None,
        "tool_calls": None,
        "refusal": None,
        **extra,
    }


def _completion(completion_id: str, model: str, created: int, choice: dict[str, Any], *, chunk: bool) -> dict:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk" if chunk else "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": None, "finish_reason": None, "logprobs": None, "message": None, **choice}],
        "usage": None,
        "system_fingerprint": None,
    }


def _tool_call_delta(call: Any) -> dict[str, Any]:
    delta: dict[str, Any] = {"index": getattr(call, "index", 0), "type": "function", "function": {}}
    if getattr(call, "id", None) is not None:
        delta["id"] = call.id
    name = getattr(call, "tool_name", None) or getattr(call, "name", None)
    if name is not None:
        delta["function"]["name"] = name
    if getattr(call, "arguments", None) is not None:
        delta["function"]["arguments"] = call.arguments
    return delta


def _text_of(chunk: Any) -> str:
    """A text chunk's content; an object without `content` (a dict, None) is sent as its `str()`, as in Hayhooks."""
    if isinstance(chunk, str):
        return chunk
    if hasattr(chunk, "content"):
        return chunk.content if isinstance(chunk.content, str) else "" if chunk.content is None else str(chunk.content)
    return str(chunk)


class ChatEncoder:
    """Chunks → `chat.completion.chunk` SSE messages, a closing `finish_reason: "stop"`, then `[DONE]`."""

    def __init__(self, completion_id: str, model: str) -> None:
        self.id, self.model, self.created = completion_id, model, int(time.time())
        self.sent_chunks = False
        self.finished = False

    def _data(self, payload: dict) -> str:
        # chunks are written as Hayhooks' pydantic models write them: compact, non-ASCII kept as is
        return f"data: {json.dumps(payload, separators=(',', ':'), ensure_ascii=False)}\n\n"

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> str:
        self.sent_chunks = True
        self.finished = self.finished or finish_reason is not None
        choice = {"delta": delta, "finish_reason": finish_reason}
        return self._data(_completion(self.id, self.model, self.created, choice, chunk=True))

    def start(self) -> list[str]:
        return []

    def feed(self, chunk: Any) -> list[str]:
        if isinstance(chunk, dict) and chunk.get("object") in ("chat.completion", "chat.completion.chunk"):
            return [self._data(chunk)]  # a complete chunk built by the wrapper
        if callable(getattr(chunk, "to_event_dict", None)):
            # e.g. Open WebUI status events; written with json.dumps' defaults, as Hayhooks does
            return [f"data: {json.dumps({'event': chunk.to_event_dict()})}\n\n"]
        finish_reason = getattr(chunk, "finish_reason", None)
        reasoning = getattr(chunk, "reasoning", None)
        if reasoning is not None:
            text = getattr(reasoning, "reasoning_text", None)
            text = text if isinstance(text, str) else str(reasoning)
            if text:
                return [self._chunk(_message(None, reasoning_content=text))]
        tool_calls = getattr(chunk, "tool_calls", None)
        if tool_calls:
            return [self._chunk(_message(None, tool_calls=[_tool_call_delta(c) for c in tool_calls]), finish_reason)]
        return [self._chunk(_message(_text_of(chunk)), finish_reason)]

    def finish(self) -> list[str]:
        closing = [self._chunk(_message(""), "stop")] if self.sent_chunks and not self.finished else []
        return [*closing, "data: [DONE]\n\n"]

    def fail(self, message: str) -> list[str]:
        # the openai SDK raises APIError(message) on a data message with an "error" object
        return [self._data({"error": {"message": message, "type": "server_error", "param": None, "code": None}})]


@router.post("/v1/chat/completions", summary="Create a chat completion (OpenAI-compatible)", responses=ERROR_RESPONSES)
@router.post("/chat/completions", summary="Create a chat completion (OpenAI-compatible)", include_in_schema=False)
async def chat_completions(chat: ChatRequest, request: Request) -> Response:
    body = chat.model_dump()
    result = await call_wrapper(request, CHAT, chat.model, {"messages": chat.messages, "body": body})
    if isinstance(result, Response):
        return result
    inline = request.app.state.sync_inline
    buffer = inline and not request.scope.get(STREAMED)  # Lambda buffers, unless the loop streams
    completion_id = f"{chat.model}-{uuid.uuid4()}"
    if isinstance(result, dict):
        return JSONResponse(result)  # a complete chat.completion built by the wrapper
    if chat.stream:
        if isinstance(result, str):
            result = iter([result])
        if isinstance(result, (Generator, AsyncGenerator)) or hasattr(result, "__iter__"):
            return await respond(as_async(result, inline=inline), ChatEncoder(completion_id, chat.model), buffer=buffer)
    if isinstance(result, (Generator, AsyncGenerator)):
        result = await collect_text(result, inline=inline)
    if not isinstance(result, str):
        return JSONResponse({"detail": "Unsupported response type from completion"}, status_code=500)
    choice = {"message": _message(result), "finish_reason": "stop"}
    return JSONResponse(_completion(completion_id, chat.model, int(time.time()), choice, chunk=False))
