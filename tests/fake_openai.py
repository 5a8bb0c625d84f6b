"""An OpenAI-compatible server for tests, on loopback: Chat Completions and Responses, streamed or not.

Every answer is derived from the request alone, so two servers under test that send the same request get
the same bytes back (ids are hashes of the request, `created` is fixed). What it answers, from the text
of the conversation's last message:

- a line `reply with <text>`: exactly <text> (a test that needs, say, JSON from the model asks for it);
- `call <tool> with <json object>` in a user message, when <tool> is among the tools offered: a call of
  that tool with those arguments (so an agent's tool loop runs, then gets the next rule);
- otherwise `<role> said: <text>`, e.g. `user said: hi` or, after a tool ran, `tool said: <its result>`.

A Responses request that asks for a reasoning summary (`reasoning.summary`) gets one first:
`thinking about: <the first six words>`. Text is streamed a few words per chunk.

Point a client at it with `OPENAI_BASE_URL=<url>/v1` (any `OPENAI_API_KEY`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.loopback import serve

CREATED = 1_700_000_000
WORDS_PER_CHUNK = 4
_REPLY_WITH = re.compile(r"^.*?reply with (.+)$", re.MULTILINE)
_CALL = re.compile(r"call (\w+) with (\{.*\})", re.DOTALL)


@dataclass(frozen=True)
class Answer:
    text: str | None = None
    tool: str | None = None
    arguments: str | None = None
    reasoning: str | None = None


def answer(role: str, text: str, tools: list[str], reasoning: bool = False) -> Answer:
    """What the fake model says after a last message from `role` saying `text`, offered `tools`."""
    thought = f"thinking about: {' '.join(text.split()[:6])}" if reasoning else None
    if reply := _REPLY_WITH.search(text):
        return Answer(text=reply.group(1).strip(), reasoning=thought)
    if role == "user" and (call := _CALL.search(text)) and call.group(1) in tools:
        arguments = json.loads(call.group(2))  # the test wrote it: a malformed one should fail loudly
        return Answer(tool=call.group(1), arguments=json.dumps(arguments), reasoning=thought)
    return Answer(text=f"{role} said: {text}", reasoning=thought)


def pieces(text: str) -> list[str]:
    """`text` cut every few words, whitespace kept, so that joining the pieces gives it back."""
    tokens = re.findall(r"\S+\s*|\s+", text)
    return ["".join(tokens[i : i + WORDS_PER_CHUNK]) for i in range(0, len(tokens), WORDS_PER_CHUNK)] or [""]


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:24]


# --- Chat Completions ---------------------------------------------------------------------------------


def chat_answer(request: dict) -> Answer:
    last = request["messages"][-1]
    tools = [t["function"]["name"] for t in request.get("tools") or [] if t.get("type") == "function"]
    return answer(last.get("role", "user"), _text_of(last.get("content")), tools)


def chat_completion(request: dict, digest: str) -> dict:
    said = chat_answer(request)
    message: dict[str, Any] = {"role": "assistant", "content": said.text}
    if said.tool:
        message["tool_calls"] = [
            {"id": f"call_{digest}", "type": "function", "function": {"name": said.tool, "arguments": said.arguments}}
        ]
    return {
        "id": f"chatcmpl-{digest}",
        "object": "chat.completion",
        "created": CREATED,
        "model": request.get("model", ""),
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": "tool_calls" if said.tool else "stop"}
        ],
        "usage": _usage(request, said),
    }


def chat_chunks(request: dict, digest: str) -> Iterator[dict]:
    said = chat_answer(request)

    def chunk(delta: dict, finish_reason: str | None = None) -> dict:
        return {
            "id": f"chatcmpl-{digest}",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": request.get("model", ""),
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
        }

    yield chunk({"role": "assistant", "content": ""})
    if said.tool:
        call = {"index": 0, "id": f"call_{digest}", "type": "function"}
        yield chunk({"tool_calls": [{**call, "function": {"name": said.tool, "arguments": ""}}]})
        for piece in pieces(said.arguments or ""):
            yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
    else:
        for piece in pieces(said.text or ""):
            yield chunk({"content": piece})
    yield chunk({}, "tool_calls" if said.tool else "stop")
    if (request.get("stream_options") or {}).get("include_usage"):
        yield {**chunk({}), "choices": [], "usage": _usage(request, said)}


def _usage(request: dict, said: Answer) -> dict:
    prompt = len(json.dumps(request.get("messages", request.get("input", ""))).split())
    completion = len((said.text or said.arguments or "").split())
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


# --- Responses ------------------------------------------------------------------------------------------


def responses_answer(request: dict) -> Answer:
    items = request.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    last = items[-1]
    if last.get("type") == "function_call_output":
        role, text = "tool", str(last.get("output", ""))
    else:
        role, text = last.get("role", "user"), _text_of(last.get("content"))
    tools = [t["name"] for t in request.get("tools") or [] if t.get("type") == "function" and "name" in t]
    wants_summary = bool((request.get("reasoning") or {}).get("summary"))
    return answer(role, text, tools, reasoning=wants_summary)


def response_items(said: Answer, digest: str) -> list[dict]:
    items: list[dict] = []
    if said.reasoning is not None:
        items.append(
            {"type": "reasoning", "id": f"rs_{digest}", "summary": [{"type": "summary_text", "text": said.reasoning}]}
        )
    if said.tool:
        items.append(
            {
                "type": "function_call",
                "id": f"fc_{digest}",
                "call_id": f"call_{digest}",
                "name": said.tool,
                "arguments": said.arguments,
                "status": "completed",
            }
        )
    else:
        items.append(
            {
                "type": "message",
                "id": f"msg_{digest}",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": said.text, "annotations": [], "logprobs": []}],
            }
        )
    return items


def response_object(request: dict, digest: str, output: list[dict], status: str = "completed") -> dict:
    said = responses_answer(request)
    return {
        "id": f"resp_{digest}",
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "model": request.get("model", ""),
        "output": output,
        "usage": {
            "input_tokens": _usage(request, said)["prompt_tokens"],
            "output_tokens": _usage(request, said)["completion_tokens"],
            "total_tokens": _usage(request, said)["total_tokens"],
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        },
        "incomplete_details": None,
        "error": None,
        "instructions": request.get("instructions"),
        "tools": request.get("tools") or [],
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "metadata": {},
        "temperature": None,
        "top_p": None,
        "text": {"format": {"type": "text"}},
    }


def response_events(request: dict, digest: str) -> Iterator[dict]:
    items = response_items(responses_answer(request), digest)
    yield {"type": "response.created", "response": response_object(request, digest, [], "in_progress")}
    for index, item in enumerate(items):
        if item["type"] == "reasoning":
            yield {"type": "response.output_item.added", "output_index": index, "item": {**item, "summary": []}}
            for piece in pieces(item["summary"][0]["text"]):
                yield {
                    "type": "response.reasoning_summary_text.delta",
                    "item_id": item["id"],
                    "output_index": index,
                    "summary_index": 0,
                    "delta": piece,
                }
        elif item["type"] == "function_call":
            yield {"type": "response.output_item.added", "output_index": index, "item": {**item, "arguments": ""}}
            for piece in pieces(item["arguments"]):
                yield {
                    "type": "response.function_call_arguments.delta",
                    "item_id": item["id"],
                    "output_index": index,
                    "delta": piece,
                }
        else:
            yield {"type": "response.output_item.added", "output_index": index, "item": {**item, "content": []}}
            for piece in pieces(item["content"][0]["text"]):
                yield {
                    "type": "response.output_text.delta",
                    "item_id": item["id"],
                    "output_index": index,
                    "content_index": 0,
                    "delta": piece,
                    "logprobs": [],
                }
        yield {"type": "response.output_item.done", "output_index": index, "item": item}
    yield {"type": "response.completed", "response": response_object(request, digest, items)}


# --- HTTP -----------------------------------------------------------------------------------------------


class FakeOpenAI(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet in test output

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        request, digest = json.loads(raw), _digest(raw)
        if self.path.endswith("/chat/completions"):
            if request.get("stream"):
                self._stream((None, chunk) for chunk in chat_chunks(request, digest))
            else:
                self._json(chat_completion(request, digest))
        elif self.path.endswith("/responses"):
            if request.get("stream"):
                events = list(response_events(request, digest))
                self._stream((event["type"], {**event, "sequence_number": n}) for n, event in enumerate(events))
            else:
                items = response_items(responses_answer(request), digest)
                self._json(response_object(request, digest, items))
        else:
            self._json({"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}}, 404)

    def _json(self, payload: dict, status: int = 200) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, events: Iterator[tuple[str | None, dict]]) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()  # HTTP/1.0: the stream ends when the connection closes
        for name, data in events:
            self.wfile.write((f"event: {name}\n" if name else "").encode() + f"data: {json.dumps(data)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")


@contextmanager
def fake_openai() -> Iterator[str]:
    """Yield the `OPENAI_BASE_URL` of a running fake."""
    with serve(FakeOpenAI) as url:
        yield f"{url}/v1"
