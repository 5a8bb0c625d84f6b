"""`make soak`: three bounded load and soak runs on loopback, each failing on any error.

1. **in-process**: `handler.lambda_handler` called N times (default 10,000) with API Gateway HTTP API v2
   events, in a fresh process cold-started on the baked-in pipelines. RSS is read after the warm-up
   (default 1,000 requests) and at the end; growth above 5 % fails.
2. **server**: `python -m core` (what `make run` starts, uvicorn) on 127.0.0.1 and a free port, under C
   concurrent clients (default 32) for D seconds (default 30), with an asyncio httpx client.
3. **emulator**: M sequential invocations (default 500) under the Lambda Runtime Interface Emulator
   (infra/emulator.py), against the source tree or the artifact in `$LAMBDA_ARTIFACT` (sam build's output).

All three send the same mix of requests (`CASES`): search_docs, greeting (YAML), prompt_builder (async),
a file_stats multipart upload, /status, a 422 bad input and a 404. Each reply is checked against what that
request must answer, including that its body echoes the request's own input and that its X-Request-Id is
the invocation's own, so a reply crossed between requests counts as an error like a wrong status does.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
# the project's copies of the examples: pipelines/ is the user's folder
PIPELINES = ROOT / "tests" / "fixtures" / "examples"
# what `/status` must list (an artifact may hold more): the example pipelines, all of which load offline
EXPECTED_PIPELINES = ["bedrock_chat", "chat_with_docs", "file_stats", "greeting", "prompt_builder", "search_docs"]
RSS_GROWTH_LIMIT = 0.05
ERRORS_KEPT = 10  # first error messages kept for the report


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _json(method: str, path: str, body: dict) -> Request:
    return Request(method, path, {"content-type": "application/json"}, json.dumps(body).encode())


def _multipart(path: str, data: dict[str, str], files: list[tuple[str, tuple[str, bytes]]]) -> Request:
    built = httpx.Request("POST", f"http://soak{path}", data=data, files=files)
    return Request("POST", path, {"content-type": built.headers["content-type"]}, built.read())


def _status_request(i: int) -> Request:
    return Request("GET", "/status")


def _status_check(reply: Reply, i: int) -> str | None:
    body = reply.json()
    if not set(EXPECTED_PIPELINES) <= set(body.get("pipelines") or ()) or body.get("failed") != []:
        return f"pipelines {body.get('pipelines')}, failed {body.get('failed')}"
    return None


def _search_request(i: int) -> Request:
    return _json("POST", "/search_docs/run", {"query": "lambda cold start", "top_k": 1 + i % 3})


def _search_check(reply: Reply, i: int) -> str | None:
    result = reply.json()["result"]
    if len(result) != 1 + i % 3 or "cold start" not in result[0]["content"]:
        return f"wanted {1 + i % 3} documents about cold starts, got {result!r:.200}"
    return None


def _greeting_request(i: int) -> Request:
    return _json("POST", "/greeting/run", {"name": f"user-{i}", "place": "Lambda"})


def _greeting_check(reply: Reply, i: int) -> str | None:
    prompt = reply.json()["result"]["greeting_builder"]["prompt"]
    return None if prompt == f"Hello user-{i}, welcome to Lambda!" else f"greeting for user-{i}: {prompt!r}"


def _prompt_request(i: int) -> Request:
    return _json("POST", "/prompt_builder/run", {"question": f"Why {i}?", "max_words": i % 100 + 1})


def _prompt_check(reply: Reply, i: int) -> str | None:
    prompt = reply.json()["result"]
    wanted = f"at most {i % 100 + 1} words.\nQuestion: Why {i}?\n"
    return None if wanted in prompt else f"prompt for question {i}: {prompt!r}"


def _file_words(i: int) -> int:
    return 50 + i % 200


def _file_request(i: int) -> Request:
    text = " ".join(f"w{i}" for _ in range(_file_words(i))).encode()
    return _multipart("/file_stats/run", {"encoding": "utf-8"}, [("files", (f"doc-{i}.txt", text))])


def _file_check(reply: Reply, i: int) -> str | None:
    words = _file_words(i)
    wanted = [{"name": f"doc-{i}.txt", "bytes": words * len(f"w{i} ") - 1, "words": words, "chunks": -(-words // 100)}]
    result = reply.json()["result"]
    return None if result == wanted else f"file stats {result!r}, wanted {wanted!r}"


def _bad_input_request(i: int) -> Request:
    return _json("POST", "/greeting/run", {"name": f"user-{i}"})


def _bad_input_check(reply: Reply, i: int) -> str | None:
    detail = reply.json()["detail"]
    return None if detail[0]["loc"] == ["body", "place"] else f"422 detail {detail!r}"


def _not_found_request(i: int) -> Request:
    return _json("POST", f"/no_such_pipeline_{i % 7}/run", {"query": "x"})


def _not_found_check(reply: Reply, i: int) -> str | None:
    return None if "detail" in reply.json() else f"404 body {reply.body[:200]!r}"


@dataclass(frozen=True)
class Case:
    name: str
    status: int
    make: Callable[[int], Request]
    check: Callable[[Reply, int], str | None]


CASES = (
    Case("search_docs", 200, _search_request, _search_check),
    Case("greeting", 200, _greeting_request, _greeting_check),
    Case("prompt_builder", 200, _prompt_request, _prompt_check),
    Case("file_stats", 200, _file_request, _file_check),
    Case("status", 200, _status_request, _status_check),
    Case("bad_input_422", 422, _bad_input_request, _bad_input_check),
    Case("not_found_404", 404, _not_found_request, _not_found_check),
)


def case_for(i: int) -> Case:
    return CASES[i % len(CASES)]


def problem(case: Case, reply: Reply, i: int, request_id: str | None = None) -> str | None:
    """What is wrong with `reply` to request `i` of `case`, or None."""
    if reply.status != case.status:
        return f"{case.name} #{i}: status {reply.status}, wanted {case.status}: {reply.body[:300]!r}"
    got_id = reply.headers.get("x-request-id", "")
    if not got_id or (request_id is not None and got_id != request_id):
        return f"{case.name} #{i}: X-Request-Id {got_id!r}, wanted {request_id or 'one'!r}"
    try:
        wrong = case.check(reply, i)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        wrong = f"unreadable body ({type(exc).__name__}: {exc}): {reply.body[:300]!r}"
    return f"{case.name} #{i}: {wrong}" if wrong else None


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of `samples`."""
    ordered = sorted(samples)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


