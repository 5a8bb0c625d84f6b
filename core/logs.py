"""Logging: JSON lines on Lambda, plain text under `make run`.

Every logger (ours, Haystack's, Mangum's, uvicorn's) goes through the root logger, so one format and one
level (`LOG` / `HAYHOOKS_LOG_LEVEL`) apply to all. `HAYHOOKS_LOG_FORMAT=json|text` overrides the choice.
Request bodies are never logged; secret values and token shapes are masked (core/redact.py).

The JSON lines have the keys Powertools' Logger writes (`level`, `location`, `message`, `timestamp`,
`service`, `xray_trace_id`, `exception`, `exception_name`, then the record's `extra` fields), so CloudWatch
Logs Insights queries written for Powertools work unchanged. They are built here: Powertools' formatter
costs about 14 µs a line, and importing it about 30 ms of cold start (it loads botocore and jmespath).
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

from core.redact import redact
from core.stdout_lines import install as install_stdout

# our own per-request line: method, path, status and ids, nothing a secret could be in; left out of the
# masking so that the warm path does not pay for it
_UNMASKED_LOGGERS = frozenset({"core.access"})
# attributes every LogRecord has: anything else on a record came from `extra=` and is written as a field
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonLinesFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

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
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES:
                entry[key] = _masked(record, value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
            entry["exception_name"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        if record.stack_info:
            entry["stack_trace"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, default=str, separators=(",", ":"))


class MaskedTextFormatter(logging.Formatter):
    """Plain-text lines (`make run`), secrets masked as in the JSON lines."""

    def format(self, record: logging.LogRecord) -> str:
        # continuation lines (a traceback, a CR/LF in a path) marked "| ": no line of text can pass for a
        # metric (CloudWatch reads a line that is a JSON document, leading spaces allowed, as EMF)
        text = _masked(record, super().format(record)).replace("\r", "\\r")
        return text.replace("\n", "\n| ")


def _masked(record: logging.LogRecord, text: str) -> str:
    return text if record.name in _UNMASKED_LOGGERS else redact(text)


def configure_logging(level: str, log_format: str | None = None) -> None:
    log_format = (
        log_format
        or os.environ.get("HAYHOOKS_LOG_FORMAT")
        or ("json" if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") else "text")
    )
    handler = logging.StreamHandler(install_stdout())  # a line of its own, whatever a wrapper printed
    if log_format == "json":
        handler.setFormatter(JsonLinesFormatter(os.environ.get("POWERTOOLS_SERVICE_NAME", "haystack-lambda")))
    else:
        handler.setFormatter(MaskedTextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    # replace, not add: the Lambda runtime installs its own plain-text handler on the root logger
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    if level != "DEBUG":
        # per-request noise above DEBUG: Haystack logs "Running component X" for every component of every
        # request, Mangum a line per request that the access log already writes with more fields
        for name in ("haystack.core.pipeline", "mangum.http"):
            logging.getLogger(name).setLevel(logging.WARNING)
