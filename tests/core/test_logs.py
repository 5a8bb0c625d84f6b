"""JSON log lines: Powertools' keys, the record's extra fields, exceptions, the X-Ray trace id."""

import json
import logging
import sys

from core.logs import JsonLinesFormatter


def _record(**extra) -> logging.LogRecord:
    record = logging.LogRecord("core.access", logging.INFO, "/x/access_log.py", 79, "%s %s", ("GET", "/status"), None)
    record.funcName = "__call__"
    record.__dict__.update(extra)
    return record


def test_keys_and_extra_fields(monkeypatch):
    monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    line = json.loads(JsonLinesFormatter("search-api").format(_record(status=200, pipeline=None, cold_start=True)))
    timestamp = line.pop("timestamp")
    assert line == {
        "level": "INFO",
        "location": "__call__:79",
        "message": "GET /status",
        "service": "search-api",
        "status": 200,
        "pipeline": None,
        "cold_start": True,
    }
    assert len(timestamp) == len("2026-11-25 19:34:13,701+0000") and timestamp.endswith("+0000")


def test_exception_and_trace_id(monkeypatch):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
    try:
        raise ValueError("bad value")
    except ValueError:
        record = _record()
        record.exc_info = sys.exc_info()
    line = json.loads(JsonLinesFormatter("svc").format(record))
    assert line["xray_trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    assert line["exception_name"] == "ValueError"
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert line["exception"].endswith("ValueError: bad value")


def test_values_json_cannot_encode_are_written_as_text():
    line = json.loads(JsonLinesFormatter("svc").format(_record(path_obj=sys, ids={1, 2})))
    assert line["path_obj"].startswith("<module 'sys'") and line["ids"] in ("{1, 2}", "{2, 1}")
