"""Which of Hayhooks 2.1.0's examples the suite serves, the requests each gets, and the ones it skips (and why).

Requests are templates: `{web}` becomes the fake web's URL, `{file_id}` the id the last `/v1/files`
upload answered. The fake model's rules (`reply with …`, `call <tool> with {…}`) are in tests/fake_openai.py.
docs/hayhooks-examples.md shows the same lists to users; keep them in step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Request:
    label: str
    method: str
    path: str
    json: Any = None
    files: dict[str, tuple[str | None, str, str | None]] | None = None  # multipart: field -> (filename, text, type)
    data: dict[str, str] | None = None  # multipart form fields


@dataclass(frozen=True)
class Example:
    name: str  # the fixture's name
    pipelines: dict[str, str]  # pipeline name -> its folder under examples/
    requests: tuple[Request, ...]
    python_path: tuple[str, ...] = ()  # folders under examples/ for HAYHOOKS_ADDITIONAL_PYTHON_PATH
    needs: tuple[str, ...] = field(default=())  # modules the example imports beyond the dev lock


def status() -> Request:
    return Request("status", "GET", "/status")


def run(body: Any, label: str = "run", *, pipeline: str) -> Request:
    return Request(label, "POST", f"/{pipeline}/run", json=body)


def chat(pipeline: str, content: Any, *, label: str = "chat") -> tuple[Request, Request]:
    """The same chat completion, plain and with `stream: true`."""
    body = {"model": pipeline, "messages": [{"role": "user", "content": content}]}
    return Request(label, "POST", "/v1/chat/completions", json=body), Request(
        f"{label}-stream", "POST", "/v1/chat/completions", json={**body, "stream": True}
    )


def responses(pipeline: str, input_: Any, *, label: str = "responses", **extra: Any) -> tuple[Request, Request]:
    body = {"model": pipeline, "input": input_, **extra}
    return Request(label, "POST", "/v1/responses", json=body), Request(
        f"{label}-stream", "POST", "/v1/responses", json={**body, "stream": True}
    )


def upload(name: str, text: str) -> Request:
    return Request(
        "files", "POST", "/v1/files", files={"file": (name, text, "text/plain")}, data={"purpose": "user_data"}
    )


def form(label: str, path: str, **fields: str) -> Request:
    """A multipart form without files (each field sent with no filename)."""
    return Request(label, "POST", path, files={k: (None, v, None) for k, v in fields.items()})


def call(tool: str, **arguments: Any) -> str:
    """A user message that makes the fake model call `tool` with `arguments`."""
    return f"call {tool} with {json.dumps(arguments)}"


PAGES = ["{web}/pages/haystack.html", "{web}/pages/lambda.html"]
NOTES = "Lambda notes\nA function initialises once at cold start.\nThen it serves one request at a time.\n"
REPLY_JSON = json.dumps({"classification": "io_bound", "confidence": 0.9, "rationale": "It calls a remote model."})
CODEX_TOOLS = [
    {
        "type": "function",
        "name": "exec_command",
        "description": "Run a shell command on the client",
        "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]},
    }
]

PW = "pipeline_wrappers"

EXAMPLES: tuple[Example, ...] = (
    Example(
        "relative_imports",
        {"relative_imports": f"{PW}/relative_imports"},
        (
            status(),
            run({"name": "Ada", "numbers": [1, 2, 3, 4]}, pipeline="relative_imports"),
            run({"name": "Ada"}, "run-missing-field", pipeline="relative_imports"),
        ),
    ),
    Example(
        "shared_code_between_wrappers",
        {
            "pipeline_1": "shared_code_between_wrappers/input_pipelines/pipeline_1",
            "pipeline_2": "shared_code_between_wrappers/input_pipelines/pipeline_2",
        },
        (
            status(),
            run({"a": 1, "b": 3}, "run-1", pipeline="pipeline_1"),
            run({"a": 1, "b": 3}, "run-2", pipeline="pipeline_2"),
        ),
        python_path=("shared_code_between_wrappers/common",),
    ),
    Example(
        "async_hybrid_streaming",
        {"async_hybrid_streaming": f"{PW}/async_hybrid_streaming"},
        (
            status(),
            run({"question": "What is Haystack?"}, pipeline="async_hybrid_streaming"),
            *chat("async_hybrid_streaming", "What is Haystack?"),
        ),
    ),
    Example(
        "async_question_answer",
        {"async_question_answer": f"{PW}/async_question_answer"},
        (
            status(),
            run({"question": "What is a pipeline?"}, pipeline="async_question_answer"),
            *chat("async_question_answer", "What is a pipeline?"),
        ),
    ),
    Example(
        "multi_llm_streaming",
        {"multi_llm_streaming": f"{PW}/multi_llm_streaming"},
        (
            status(),
            run({"query": "What is a cold start?"}, pipeline="multi_llm_streaming"),
            *chat("multi_llm_streaming", "What is a cold start?"),
        ),
    ),
    Example(
        "open_webui_agent_events",
        {"open_webui_agent_events": f"{PW}/open_webui_agent_events"},
        (status(), *chat("open_webui_agent_events", "Hello agent")),
    ),
    Example(
        "open_webui_agent_on_tool_calls",
        {"open_webui_agent_on_tool_calls": f"{PW}/open_webui_agent_on_tool_calls"},
        (status(), *chat("open_webui_agent_on_tool_calls", call("weather_tool", location="Berlin"))),
    ),
    Example(
        "chainlit_weather_agent",
        {"chainlit_weather_agent": f"{PW}/chainlit_weather_agent"},
        (
            status(),
            *chat("chainlit_weather_agent", call("get_weather", location="Berlin")),
            *chat("chainlit_weather_agent", call("get_weather", location="Atlantis"), label="chat-unknown-city"),
        ),
    ),
    Example(
        "chat_completion_with_file_upload",
        {"chat_completion_with_file_upload": f"{PW}/chat_completion_with_file_upload"},
        (
            status(),
            upload("notes.txt", NOTES),
            *chat(
                "chat_completion_with_file_upload",
                [{"type": "text", "text": "Summarise this file."}, {"type": "file", "file": {"file_id": "{file_id}"}}],
            ),
        ),
    ),
    Example(
        "responses_with_file_upload",
        {"responses_with_file_upload": f"{PW}/responses_with_file_upload"},
        (
            status(),
            upload("notes.txt", NOTES),
            *responses("responses_with_file_upload", call("read_uploaded_file", file_id="{file_id}")),
            *responses(
                "responses_with_file_upload",
                [
                    {
                        "role": "user",
                        "content": [
                            {"type": "input_text", "text": "What is in this file?"},
                            {"type": "input_file", "file_id": "{file_id}"},
                        ],
                    }
                ],
                label="responses-input-file",
            ),
        ),
    ),
    Example(
        "reasoning_agent",
        {"reasoning_agent": f"{PW}/reasoning_agent"},
        (
            status(),
            *chat("reasoning_agent", "Why is the sky blue?"),
            *responses("reasoning_agent", "Why is the sky blue?"),
        ),
    ),
    Example(
        "agent_codex",
        {"agent_codex": f"{PW}/agent_codex"},
        (
            status(),
            *responses("agent_codex", "Hello from the test", instructions="Be brief."),
            *responses(
                "agent_codex", call("exec_command", cmd="ls -la"), label="responses-client-tool", tools=CODEX_TOOLS
            ),
            *responses(
                "agent_codex",
                "What is the weather like? " + call("server_get_weather", location="Berlin"),
                label="responses-server-weather",
            ),
        ),
    ),
    Example(
        "custom_tracing",
        {"custom_tracing": f"{PW}/custom_tracing"},
        (
            status(),
            form("run-form", "/custom_tracing/run", pipeline_yaml=f"# reply with {REPLY_JSON}\ncomponents: {{}}\n"),
            Request(
                "run-upload",
                "POST",
                "/custom_tracing/run",
                files={"files": ("pipeline.yml", f"# reply with {REPLY_JSON}\nconnections: []\n", "application/yaml")},
            ),
            form("run-model-says-no-json", "/custom_tracing/run", pipeline_yaml="components: {}\n"),
            # a run_api that takes files reads a form: a JSON body is not read at all
            run({"pipeline_yaml": f"# reply with {REPLY_JSON}\n"}, "run-json-body", pipeline="custom_tracing"),
        ),
    ),
    Example(
        "chat_with_website",
        {"chat_with_website": f"{PW}/chat_with_website"},
        (
            status(),
            run({"urls": PAGES[:1], "question": "What is a pipeline?"}, pipeline="chat_with_website"),
            *chat("chat_with_website", "What is a pipeline?"),
        ),
        needs=("trafilatura",),
    ),
    Example(
        "chat_with_website_mcp",
        {"chat_with_website_mcp": f"{PW}/chat_with_website_mcp"},
        (status(), run({"urls": PAGES, "question": "How is Lambda billed?"}, pipeline="chat_with_website_mcp")),
        needs=("trafilatura",),
    ),
    Example(
        "chat_with_website_streaming",
        {"chat_with_website_streaming": f"{PW}/chat_with_website_streaming"},
        (
            status(),
            run(
                {"urls": PAGES[1:], "question": "When does a function initialise?"},
                pipeline="chat_with_website_streaming",
            ),
            *chat("chat_with_website_streaming", "When does a function initialise?"),
        ),
        needs=("trafilatura",),
    ),
    Example(
        "run_api_streaming",
        {"run_api_streaming": f"{PW}/run_api_streaming"},
        (status(), run({"question": "What is Haystack?", "urls": PAGES}, pipeline="run_api_streaming")),
        needs=("trafilatura",),
    ),
    Example(
        "api_key_auth_weather_agent",
        {"weather_agent": "programmatic/api_key_auth/pipelines/weather_agent"},
        (
            status(),
            run({"question": call("weather_tool", location="Rome")}, pipeline="weather_agent"),
            *chat("weather_agent", call("weather_tool", location="Rome")),
        ),
    ),
    Example(
        "durable_execution",
        {"durable_execution": "durable_execution/pipelines/durable_execution"},
        (status(), run({"value": 20, "require_approval": False}, pipeline="durable_execution")),
    ),
    Example(
        "durable_chat_with_website",
        {"durable_chat_with_website": "durable_chat_with_website/pipelines/durable_chat_with_website"},
        (status(), run({"urls": PAGES[:1], "question": "What is a pipeline?"}, pipeline="durable_chat_with_website")),
    ),
)

# Changes beyond the import rule, per file under examples/ (each `old` must occur exactly once):
# web addresses pointed at the fake web on loopback, and one 3-second sleep that only slows the suite down.
EDITS: dict[str, list[tuple[str, str]]] = {
    f"{PW}/chainlit_weather_agent/pipeline_wrapper.py": [
        ('"https://geocoding-api.open-meteo.com/v1/search"', '"{web}/geocoding/v1/search"'),
        ('"https://api.open-meteo.com/v1/forecast"', '"{web}/forecast/v1/forecast"'),
    ],
    f"{PW}/agent_codex/weather.py": [
        ('"https://geocoding-api.open-meteo.com/v1/search"', '"{web}/geocoding/v1/search"'),
        ('"https://api.open-meteo.com/v1/forecast"', '"{web}/forecast/v1/forecast"'),
    ],
    f"{PW}/chat_with_website/pipeline_wrapper.py": [
        (
            'URLS = ["https://haystack.deepset.ai", "https://www.redis.io", "https://ssi.inc"]',
            'URLS = ["{web}/pages/haystack.html", "{web}/pages/lambda.html"]',
        ),
    ],
    f"{PW}/chat_with_website_streaming/pipeline_wrapper.py": [
        (
            'URLS = ["https://haystack.deepset.ai", "https://www.redis.io", "https://ssi.inc"]',
            'URLS = ["{web}/pages/haystack.html", "{web}/pages/lambda.html"]',
        ),
    ],
    f"{PW}/open_webui_agent_on_tool_calls/pipeline_wrapper.py": [("time.sleep(3)", "time.sleep(0)")],
}

# The examples the suite does not serve, and why (docs/hayhooks-examples.md says the same).
SKIPPED: dict[str, str] = {
    "pipeline_wrappers/image_generation": "calls the Hugging Face Inference API (an internet service, with a token)",
    "rag_indexing_query": ("needs Elasticsearch and downloads sentence-transformers weights from the Hugging Face hub"),
    "a2a_multi_agent": (
        "needs two MCP tool servers and Hayhooks' A2A protocol routes (`hayhooks a2a run`), which this project "
        "does not serve, and fetches weather from Open-Meteo over the internet"
    ),
    "durable_fastapi": "needs Redis (Hayhooks' durable engine with its Redis store, embedded in a FastAPI app)",
    "programmatic/api_key_auth (app.py, auth.py)": (
        "a standalone server script (`create_app()` + `run_app()`); its pipeline, weather_agent, is served"
    ),
    "durable_streams.py, durable-compose.yaml": "a client script for durable mode and the Redis it needs",
}
