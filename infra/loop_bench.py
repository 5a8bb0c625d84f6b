"""`make bench --only loop`: the Runtime API loop (handler/runtime_loop.py, behind the exec wrapper) against
the paths it replaces, each process answering a fake Runtime API on loopback (infra/fake_runtime_api.py).

* cold start: spawning the wrapper → the first invocation's answer (`GET /status`, buffered) received by the
  fake, against bench's cold start (spawning `python -c` → `handler.lambda_handler` answered `/status`);
  runs interleaved, medians.
* warm: a buffered request's whole cycle as the Runtime API sees it (one `GET /invocation/next` handed out to
  the next one), through our loop and through awslambdaric's (the managed runtime's, .venv-runtime's copy,
  with its C client) running `handler.lambda_handler`; the same events, blocks interleaved, medians. The
  fake's own time is in both; the CPU time each process used per request is not, and is steadier on a
  shared machine.
"""

from __future__ import annotations

import itertools
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from infra.fake_runtime_api import FakeRuntimeAPI
from infra.lambda_events import http_v2

ROOT = Path(__file__).resolve().parent.parent
WRAPPER = ROOT / "handler" / "runtime-loop"
PYTHON_VERSION = f"python{sys.version_info.major}.{sys.version_info.minor}"
RUNTIME_SITE = ROOT / ".venv-runtime" / "lib" / PYTHON_VERSION / "site-packages"  # awslambdaric, as /var/runtime


def _lambda_env(env: dict[str, str], api: FakeRuntimeAPI) -> dict[str, str]:
    return {
        **env,
        "LAMBDA_TASK_ROOT": str(ROOT),
        "AWS_LAMBDA_RUNTIME_API": api.address,
        "_HANDLER": "handler.lambda_handler",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",  # awslambdaric polls from a thread there, as on Lambda
        "AWS_LAMBDA_FUNCTION_NAME": "haystack-lambda-bench",
    }


def _spawn(kind: str, env: dict[str, str], api: FakeRuntimeAPI) -> subprocess.Popen:
    env = _lambda_env(env, api)
    if kind == "loop":
        argv = [str(WRAPPER), sys.executable, "/var/runtime/bootstrap.py"]
    else:  # the managed runtime's own loop: awslambdaric, from the runtime's venv as /var/runtime
        argv = [sys.executable, "-m", "awslambdaric", "handler.lambda_handler"]
        env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{RUNTIME_SITE}"
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _stop(process: subprocess.Popen) -> str:
    process.kill()
    _, err = process.communicate(timeout=30)
    return err.decode(errors="replace")[-2000:]


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# bench's COLD_HANDLER, then idle until killed: its CPU time is read at "ready", before the interpreter's exit
PLAIN_COLD = """
import sys
import handler
from infra.lambda_events import Context, http_v2
reply = handler.lambda_handler(http_v2("GET", "/status"), Context())
assert reply["statusCode"] == 200, reply
print("ready", flush=True)
sys.stdin.read()
"""


