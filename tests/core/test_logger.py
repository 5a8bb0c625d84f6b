"""`log` (core/logger.py): loguru's calls, written as this project's JSON lines."""

from __future__ import annotations

import inspect
import io
import json
import logging

import pytest

from core.logger import log
from core.logs import JsonLinesFormatter


@pytest.fixture
def lines():
    """The JSON lines this module's logger writes, at DEBUG."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLinesFormatter("test"))
    logger = logging.getLogger(__name__)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
        logger.propagate = True


def test_every_level_method_writes_a_line_with_its_level_name(lines):
    for method in ("trace", "debug", "info", "success", "warning", "error", "critical"):
        getattr(log, method)("{} says {}", method, "hi")
        line = inspect.currentframe().f_lineno - 1
    written = lines()
    assert [line["level"] for line in written] == [
        "TRACE",  # loguru's trace, logged at DEBUG: it must not fail (a stdlib logger has no .trace)
        "DEBUG",
        "INFO",
        "SUCCESS",
        "WARNING",
        "ERROR",
        "CRITICAL",
    ]
    assert written[0]["message"] == "trace says hi"
    # the caller's function and line, as loguru records them
    assert written[0]["location"] == f"test_every_level_method_writes_a_line_with_its_level_name:{line}"


def test_braces_are_left_alone_without_arguments(lines):
    log.info("a dict: {'a': 1}")
    assert lines()[0]["message"] == "a dict: {'a': 1}"


def test_keyword_arguments_format_and_become_fields(lines):
    log.info("user {user} asked", user="ada")
    (line,) = lines()
    assert line["message"] == "user ada asked" and line["user"] == "ada"


def test_bind_and_contextualize_add_fields(lines):
    bound = log.bind(pipeline="chat", request="r1")
    with log.contextualize(trace_id="abc"):
        bound.warning("slow")
    log.info("plain")
    first, second = lines()
    assert (first["pipeline"], first["request"], first["trace_id"]) == ("chat", "r1", "abc")
    assert "pipeline" not in second and "trace_id" not in second


def test_a_field_named_like_a_record_attribute_does_not_break_logging(lines):
    log.bind(name="x", message="y").info("ok")
    (line,) = lines()
    assert line["message"] == "ok" and line["extra_name"] == "x" and line["extra_message"] == "y"


def test_opt_colors_strips_markup_and_lazy_calls_arguments(lines):
    log.opt(colors=True).info("<yellow>[weather]</yellow> <fg #BBBBBB>{}</fg #BBBBBB> \\<b>", "Rome")
    log.opt(lazy=True).debug("expensive: {}", lambda: 6 * 7)
    first, second = lines()
    assert first["message"] == "[weather] Rome <b>"
    assert second["message"] == "expensive: 42"


def test_exception_and_opt_exception_carry_the_traceback(lines):
    try:
        raise ZeroDivisionError("division by zero")
    except ZeroDivisionError as exc:
        log.exception("failed {}", "here")
        log.opt(exception=exc).warning("again")
    first, second = lines()
    assert first["level"] == "ERROR" and first["exception_name"] == "ZeroDivisionError"
    assert "division by zero" in first["exception"] and second["exception_name"] == "ZeroDivisionError"


def test_a_message_that_does_not_format_is_logged_not_raised(lines):
    log.info("missing {key}", 1)
    assert lines()[0]["message"] == "missing {key} 1"


def test_disabled_levels_cost_no_formatting(lines):
    logging.getLogger(__name__).setLevel(logging.INFO)

    class Loud:
        def __format__(self, spec):
            raise AssertionError("formatted although DEBUG is off")

    log.debug("{}", Loud())
    log.trace("{}", Loud())
    assert lines() == []


def test_level_catch_and_sink_calls_are_accepted(lines):
    assert log.level("INFO").no == 20
    assert log.level("AUDIT", no=22).name == "AUDIT"
    log.log("AUDIT", "audited {}", 1)
    assert log.add(lambda message: None) == 0 and log.remove() is None

    @log.catch
    def fails():
        raise ValueError("boom")

    assert fails() is None
    with pytest.raises(KeyError), log.catch(reraise=True):
        raise KeyError("k")
    levels = [(line["level"], line.get("exception_name")) for line in lines()]
    assert levels == [("AUDIT", None), ("ERROR", "ValueError"), ("ERROR", "KeyError")]


def test_it_goes_through_the_root_logger_by_default(caplog):
    with caplog.at_level(logging.INFO):
        log.info("through {}", "logging")
    assert [(r.name, r.getMessage()) for r in caplog.records] == [(__name__, "through logging")]
