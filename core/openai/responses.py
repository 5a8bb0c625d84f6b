"""`POST /v1/responses` (and `/responses`): the OpenAI Responses API over a wrapper's `run_response`."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncGenerator, Generator
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.types import FailFast
from starlette.responses import Response

from core.lambda_response import STREAMED
from core.openai.dispatch import ERROR_RESPONSES, RESPONSES, as_async, call_wrapper, collect_text
from core.openai.sse import respond

router = APIRouter(tags=["openai"])


_Items = Annotated[list[dict[str, Any]], FailFast()]  # stops at the first wrong item (core/bounded_validation.py)


class ResponsesRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = Field(description="The pipeline to run")
    input: str | _Items | None = Field(default=None, description="Text, or a list of input items")
    # the fields Hayhooks 2.1.0 declares, in its order: the wrapper's `body` has the same keys
    instructions: str | None = None
    stream: bool = False
    tools: _Items | None = None
    tool_choice: str | dict[str, Any] | None = None
    top_p: float | None = None
    top_logprobs: int | None = None
    temperature: float | None = None
    max_output_tokens: int | None = None
    previous_response_id: str | None = None
    parallel_tool_calls: bool | None = None
    stream_options: dict[str, Any] | None = None
    text: dict[str, Any] | None = None
    reasoning: dict[str, Any] | None = None
    store: bool | None = None
    service_tier: str | None = None
    metadata: dict[str, Any] | None = None


def input_items(value: str | list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    return value


def _hex_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def _response(response_id: str, model: str, created: int, status: str, output: list, error: Any = None) -> dict:
    return {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": status,
        "model": model,
        "output": output,
        "usage": None,
        "error": error,
        "incomplete_details": None,
    }


def _text_item(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    content = [{"type": "output_text", "text": text, "annotations": []}] if status == "completed" else []
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": content}


def _function_call_deltas(chunk: Any, current: dict[str, Any] | None) -> list[tuple[str, str | None, Any]] | None:
    """`(call_id, name, arguments)` for each function-call delta the chunk carries, None if it carries none.

    Two shapes, as Hayhooks reads them: Haystack's `tool_calls` (`ToolCallDelta`s; a delta without an id
    continues the open call) or explicit `function_call_id` / `_name` / `_arguments` attributes.
    """
    if getattr(chunk, "function_call_id", None) is not None and hasattr(chunk, "function_call_arguments"):
        return [
            (str(chunk.function_call_id), getattr(chunk, "function_call_name", None), chunk.function_call_arguments)
        ]
    tool_calls = getattr(chunk, "tool_calls", None)
    if not tool_calls:
        return None
    deltas = []
    for call in tool_calls:
        call_id = getattr(call, "id", None)
        if call_id is None:
            call_id = current["call_id"] if current else f"call_{uuid.uuid4().hex}"
        name = getattr(call, "tool_name", None) or getattr(call, "name", None)
        deltas.append((str(call_id), name, getattr(call, "arguments", None)))
    return deltas


def _text_of(chunk: Any) -> str:
    """A text chunk's content; an object without `content` (a dict, None) as its `str()`, as in Hayhooks."""
    if isinstance(chunk, str):
        return chunk
    content = getattr(chunk, "content", None)
    if isinstance(content, str):
        return content
    if hasattr(chunk, "content"):
        return "" if content is None else str(content)
    return str(chunk)