def cold_once(kind: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds from spawning the process to its first answer: for the loop, the first invocation's
    answer at the Runtime API; for the plain handler, bench's cold start (`lambda_handler` answered /status)."""
    if kind == "plain":
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-c", PLAIN_COLD],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        while (line := process.stdout.readline()) and line.strip() != b"ready":
            pass
        wall = time.monotonic() - started
        cpu = _cpu_s(process.pid)
        error = _stop(process)
        if line.strip() != b"ready":
            raise RuntimeError(f"plain: {error}")
        return wall, cpu
    with FakeRuntimeAPI() as api:
        invocation = api.invoke(http_v2("GET", "/status"))
        started = time.monotonic()
        process = _spawn(kind, env, api)
        try:
            invocation.wait(120)
        except TimeoutError:
            raise RuntimeError(f"{kind}: no answer: {_stop(process)}") from None
        cpu = _cpu_s(process.pid)  # waiting for the next invocation: using none
        _stop(process)
    if b'"statusCode": 200' not in invocation.payload:
        raise RuntimeError(f"{kind}: {invocation.payload[:300]!r}")
    return invocation.answered - started, cpu


def bench_loop_cold(runs: int, env: dict[str, str]) -> dict[str, float]:
    """The loop's cold start against the plain handler's, interleaved run by run; medians of wall and CPU time.
    On a shared machine the CPU time is the steadier measure of what the init costs."""
    cold_once("loop", env), cold_once("plain", env)  # first runs write .pyc files: not measured
    loops, plains = [], []
    for _ in range(runs):
        loops.append(cold_once("loop", env))
        plains.append(cold_once("plain", env))
    loop_wall, plain_wall = (statistics.median(wall for wall, _ in runs_) for runs_ in (loops, plains))
    loop_cpu, plain_cpu = (statistics.median(cpu for _, cpu in runs_) for runs_ in (loops, plains))
    return {
        "loop_ms": loop_wall * 1000,
        "handler_ms": plain_wall * 1000,
        "ratio": loop_wall / plain_wall,
        "loop_cpu_ms": loop_cpu * 1000,
        "handler_cpu_ms": plain_cpu * 1000,
        "cpu_ratio": loop_cpu / plain_cpu,
    }


WARM_EVENT = http_v2("POST", "/greeting/run", body={"name": "Ann", "place": "Lambda"})


class _Serving:
    """One loop process (ours or awslambdaric's) kept warm, answering blocks of invocations."""

    def __init__(self, kind: str, env: dict[str, str]) -> None:
        self.kind = kind
        self.api = FakeRuntimeAPI().__enter__()
        self.process = _spawn(kind, env, self.api)
        self.block(20)  # the cold start and the first requests: not measured

    def block(self, calls: int) -> tuple[list[float], float]:
        """Seconds between consecutive hand-outs of `calls` + 1 invocations (one whole cycle each), and the CPU
        seconds the process used for them."""
        cpu = _cpu_s(self.process.pid)
        invocations = [self.api.invoke(WARM_EVENT) for _ in range(calls + 1)]
        for invocation in invocations:
            try:
                invocation.wait(120)
            except TimeoutError:
                raise RuntimeError(f"{self.kind}: no answer: {_stop(self.process)}") from None
            if b'"statusCode": 200' not in invocation.payload:
                raise RuntimeError(f"{self.kind}: {invocation.payload[:300]!r}")
        handed = [invocation.handed_out for invocation in invocations]
        return [b - a for a, b in itertools.pairwise(handed)], _cpu_s(self.process.pid) - cpu

    def close(self) -> None:
        _stop(self.process)
        self.api.__exit__(None, None, None)


def bench_loop_warm(calls: int, env: dict[str, str]) -> dict[str, float]:
    ours, theirs = _Serving("loop", env), _Serving("awslambdaric", env)
    per_block = calls // 10
    try:
        loop_s, ric_s, loop_cpu, ric_cpu = [], [], 0.0, 0.0
        for _ in range(10):  # interleaved blocks: machine noise lands on both
            cycles, cpu = ours.block(per_block)
            loop_s.extend(cycles)
            loop_cpu += cpu
            cycles, cpu = theirs.block(per_block)
            ric_s.extend(cycles)
            ric_cpu += cpu
    finally:
        ours.close()
        theirs.close()
    loop, ric = statistics.median(loop_s), statistics.median(ric_s)
    loop_cpu, ric_cpu = loop_cpu / (10 * per_block), ric_cpu / (10 * per_block)
    return {
        "loop_ms": loop * 1000,
        "awslambdaric_ms": ric * 1000,
        "ratio": loop / ric,
        "loop_cpu_ms": loop_cpu * 1000,
        "awslambdaric_cpu_ms": ric_cpu * 1000,
        "cpu_ratio": loop_cpu / ric_cpu,
    }
