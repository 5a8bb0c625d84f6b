"""Every log line written while an invocation is served carries its ids; Powertools' level settings;
the README's CloudWatch Logs Insights queries applied to the lines captured here."""

import io
import json
import logging
import re
import types

import pytest

from core.logs import JsonLinesFormatter, configure_logging, resolve_level
from handler.entry import LambdaHandler
from infra.lambda_events import Context, http_v2
from tests.cold import ROOT
from tests.conftest import fixture_settings

TRACED = ROOT / "tests" / "fixtures" / "traced"
XRAY_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith('{"level"')]


class _Captured:
    """What the log handler writes, read the way logs is read (the handler keeps the stream it was given
    at configuration, so it writes here rather than to whichever stdout pytest swaps in later)."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()

    def readouterr(self):
        out, self.buffer = self.buffer.getvalue(), io.StringIO()
        for handler in logging.getLogger().handlers:
            if isinstance(handler.formatter, JsonLinesFormatter):
                handler.setStream(self.buffer)
        return types.SimpleNamespace(out=out)


@pytest.fixture
def logs():
    return _Captured()


@pytest.fixture
def served(monkeypatch, logs):
    """A handler logging as on Lambda (JSON lines on stdout), its init's output already read."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "haystack-lambda-test")
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    for name in ("HAYHOOKS_LOG_FORMAT", "AWS_LAMBDA_LOG_FORMAT", "AWS_LAMBDA_LOG_LEVEL", "POWERTOOLS_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    handler = LambdaHandler(fixture_settings(pipelines_dir=TRACED))
    logs.readouterr()
    yield handler
    configure_logging("INFO", "text")


def test_every_line_of_a_failing_invocation_carries_both_request_ids(served, logs, monkeypatch):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", XRAY_HEADER)
    event, context = http_v2("POST", "/two_step/run", body={"name": "boom"}), Context()
    assert served(event, context)["statusCode"] == 500
    lines = _lines(logs.readouterr().out)
    messages = {line["message"] for line in lines}
    # the wrapper's, the component's, a thread's of its own, the app's error and its access line
    assert {"greeting requested", "shouting 10 characters", "worker ran"} <= messages
    assert "Pipeline 'two_step' failed" in messages and "POST /two_step/run 500" in messages
    for line in lines:
        assert line["function_request_id"] == context.aws_request_id, line
        assert line["correlation_id"] == event["requestContext"]["requestId"], line
        assert line["cold_start"] is True and line["pipeline"] == "two_step", line
        assert line["xray_trace_id"] == "1-5759e988-bd862e3fe1be46a994272793", line
        assert line["function_name"] == context.function_name and line["function_memory_size"] == 1024
    (error,) = [line for line in lines if line["level"] == "ERROR"]
    assert error["exception_name"] == "PipelineRuntimeError" and "shout component failed" in error["exception"]

    # the next invocation: its own ids, not a cold start; nothing carried over between invocations
    monkeypatch.delenv("_X_AMZN_TRACE_ID")
    second = Context()
    served(http_v2("GET", "/status"), second)
    later = _lines(logs.readouterr().out)
    assert later and all(line["function_request_id"] == second.aws_request_id for line in later)
    assert all(line["cold_start"] is False and "pipeline" not in line and "xray_trace_id" not in line for line in later)
    logging.getLogger("after").warning("between invocations")
    (between,) = _lines(logs.readouterr().out)
    assert "function_request_id" not in between


def _insights_queries() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    return re.findall(r"<!-- logs-insights-query -->\s*```\w*\n(.*?)```", readme, re.S)


def _apply(query: str, lines: list[dict]) -> list[dict]:
    """The field filters and the `stats count(*) by` of a Logs Insights query, applied to JSON lines
    (Logs Insights discovers a JSON line's top-level keys as fields)."""
    rows = lines
    for command in (part.strip() for part in query.split("|")):
        if command.startswith("filter "):
            for clause in command.removeprefix("filter ").split(" and "):
                clause = clause.strip()
                if present := re.fullmatch(r"ispresent\((\w+)\)", clause):
                    rows = [r for r in rows if present.group(1) in r]
                elif equal := re.fullmatch(r'(\w+)\s*=\s*"([^"]*)"', clause):
                    rows = [r for r in rows if str(r.get(equal.group(1))) == equal.group(2)]
                else:
                    raise AssertionError(f"the test cannot apply {clause!r}")
        elif command.startswith("stats count(*) by "):
            field = command.removeprefix("stats count(*) by ").strip()
            counts: dict = {}
            for r in rows:
                counts[r.get(field)] = counts.get(r.get(field), 0) + 1
            rows = [{field: k, "count(*)": v} for k, v in counts.items()]
    return rows


def test_readme_logs_insights_queries_on_captured_lines(served, logs):
    queries = _insights_queries()
    assert len(queries) == 2
    failing, ok = Context(), Context()
    served(http_v2("POST", "/two_step/run", body={"name": "boom"}), failing)
    served(http_v2("POST", "/two_step/run", body={"name": "ada"}), ok)
    lines = _lines(logs.readouterr().out)
    one_request, errors_by_pipeline = queries
    rows = _apply(one_request.replace("<request id>", failing.aws_request_id), lines)
    assert {r["message"] for r in rows} >= {"greeting requested", "worker ran", "Pipeline 'two_step' failed"}
    assert len(rows) == len([line for line in lines if line["function_request_id"] == failing.aws_request_id])
    assert _apply(errors_by_pipeline, lines) == [{"pipeline": "two_step", "count(*)": 1}]


@pytest.mark.parametrize(
    ("env", "level", "warned"),
    [
        ({}, "INFO", False),
        ({"POWERTOOLS_LOG_LEVEL": "debug"}, "DEBUG", False),
        ({"LOG_LEVEL": "ERROR"}, "ERROR", False),  # Powertools' legacy name
        ({"POWERTOOLS_LOG_LEVEL": "DEBUG", "HAYHOOKS_LOG_LEVEL": "WARNING"}, "WARNING", False),  # explicit wins
        ({"AWS_LAMBDA_LOG_LEVEL": "WARN", "POWERTOOLS_LOG_LEVEL": "DEBUG"}, "WARNING", True),  # ALC wins
        ({"AWS_LAMBDA_LOG_LEVEL": "TRACE"}, "DEBUG", False),
        ({"AWS_LAMBDA_LOG_LEVEL": "FATAL"}, "CRITICAL", True),
    ],
)
def test_level_resolved_as_powertools_resolves_it(env, level, warned):
    configured = env.get("HAYHOOKS_LOG_LEVEL", "INFO")
    resolved, warning = resolve_level(configured, env)
    assert resolved == level and bool(warning) is warned


class LambdaLoggerHandlerWithFrameType(logging.Handler):
    """Stands in for the handler Lambda's Python runtime puts on the root logger (same class name): it
    writes what the formatter returns, framed with the record's `_frame_type`."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[tuple[bytes, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = self.format(record)
        self.frames.append((getattr(record, "_frame_type", b"text"), message))


def test_lambda_runtime_handler_kept_with_json_frames(monkeypatch):
    root = logging.getLogger()
    saved = list(root.handlers)
    runtime = LambdaLoggerHandlerWithFrameType()
    other = logging.StreamHandler()
    for handler in saved:
        root.removeHandler(handler)
    root.addHandler(runtime)
    root.addHandler(other)
    monkeypatch.setenv("AWS_LAMBDA_LOG_FORMAT", "JSON")
    monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", "WARN")
    monkeypatch.setenv("HAYHOOKS_LOG_FORMAT", "text")
    try:
        configure_logging("DEBUG")
        assert root.handlers == [runtime] and root.level == logging.WARNING
        logging.getLogger("x").error("first\nsecond")
        logging.getLogger("x").info("dropped below Lambda's level")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved:
            root.addHandler(handler)
    frames = [(kind, json.loads(text)) for kind, text in runtime.frames]
    assert [f[1]["level"] for f in frames] == ["WARNING", "WARNING", "ERROR"]  # two warnings: level, format
    assert "lower than the function's application log level WARNING" in frames[0][1]["message"]
    assert frames[1][1]["message"] == "HAYHOOKS_LOG_FORMAT ignored: the function's log format is JSON"
    assert frames[2] == (0xA55A0016.to_bytes(4, "big"), frames[2][1]) and frames[2][1]["message"] == "first\nsecond"
    assert all(text.endswith("}\n") and text.count("\n") == 1 for _, text in runtime.frames)


def test_formatter_carries_the_pipeline_of_the_current_request():
    from core.request_context import current_pipeline

    token = current_pipeline.set("search")
    try:
        record = logging.LogRecord("haystack.x", logging.INFO, __file__, 1, "m", None, None)
        assert json.loads(JsonLinesFormatter("svc").format(record))["pipeline"] == "search"
    finally:
        current_pipeline.reset(token)
