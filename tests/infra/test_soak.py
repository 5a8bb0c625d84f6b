"""`make soak`'s code paths, short: a few hundred invocations in a fresh process, a brief server run, and
the checks that must turn a wrong answer into an error."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from core.settings import Settings
from handler.entry import LambdaHandler
from infra.soak import (
    CASES,
    EXPECTED_PIPELINES,
    RSS_GROWTH_LIMIT,
    case_for,
    failures,
    percentile,
    run_in_process,
    soak_handler,
)
from tests.conftest import EXAMPLE_PIPELINES, EXAMPLES, ROOT


@pytest.fixture(scope="module")
def examples() -> LambdaHandler:
    return LambdaHandler(Settings(pipelines_dir=EXAMPLES))


def test_in_process_soak(tmp_path):
    per_kind = 50
    result = run_in_process(requests=per_kind * len(CASES), warmup=2 * len(CASES), work=tmp_path)
    assert result["requests"] == per_kind * len(CASES)
    assert result["errors"] == 0, result["first_errors"]
    assert {name: c["requests"] for name, c in result["per_case"].items()} == {c.name: per_kind for c in CASES}
    assert result["timed"] == (per_kind - 2) * len(CASES)  # the warm-up is not timed
    assert 0 < result["p50_ms"] <= result["p99_ms"]
    assert result["rss_warm_kb"] > 50_000 and result["rss_end_kb"] > 50_000  # haystack is loaded
    assert result["log_problems"] == []
    assert failures("in-process", result) == []


def test_server_soak(tmp_path):
    """`make soak`'s own command line, server part only: its client runs in a clean process (tests here patch
    httpx for X-Ray tracing)."""
    figures = tmp_path / "soak.json"
    command = [sys.executable, "-m", "infra.soak", "--only", "server", "--clients", "4", "--duration", "1"]
    proc = subprocess.run(
        [*command, "--json", str(figures), "--logs", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "all soaks passed" in proc.stdout
    result = json.loads(figures.read_text())["server"]
    assert result["errors"] == 0 and result["connection_errors"] == 0
    assert result["requests"] >= len(CASES) and result["requests_per_s"] > 0
    assert set(result["per_case"]) == {c.name for c in CASES}
    assert result["exit_code"] == 0  # uvicorn stopped cleanly on SIGINT
    assert failures("server", result) == []


def test_wrong_pipelines_are_errors(fixture_handler):
    """The fixture pipelines are not the examples: /status, search_docs, ... must be counted as errors."""
    result = soak_handler(fixture_handler, requests=2 * len(CASES), warmup=len(CASES))
    assert result["errors"] >= 2 * 5  # five of the seven kinds answer something else, each twice
    assert any("search_docs #0: status 404, wanted 200" in e for e in result["first_errors"])
    assert failures("in-process", result)


def test_crossed_replies_are_errors(examples):
    """A reply that belongs to another request (its input, its request id) is an error even with the right
    status: each invocation here is answered with the reply to the one before it of the same kind."""
    assert soak_handler(examples, requests=2 * len(CASES), warmup=len(CASES))["errors"] == 0
    previous: dict[str, dict] = {}

    def one_behind(event, context):
        kind = event["rawPath"]
        reply = examples(event, context)
        return previous.setdefault(kind, reply) if kind not in previous else previous.pop(kind)

    result = soak_handler(one_behind, requests=4 * len(CASES), warmup=len(CASES))
    assert result["errors"] > 0
    assert any("X-Request-Id" in e for e in result["first_errors"])


def test_mix_and_percentiles():
    assert [case_for(i).name for i in range(len(CASES))] == [c.name for c in CASES]
    assert {c.status for c in CASES} == {200, 404, 422}
    assert EXPECTED_PIPELINES == EXAMPLE_PIPELINES
    samples = [float(i) for i in range(1, 101)]
    assert (percentile(samples, 50), percentile(samples, 99), percentile(samples, 100)) == (50.0, 99.0, 100.0)
    assert percentile([3.0], 99) == 3.0


@pytest.mark.parametrize("growth", [RSS_GROWTH_LIMIT / 2, RSS_GROWTH_LIMIT * 2])
def test_rss_growth_limit(growth):
    result = {"requests": 10, "errors": 0, "first_errors": [], "log_problems": [], "rss_growth": growth}
    assert bool(failures("in-process", result)) == (growth > RSS_GROWTH_LIMIT)
