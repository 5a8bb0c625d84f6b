"""Logging: JSON lines on Lambda, plain text under `make run`.

Every logger (ours, Haystack's, Mangum's, uvicorn's) goes through the root logger, so one format and one
level (`LOG` / `HAYHOOKS_LOG_LEVEL`) apply to all. `HAYHOOKS_LOG_FORMAT=json|text` overrides the choice.
Request bodies are never logged; secret values and token shapes are masked (core/redact.py).

The JSON lines have the keys Powertools' Logger writes (`level`, `location`, `message`, `timestamp`,
`service`, `xray_trace_id`, `exception`, `exception_name`, then the record's `extra` fields), so CloudWatch
Logs Insights queries written for Powertools work unchanged. They are built here: Powertools' formatter
costs about 14 µs a line, and importing it about 30 ms of cold start (it loads botocore and jmespath).

While an invocation is served, every line (ours, Haystack's, a wrapper's) also carries that invocation's
fields, as Powertools' `inject_lambda_context` and `set_correlation_id` add them: `function_request_id`,
`correlation_id`, `cold_start`, `xray_trace_id`, the function's name/ARN/memory, and `pipeline` once the
request names one. They are held per process, not per task (`bind_invocation`): Lambda serves one
invocation at a time, and a line from a thread a pipeline starts must carry them too.

Level and format as Powertools resolves them: Lambda's Advanced Logging Controls (`AWS_LAMBDA_LOG_LEVEL`,
set from the function's `LoggingConfig.ApplicationLogLevel`) win, then an explicit `HAYHOOKS_LOG_LEVEL` /
`LOG`, then `POWERTOOLS_LOG_LEVEL` (and its legacy `LOG_LEVEL`), then INFO. On Lambda the runtime's own
handler stays on the root logger and gets this formatter: it writes each line as one framed record (a
multi-line message stays one CloudWatch event) and, with `LoggingConfig.LogFormat: JSON`, tags it with
its level so Lambda can filter it.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from core.redact import redact
from core.request_context import current_pipeline
from core.stdout_lines import install as install_stdout

# our own per-request line: method, path, status and ids, nothing a secret could be in; left out of the
# masking so that the warm path does not pay for it
_UNMASKED_LOGGERS = frozenset({"core.access"})

# attributes every LogRecord has: anything else on a record came from `extra=` and is written as a field.
# The runtime's filter adds aws_request_id and tenant_id (written as function_request_id here), its
# framed handler reads _frame_type.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "aws_request_id",
    "tenant_id",
    "_frame_type",
}
# Lambda's log levels (Advanced Logging Controls) in Python's names
_LAMBDA_LEVELS = {"TRACE": "DEBUG", "DEBUG": "DEBUG", "INFO": "INFO", "WARN": "WARNING", "ERROR": "ERROR"}
_LAMBDA_LEVELS |= {"WARNING": "WARNING", "FATAL": "CRITICAL", "CRITICAL": "CRITICAL"}
# the runtime's framed-log protocol: a JSON record's frame type carries its level
_JSON_FRAME_TYPES = {
    level: code.to_bytes(4, "big")
    for level, code in {0: 0xA55A0002, 10: 0xA55A000A, 20: 0xA55A000E, 30: 0xA55A0012, 40: 0xA55A0016}.items()
} | {50: 0xA55A001A.to_bytes(4, "big")}
_RUNTIME_HANDLERS = {"LambdaLoggerHandler", "LambdaLoggerHandlerWithFrameType"}

# the fields of the invocation being served (empty between invocations); see the module docstring
_invocation: dict[str, Any] = {}


def bind_invocation(**fields: Any) -> None:
    """Every line from now on carries these fields (None values are left out)."""
    global _invocation
    _invocation = {k: v for k, v in fields.items() if v is not None}


def update_invocation(**fields: Any) -> None:
    global _invocation
    _invocation = {**_invocation, **{k: v for k, v in fields.items() if v is not None}}


def clear_invocation() -> None:
    global _invocation
    _invocation = {}


class JsonLinesFormatter(logging.Formatter):
    def __init__(self, service: str, *, line_end: str = "", frame_types: bool = False) -> None:
        super().__init__()
        self.service = service
        self.line_end = line_end  # the runtime's handler writes what it is given, newline included
        self.frame_types = frame_types  # tag records for the runtime's framed handler (JSON log format)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "level": record.levelname,
            "location": f"{record.funcName}:{record.lineno}",
            "message": _masked(record, record.getMessage()),
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(record.created))
            + f",{int(record.msecs):03d}+0000",
            "service": self.service,
        }
        trace = os.environ.get("_X_AMZN_TRACE_ID")  # set by Lambda per invocation when tracing is active
        if trace:
            entry["xray_trace_id"] = trace.split(";", 1)[0].removeprefix("Root=")
        entry.update(_invocation)
        if pipeline := current_pipeline.get():
            entry["pipeline"] = pipeline
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES:
                entry[key] = _masked(record, value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
            entry["exception_name"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        if record.stack_info:
            entry["stack_trace"] = redact(self.formatStack(record.stack_info))
        if self.frame_types:
            record._frame_type = _JSON_FRAME_TYPES[min(50, max(0, record.levelno)) // 10 * 10]
        return json.dumps(entry, default=str, separators=(",", ":")) + self.line_end


class MaskedTextFormatter(logging.Formatter):
    """Plain-text lines (`make run`), secrets masked as in the JSON lines."""

    def __init__(self, *, line_end: str = "") -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.line_end = line_end  # the runtime's handler writes what it is given, newline included

    def format(self, record: logging.LogRecord) -> str:
        # continuation lines (a traceback, a CR/LF in a path) marked "| ": no line of text can pass for a
        # metric (CloudWatch reads a line that is a JSON document, leading spaces allowed, as EMF)
        text = _masked(record, super().format(record)).replace("\r", "\\r")
        return text.replace("\n", "\n| ") + self.line_end


def _masked(record: logging.LogRecord, text: str) -> str:
    return text if record.name in _UNMASKED_LOGGERS else redact(text)


def configure_logging(level: str, log_format: str | None = None) -> None:
    env = os.environ
    level, mismatch = resolve_level(level, env)
    lambda_json = env.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"
    on_lambda = bool(env.get("AWS_LAMBDA_FUNCTION_NAME"))
    log_format = log_format or env.get("HAYHOOKS_LOG_FORMAT") or ("json" if on_lambda else "text")
    overridden = lambda_json and log_format != "json"
    if lambda_json:
        log_format = "json"  # the function's LoggingConfig says JSON: a text line would break its records
    service = env.get("POWERTOOLS_SERVICE_NAME", "haystack-lambda")
    root = logging.getLogger()
    runtime = [h for h in root.handlers if type(h).__name__ in _RUNTIME_HANDLERS]
    if runtime:
        # keep Lambda's handler (framing, level tags for log filtering); drop any other
        for existing in list(root.handlers):
            if existing not in runtime:
                root.removeHandler(existing)
        for handler in runtime:
            if log_format == "json":
                handler.setFormatter(JsonLinesFormatter(service, line_end="\n", frame_types=lambda_json))
            else:
                handler.setFormatter(MaskedTextFormatter(line_end="\n"))
    else:
        handler = logging.StreamHandler(install_stdout())  # a line of its own, whatever a wrapper printed
        if log_format == "json":
            handler.setFormatter(JsonLinesFormatter(service))
        else:
            handler.setFormatter(MaskedTextFormatter())
        for existing in list(root.handlers):
            root.removeHandler(existing)
        root.addHandler(handler)
    root.setLevel(level)
    if level != "DEBUG":
        # per-request noise above DEBUG: Haystack logs "Running component X" for every component of every
        # request, Mangum a line per request that the access log already writes with more fields
        for name in ("haystack.core.pipeline", "mangum.http"):
            logging.getLogger(name).setLevel(logging.WARNING)
    if mismatch:
        logging.getLogger("core.logs").warning(mismatch)
    if overridden:
        logging.getLogger("core.logs").warning("HAYHOOKS_LOG_FORMAT ignored: the function's log format is JSON")


def resolve_level(configured: str, environ: Mapping[str, str]) -> tuple[str, str | None]:
    """The level to log at, and a warning when Lambda's log level drops lines the configured one keeps.

    `configured` is the settings' level (HAYHOOKS_LOG_LEVEL / LOG, or INFO when neither is set)."""
    level = configured
    if not any(environ.get(name, "").strip() for name in ("HAYHOOKS_LOG_LEVEL", "LOG")):
        for name in ("POWERTOOLS_LOG_LEVEL", "LOG_LEVEL"):
            if wanted := _LAMBDA_LEVELS.get(environ.get(name, "").strip().upper()):
                level = wanted
                break
    lambda_level = _LAMBDA_LEVELS.get(environ.get("AWS_LAMBDA_LOG_LEVEL", "").strip().upper())
    if not lambda_level:
        return level, None
    mismatch = None
    if logging.getLevelName(lambda_level) > logging.getLevelName(level):
        mismatch = (
            f"Log level {level} is lower than the function's application log level {lambda_level} "
            "(LoggingConfig): Lambda's level applies, lines below it are not written"
        )
    return lambda_level, mismatch