class ResponsesEncoder:
    """Chunks → Responses API events: text, reasoning and function-call items, opened and closed in order."""

    def __init__(self, response_id: str, model: str) -> None:
        self.id, self.model, self.created = response_id, model, int(time.time())
        self.output: list[dict[str, Any]] = []
        self.open: dict[str, dict[str, Any]] = {}  # kind -> {"id", "parts", ...}

    def _event(self, kind: str, **payload: Any) -> str:
        return f"event: {kind}\ndata: {json.dumps({'type': kind, **payload})}\n\n"

    def _snapshot(self, status: str, error: Any = None) -> dict:
        return _response(self.id, self.model, self.created, status, list(self.output), error)

    def start(self) -> list[str]:
        snapshot = self._snapshot("in_progress")
        return [
            self._event("response.created", response=snapshot),
            self._event("response.in_progress", response=snapshot),
        ]

    def _close(self, kind: str) -> list[str]:
        item = self.open.pop(kind, None)
        if item is None:
            return []
        index, joined = len(self.output), "".join(item["parts"])
        base = {"item_id": item["id"], "output_index": index}
        if kind == "text":
            part = {"type": "output_text", "text": joined, "annotations": []}
            done = _text_item(item["id"], joined)
            events = [
                self._event("response.output_text.done", **base, content_index=0, text=joined),
                self._event("response.content_part.done", **base, content_index=0, part=part),
            ]
        elif kind == "reasoning":
            part = {"type": "summary_text", "text": joined}
            done = {"id": item["id"], "type": "reasoning", "status": "completed", "summary": [part]}
            events = [
                self._event("response.reasoning_summary_text.done", **base, summary_index=0, text=joined),
                self._event("response.reasoning_summary_part.done", **base, summary_index=0, part=part),
            ]
        else:
            done = {
                "id": item["id"],
                "type": "function_call",
                "status": "completed",
                "call_id": item["call_id"],
                "name": item["name"] or "function",
                "arguments": joined,
            }
            events = [self._event("response.function_call_arguments.done", **base, arguments=joined)]
        self.output.append(done)
        return [*events, self._event("response.output_item.done", output_index=index, item=done)]

    def _open(self, kind: str, item: dict[str, Any], **state: Any) -> list[str]:
        self.open[kind] = {"id": item["id"], "parts": [], **state}
        return [self._event("response.output_item.added", output_index=len(self.output), item=item)]

    def feed(self, chunk: Any) -> list[str]:
        if callable(getattr(chunk, "to_event_dict", None)):
            event = chunk.to_event_dict()
            kind = event.get("type", "response.event")
            return [f"event: {kind}\ndata: {json.dumps(event)}\n\n"]
        events: list[str] = []
        reasoning = getattr(chunk, "reasoning", None)
        text = getattr(reasoning, "reasoning_text", None) if reasoning is not None else None
        text = text if isinstance(text, str) or reasoning is None else str(reasoning)
        if text:
            events += self._close("text") + self._close("function")
            if "reasoning" not in self.open:
                item_id = _hex_id("rs")
                events += self._open(
                    "reasoning", {"id": item_id, "type": "reasoning", "status": "in_progress", "summary": []}
                )
                events.append(
                    self._event(
                        "response.reasoning_summary_part.added",
                        item_id=item_id,
                        output_index=len(self.output),
                        summary_index=0,
                        part={"type": "summary_text", "text": ""},
                    )
                )
            return events + self._delta("reasoning", "response.reasoning_summary_text.delta", text, summary_index=0)
        calls = _function_call_deltas(chunk, self.open.get("function"))
        if calls is not None:
            for call_id, name, arguments in calls:
                events += self._function_call_delta(call_id, name, arguments)
            return events
        text = _text_of(chunk)
        if not text:
            return events
        events += self._close("reasoning") + self._close("function")
        if "text" not in self.open:
            item_id = _hex_id("msg")
            events += self._open("text", _text_item(item_id, "", "in_progress"))
            events.append(
                self._event(
                    "response.content_part.added",
                    item_id=item_id,
                    output_index=len(self.output),
                    content_index=0,
                    part={"type": "output_text", "text": "", "annotations": []},
                )
            )
        return events + self._delta("text", "response.output_text.delta", text, content_index=0)

    def _function_call_delta(self, call_id: str, name: str | None, arguments: Any) -> list[str]:
        events = self._close("reasoning") + self._close("text")
        current = self.open.get("function")
        if current and current["call_id"] != call_id:
            events += self._close("function")
        if "function" not in self.open:
            item_id = _hex_id("fc")
            item = {
                "id": item_id,
                "type": "function_call",
                "status": "in_progress",
                "call_id": call_id,
                "name": name or "function",
                "arguments": "",
            }
            events += self._open("function", item, call_id=call_id, name=name or "function")
        if name is not None:
            self.open["function"]["name"] = name
        delta = "" if arguments is None else str(arguments)
        if delta:
            events += self._delta("function", "response.function_call_arguments.delta", delta)
        return events

    def _delta(self, kind: str, event: str, delta: str, **extra: Any) -> list[str]:
        item = self.open[kind]
        item["parts"].append(delta)
        return [self._event(event, item_id=item["id"], output_index=len(self.output), **extra, delta=delta)]

    def _close_all(self) -> list[str]:
        return self._close("reasoning") + self._close("text") + self._close("function")

    def finish(self) -> list[str]:
        return [*self._close_all(), self._event("response.completed", response=self._snapshot("completed"))]

    def fail(self, message: str) -> list[str]:
        error = {"code": "server_error", "message": message}
        return [
            *self._close_all(),
            self._event("error", code="server_error", message=message, param=None),
            self._event("response.failed", response=self._snapshot("failed", error)),
        ]


@router.post("/v1/responses", summary="Create a response (OpenAI-compatible Responses API)", responses=ERROR_RESPONSES)
@router.post("/responses", summary="Create a response (OpenAI-compatible Responses API)", include_in_schema=False)
async def create_response(req: ResponsesRequest, request: Request) -> Response:
    body = req.model_dump()
    result = await call_wrapper(request, RESPONSES, req.model, {"input_items": input_items(req.input), "body": body})
    if isinstance(result, Response):
        return result
    inline = request.app.state.sync_inline
    buffer = inline and not request.scope.get(STREAMED)  # Lambda buffers, unless the loop streams
    response_id = _hex_id("resp")
    if isinstance(result, dict):
        return JSONResponse(result)
    if req.stream:
        if isinstance(result, str):
            result = iter([result])
        return await respond(as_async(result, inline=inline), ResponsesEncoder(response_id, req.model), buffer=buffer)
    if isinstance(result, (Generator, AsyncGenerator)):
        result = await collect_text(result, inline=inline)
    if not isinstance(result, str):
        return JSONResponse({"detail": "Unsupported response type from run_response"}, status_code=500)
    output = [_text_item(_hex_id("msg"), result)]
    return JSONResponse(_response(response_id, req.model, int(time.time()), "completed", output))