@dataclass
class Tally:
    """Requests and errors of one soak, and latencies (ms) per case of the requests timed."""

    per_case: Counter = field(default_factory=Counter)
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    error_count: int = 0
    errors: list[str] = field(default_factory=list)

    def record(self, case: Case, elapsed_ms: float, error: str | None) -> None:
        self.per_case[case.name] += 1
        self.latencies_ms.setdefault(case.name, []).append(elapsed_ms)
        if error:
            self.error_count += 1
            if len(self.errors) < ERRORS_KEPT:
                self.errors.append(error)

    def summary(self) -> dict[str, Any]:
        every = [ms for samples in self.latencies_ms.values() for ms in samples] or [0.0]
        return {
            "requests": sum(self.per_case.values()),
            "errors": self.error_count,
            "first_errors": self.errors,
            "timed": len(every),
            "p50_ms": percentile(every, 50),
            "p99_ms": percentile(every, 99),
            "per_case": {
                name: {"requests": count, "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99)}
                for name, count in sorted(self.per_case.items())
                if (lat := self.latencies_ms.get(name))
            },
        }


def rss_kb(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def _soak_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAYHOOKS_")}
    env.update(HAYSTACK_TELEMETRY_ENABLED="False", HAYHOOKS_PIPELINES_DIR=str(PIPELINES), PYTHONPATH=str(ROOT))
    env.update(extra)
    return env


def _log_problems(text: str) -> list[str]:
    """Lines of a log that report a fault: tracebacks and ERROR/CRITICAL records."""
    fault = re.compile(r"Traceback \(most recent call last\)|\b(ERROR|CRITICAL)\b")
    return [line[:300] for line in text.splitlines() if fault.search(line)]


# ---------------------------------------------------------------------------------------------------------
# 1. in-process


def lambda_event(request: Request) -> dict:
    from infra.lambda_events import http_v2

    return http_v2(request.method, request.path, body=request.body or None, headers=request.headers)


def lambda_reply(result: dict) -> Reply:
    from infra.lambda_events import parse

    parsed = parse(result)
    return Reply(parsed.status, parsed.headers, parsed.body)


def soak_handler(handler: Callable[[dict, Any], dict], requests: int, warmup: int) -> dict[str, Any]:
    """Call `handler` `requests` times over the case mix; latencies count after the first `warmup`."""
    from infra.lambda_events import Context

    tally = Tally()
    rss_warm = 0
    for i in range(requests):
        if i == warmup:  # latencies and RSS growth count from here
            gc.collect()
            rss_warm = rss_kb()
            tally.latencies_ms.clear()
        case = case_for(i)
        event, context = lambda_event(case.make(i)), Context()
        started = time.perf_counter_ns()
        result = handler(event, context)
        elapsed_ms = (time.perf_counter_ns() - started) / 1e6
        tally.record(case, elapsed_ms, problem(case, lambda_reply(result), i, context.aws_request_id))
    gc.collect()
    rss_end = rss_kb()
    rss_warm = rss_warm or rss_end
    return {
        **tally.summary(),
        "warmup": warmup,
        "rss_warm_kb": rss_warm,
        "rss_end_kb": rss_end,
        "rss_growth": rss_end / rss_warm - 1,
    }


def _child_in_process(out: Path, requests: int, warmup: int) -> None:
    """Runs in the fresh process: the cold start is reading `handler.lambda_handler`, as on Lambda."""
    import handler

    out.write_text(json.dumps(soak_handler(handler.lambda_handler, requests, warmup)))


def run_in_process(requests: int, warmup: int, work: Path) -> dict[str, Any]:
    out, log = work / "in-process.json", work / "in-process.log"
    counts = ["--requests", str(requests), "--warmup", str(warmup)]
    started = time.perf_counter()
    with log.open("wb") as sink:
        proc = subprocess.run(
            [sys.executable, "-m", "infra.soak", "--child-in-process", str(out), *counts],
            cwd=ROOT,
            env=_soak_env(),
            stdout=sink,
            stderr=subprocess.STDOUT,
            timeout=600,
        )
    text = log.read_text(errors="replace")
    if proc.returncode != 0 or not out.exists():
        raise SoakError(f"in-process soak exited with {proc.returncode}: {text[-3000:]}")
    result = json.loads(out.read_text())
    result["wall_s"] = time.perf_counter() - started
    result["log_problems"] = _log_problems(text)
    return result


# ---------------------------------------------------------------------------------------------------------
# 2. the `make run` server


async def _load(base_url: str, clients: int, duration_s: float) -> tuple[Tally, int, float]:
    """`clients` workers, each with its own keep-alive connection, sending the case mix until the deadline."""
    tally = Tally()
    counter = iter(range(10**12))
    connection_errors = 0
    request_ids: set[str] = set()  # off Lambda each response gets a fresh UUID: a repeat is a crossed reply
    started = time.perf_counter()
    deadline = started + duration_s

    async def worker() -> None:
        nonlocal connection_errors
        # one client (one connection) per worker: a shared pool of many connections costs httpx more CPU
        # than the server spends answering, and the soak would measure the client
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
            while time.perf_counter() < deadline:
                i = next(counter)
                case = case_for(i)
                request = case.make(i)
                sent = time.perf_counter_ns()
                try:
                    response = await client.request(
                        request.method, request.path, headers=request.headers, content=request.body
                    )
                except httpx.HTTPError as exc:
                    connection_errors += 1
                    elapsed_ms = (time.perf_counter_ns() - sent) / 1e6
                    tally.record(case, elapsed_ms, f"{case.name} #{i}: {type(exc).__name__}: {exc}")
                    continue
                elapsed_ms = (time.perf_counter_ns() - sent) / 1e6
                reply = Reply(response.status_code, dict(response.headers), response.content)
                error = problem(case, reply, i)
                request_id = reply.headers.get("x-request-id", "")
                if not error and request_id in request_ids:
                    error = f"{case.name} #{i}: X-Request-Id {request_id} was already given to another response"
                request_ids.add(request_id)
                tally.record(case, elapsed_ms, error)

    await asyncio.gather(*(worker() for _ in range(clients)))
    return tally, connection_errors, time.perf_counter() - started


def _wait_until_serving(base_url: str, proc: subprocess.Popen, log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SoakError(f"the server exited with {proc.returncode}: {log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"{base_url}/status", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise SoakError(f"the server did not answer /status within {timeout_s:.0f} s")


def run_server(clients: int, duration_s: float, work: Path) -> dict[str, Any]:
    from infra.emulator import free_port

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = work / "server.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "core"],
            cwd=ROOT,
            env=_soak_env(HAYHOOKS_HOST="127.0.0.1", HAYHOOKS_PORT=str(port)),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_serving(base_url, proc, log)
        rss_start = rss_kb(proc.pid)
        tally, connection_errors, elapsed = asyncio.run(_load(base_url, clients, duration_s))
        rss_end = rss_kb(proc.pid)
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C, as `make run` is stopped
        try:
            exit_code = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            exit_code = proc.wait()
            raise SoakError("the server did not stop within 15 s of SIGINT") from None
    text = log.read_text(errors="replace")
    return {
        **tally.summary(),
        "clients": clients,
        "duration_s": elapsed,
        "connection_errors": connection_errors,
        "requests_per_s": sum(tally.per_case.values()) / elapsed,
        "rss_start_kb": rss_start,
        "rss_end_kb": rss_end,
        "exit_code": exit_code,
        "log_problems": _log_problems(text),
    }


# ---------------------------------------------------------------------------------------------------------
# 3. the Lambda Runtime Interface Emulator


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def runtime_pid(emulator_pid: int) -> int | None:
    """The runtime process (`python -m awslambdaric`) the emulator started, if it can be seen in /proc."""
    for pid in _descendants(emulator_pid):
        try:
            if b"awslambdaric" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        except OSError:
            continue
    return None


def run_emulator(invocations: int, work: Path) -> dict[str, Any]:
    from infra.emulator import Emulator

    given = os.environ.get("LAMBDA_ARTIFACT")
    if given:
        artifact, env, source = Path(given), {}, f"artifact {given}"
        kwargs: dict[str, Any] = {}
    else:
        # the source tree, its dependencies from this venv; writable (the source tree may compile .pyc)
        site = sysconfig.get_paths()["purelib"]
        artifact, source = ROOT, "source tree"
        env = {"PYTHONPATH": f"{ROOT}:{site}", "HAYHOOKS_PIPELINES_DIR": str(PIPELINES)}
        kwargs = {"read_only": False}
    log = work / "emulator.log"
    emulator = Emulator(artifact, env, log, **kwargs)
    tally = Tally()
    rss_first = rss_end = None
    first_ms = 0.0
    try:
        with httpx.Client(timeout=60) as client:
            url = f"http://127.0.0.1:{emulator.port}/2015-03-31/functions/function/invocations"
            for i in range(invocations):
                case = case_for(i)
                event = lambda_event(case.make(i))
                sent = time.perf_counter_ns()
                try:
                    result = client.post(url, content=json.dumps(event)).json()
                    elapsed_ms = (time.perf_counter_ns() - sent) / 1e6
                    error = problem(case, lambda_reply(result), i)
                except (httpx.HTTPError, ValueError, KeyError) as exc:
                    elapsed_ms = (time.perf_counter_ns() - sent) / 1e6
                    error = f"{case.name} #{i}: {type(exc).__name__}: {exc}"
                tally.record(case, elapsed_ms, error)
                if i == 0:  # the emulator runs the init phase at the first invocation: not a warm latency
                    first_ms = elapsed_ms
                    tally.latencies_ms.clear()
                    pid = runtime_pid(emulator.proc.pid)
                    rss_first = rss_kb(pid) if pid else None
        pid = runtime_pid(emulator.proc.pid)
        rss_end = rss_kb(pid) if pid and rss_first else None
        init_ms = emulator.init_ms()
    finally:
        emulator.stop()
    text = log.read_text(errors="replace")
    return {
        **tally.summary(),
        "source": source,
        "init_ms": init_ms,
        "first_ms": first_ms,
        "rss_first_kb": rss_first,
        "rss_end_kb": rss_end,
        "init_reports": text.count("INIT REPORT"),
        "log_problems": _log_problems(text),
    }


# ---------------------------------------------------------------------------------------------------------


class SoakError(RuntimeError):
    pass


def failures(name: str, result: dict[str, Any]) -> list[str]:
    """Why the soak `name` failed, from its result; empty when it passed."""
    found = [f"{name}: {e}" for e in result["first_errors"]]
    if result["errors"] > len(result["first_errors"]):
        found.append(f"{name}: ... {result['errors']} errors in all")
    found += [f"{name} log: {line}" for line in result.get("log_problems", [])[:ERRORS_KEPT]]
    if result["requests"] == 0:
        found.append(f"{name}: no requests were made")
    if name == "in-process" and result["rss_growth"] > RSS_GROWTH_LIMIT:
        found.append(f"{name}: RSS grew {result['rss_growth']:.1%} after the warm-up (limit {RSS_GROWTH_LIMIT:.0%})")
    if name == "server" and result["exit_code"] != 0:
        found.append(f"{name}: exited with {result['exit_code']} on SIGINT")
    if name == "emulator" and result["init_reports"] != 1:
        found.append(f"{name}: {result['init_reports']} INIT REPORTs (the environment restarted)")
    return found


def _mb(kb: int | None) -> str:
    return "n/a" if kb is None else f"{kb / 1024:.0f} MB"


def table(results: dict[str, dict[str, Any]]) -> str:
    rows = [("soak", "requests", "errors", "p50 ms", "p99 ms", "detail")]
    if r := results.get("in-process"):
        rows.append(
            (
                "in-process handler",
                r["requests"],
                r["errors"],
                r["p50_ms"],
                r["p99_ms"],
                f"RSS {_mb(r['rss_warm_kb'])} after {r['warmup']} -> {_mb(r['rss_end_kb'])} after {r['requests']}"
                f" ({r['rss_growth']:+.1%}, limit {RSS_GROWTH_LIMIT:.0%}); {r['wall_s']:.1f} s with cold start",
            )
        )
    if r := results.get("server"):
        rows.append(
            (
                "make run server",
                r["requests"],
                r["errors"],
                r["p50_ms"],
                r["p99_ms"],
                f"{r['requests_per_s']:.0f} req/s, {r['clients']} clients, {r['duration_s']:.1f} s,"
                f" {r['connection_errors']} connection errors; server RSS {_mb(r['rss_start_kb'])}"
                f" -> {_mb(r['rss_end_kb'])}; exit {r['exit_code']}",
            )
        )
    if r := results.get("emulator"):
        rows.append(
            (
                "Lambda emulator (RIE)",
                r["requests"],
                r["errors"],
                r["p50_ms"],
                r["p99_ms"],
                f"INIT REPORT {r['init_ms']:.0f} ms (first invocation {r['first_ms']:.0f} ms, not in p50/p99);"
                f" runtime RSS {_mb(r['rss_first_kb'])} after 1 ->"
                f" {_mb(r['rss_end_kb'])} after {r['requests']}; {r['source']}",
            )
        )
    lines = []
    for label, requests, errors, p50, p99, detail in rows:
        p50 = f"{p50:.2f}" if isinstance(p50, float) else p50
        p99 = f"{p99:.2f}" if isinstance(p99, float) else p99
        lines.append(f"{label:22} {requests!s:>9} {errors!s:>7} {p50:>8} {p99:>8}  {detail}")
    return "\n".join(lines)


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=int(_env_number("SOAK_REQUESTS", 10_000)))
    parser.add_argument("--warmup", type=int, default=int(_env_number("SOAK_WARMUP", 1_000)))
    parser.add_argument("--clients", type=int, default=int(_env_number("SOAK_CLIENTS", 32)))
    parser.add_argument("--duration", type=float, default=_env_number("SOAK_DURATION", 30), help="seconds")
    parser.add_argument("--invocations", type=int, default=int(_env_number("SOAK_INVOCATIONS", 500)))
    parser.add_argument(
        "--only", choices=("in-process", "server", "emulator"), action="append", help="run only these soaks"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--logs", type=Path, help="keep the logs of the soaked processes in this folder")
    parser.add_argument("--child-in-process", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_in_process:
        _child_in_process(args.child_in_process, args.requests, args.warmup)
        return 0
    if args.warmup >= args.requests:
        parser.error("--warmup must be below --requests")

    started = time.perf_counter()
    chosen = args.only or ["in-process", "server", "emulator"]
    results: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        work = args.logs or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        runs = {
            "in-process": lambda: run_in_process(args.requests, args.warmup, work),
            "server": lambda: run_server(args.clients, args.duration, work),
            "emulator": lambda: run_emulator(args.invocations, work),
        }
        for name in chosen:
            print(f"soak: {name} ...", flush=True)
            try:
                results[name] = runs[name]()
            except SoakError as exc:
                problems.append(f"{name}: {exc}")
                continue
            problems += failures(name, results[name])
    wall = time.perf_counter() - started
    print(f"\nhaystack-lambda soak: Python {sys.version.split()[0]}, {wall:.0f} s wall")
    print(table(results))
    for name, r in results.items():
        per_case = ", ".join(
            f"{k} {c['requests']} ({c['p50_ms']:.2f}/{c['p99_ms']:.2f})" for k, c in r["per_case"].items()
        )
        print(f"  {name}, requests (p50/p99 ms) per kind: {per_case}")
    if args.json:
        args.json.write_text(json.dumps({"wall_s": wall, **results}, indent=2))
    if problems:
        print("\nFAILED:", *problems, sep="\n  ")
        return 1
    print("\nall soaks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
