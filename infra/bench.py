"""`make bench`: cold start and warm overhead, each against a floor measured in the same run.

These machines are noisy, so absolute times are reported but judged only as ratios or differences
against the floor measured right beside them:

* cold start: process start → first `/status` answer through `handler.lambda_handler`, divided by the
  floor: a process that only imports haystack, fastapi and mangum and sets up the same pipelines.
  Runs alternate (floor, handler, floor, ...) so drift hits both; the median of each is used.
* emulator: the INIT REPORT of the built artifact (infra/build.py) under aws-lambda-rie, next to the
  floor run with the same Python 3.13 from the same artifact.
* S3: cold start with 10 small pipelines fetched from S3 (a moto server on loopback, published with
  infra/publish.py) minus the same 10 baked in, in ms and as a ratio.
* warm overhead: median of N in-process handler calls minus the median of the same pipeline run called
  directly, for a sync wrapper (search_docs) and an async one (prompt_builder).
* loop: the streaming Runtime API loop's cold start and warm cycle against the paths it replaces
  (infra/loop_bench.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIPELINES = ROOT / "tests" / "fixtures" / "examples"  # the project's copies: pipelines/ is the user's folder

COLD_HANDLER = """
import handler
from infra.lambda_events import Context, http_v2
reply = handler.lambda_handler(http_v2("GET", "/status"), Context())
assert reply["statusCode"] == 200, reply
print("ready", flush=True)
"""

# The least any server must do to serve these pipelines: import the frameworks, import each wrapper
# (as a package, for relative imports) and call setup(); load each YAML pipeline.
COLD_FLOOR = """
import importlib.util, sys, types
from pathlib import Path
import haystack, fastapi, mangum
from haystack import Pipeline
import yaml
root = Path({pipelines!r})
for entry in sorted(root.iterdir()):
    if entry.is_dir() and (entry / "pipeline_wrapper.py").is_file():
        package = types.ModuleType("floor_" + entry.name)
        package.__path__ = [str(entry)]
        sys.modules[package.__name__] = package
        name = package.__name__ + ".pipeline_wrapper"
        spec = importlib.util.spec_from_file_location(name, entry / "pipeline_wrapper.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        module.PipelineWrapper().setup()
    elif entry.suffix in (".yml", ".yaml"):
        document = yaml.safe_load(entry.read_text())
        Pipeline.from_dict({{k: v for k, v in document.items() if k not in ("inputs", "outputs")}})
print("ready", flush=True)
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAYHOOKS_")}
    # with .pyc, as on Lambda (infra/build.py precompiles the artifact): the first, unmeasured run of each
    # kind writes them. Some machines set PYTHONDONTWRITEBYTECODE, which would compile our modules from
    # source in every measured run while the libraries, compiled by pip, load from .pyc.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(PYTHONPATH=str(ROOT), HAYSTACK_TELEMETRY_ENABLED="False", HAYHOOKS_PIPELINES_DIR=str(PIPELINES))
    # logging as deployed: INFO, JSON lines (an access line per request); the bench discards the output
    env.update(LOG="INFO", HAYHOOKS_LOG_FORMAT="json")
    return env


def time_process(code: str, _cgroup: str | None = None, **env: str) -> float:
    """Seconds from spawning `python -c code` (in the `_cgroup` cgroup if given) to its 'ready' line."""

    def enter_cgroup() -> None:  # in the child, before exec: everything it runs counts against the quota
        Path(_cgroup, "tasks").write_text(str(os.getpid()))

    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**_env(), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=enter_cgroup if _cgroup else None,  # run before any bench starts threads (moto, loops)
    )
    line = ""
    while proc.stdout is not None:  # log lines may come first: wait for the marker
        line = proc.stdout.readline()
        if not line or line.strip() == "ready":
            break
    elapsed = time.perf_counter() - started
    _, err = proc.communicate(timeout=120)
    if line.strip() != "ready":
        raise RuntimeError(f"benchmark process failed: {err[-2000:]}")
    return elapsed


def bench_cold(runs: int) -> dict[str, float]:
    """The floor, the lean cold start (no AWS around it), the lazy strategy's, and the deployed default's
    (`deployed_environment`), interleaved run by run so drift hits all of them alike."""
    floor_code = COLD_FLOOR.format(pipelines=str(PIPELINES))
    lazy = {"HAYHOOKS_STARTUP_DEPLOY_STRATEGY": "lazy"}
    with deployed_environment() as deployed:
        time_process(floor_code)  # first runs write .pyc files: not measured
        time_process(COLD_HANDLER)
        time_process(COLD_DEPLOYED, **deployed)
        floors, colds, lazies, deployeds = [], [], [], []
        for _ in range(runs):
            floors.append(time_process(floor_code))
            colds.append(time_process(COLD_HANDLER))
            lazies.append(time_process(COLD_HANDLER, **lazy))
            deployeds.append(time_process(COLD_DEPLOYED, **deployed))
    floor, cold, lazy_cold = statistics.median(floors), statistics.median(colds), statistics.median(lazies)
    deployed_cold = statistics.median(deployeds)
    return {
        "floor_ms": floor * 1000,
        "cold_ms": cold * 1000,
        "ratio": cold / floor,
        "lazy_ms": lazy_cold * 1000,
        "lazy_ratio": lazy_cold / floor,
        "deployed_ms": deployed_cold * 1000,
        "deployed_ratio": deployed_cold / floor,
        "deployed_lean_ratio": deployed_cold / cold,
    }


# The first invocation as Lambda makes it on the template's defaults: the runtime sets the trace header
# per invocation (active tracing), and AuthMode=api-key wants the key the secret holds. As the template's
# Runtime API loop does (handler/runtime_loop.py), the answer is ready to post before the spans are
# exported: the export follows "ready", and the process waits for it.
COLD_DEPLOYED = """
import os
import handler
from infra.lambda_events import Context, http_v2
os.environ["_X_AMZN_TRACE_ID"] = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
event = http_v2("GET", "/status", headers={"x-api-key": os.environ["BENCH_API_KEY"]})
handler.lambda_handler.export_after_response = True
reply = handler.lambda_handler(event, Context())
assert reply["statusCode"] == 200, reply
print("ready", flush=True)
handler.lambda_handler.after_response()
"""
BENCH_API_KEY = "bench-api-key-0123456789abcdef"


@contextlib.contextmanager
def deployed_environment() -> Iterator[dict[str, str]]:
    """The environment of the function `sam deploy` makes with template.yaml's defaults, plus what Lambda
    sets (region, role credentials, function name, active tracing's daemon address), with loopback
    stand-ins for AWS: a moto server holds the API-key secret, an OTLP receiver takes the spans (signed
    with SigV4 as for X-Ray's endpoint: AWS_ENDPOINT_URL_XRAY only moves where they are sent)."""
    import boto3
    from moto.server import ThreadedMotoServer

    from infra.otlp_receiver import OtlpReceiver
    from infra.template_env import function_defaults

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        secrets = boto3.session.Session().client(
            "secretsmanager",
            endpoint_url=f"http://{host}:{port}",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        arn = secrets.create_secret(Name="bench-api-key", SecretString=BENCH_API_KEY)["ARN"]
        env, active_tracing = function_defaults(ROOT / "template.yaml", {"ApiKeySecret": arn})
        lambda_sets = {
            **credentials,
            "AWS_SESSION_TOKEN": "testing-session-token",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_LAMBDA_FUNCTION_NAME": "haystack-lambda-bench",
            "AWS_LAMBDA_FUNCTION_VERSION": "1",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1769",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        }
        if active_tracing:
            lambda_sets["AWS_XRAY_DAEMON_ADDRESS"] = "169.254.79.129:2000"
            lambda_sets["AWS_XRAY_CONTEXT_MISSING"] = "LOG_ERROR"
        with OtlpReceiver() as receiver:
            yield {
                **env,
                **lambda_sets,
                "AWS_ENDPOINT_URL_SECRETS_MANAGER": f"http://{host}:{port}",
                "AWS_ENDPOINT_URL_XRAY": receiver.endpoint.removesuffix("/v1/traces"),
                "HAYHOOKS_PIPELINES_DIR": str(PIPELINES),
                "BENCH_API_KEY": BENCH_API_KEY,
            }
    finally:
        server.stop()


SMALL_WRAPPER = """
from haystack import Pipeline
from haystack.components.builders import PromptBuilder

from core import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = Pipeline()
        self.pipeline.add_component("builder", PromptBuilder(template="{NAME}: {{{{ text }}}}"))

    def run_api(self, text: str) -> str:
        return self.pipeline.run({{"builder": {{"text": text}}}})["builder"]["prompt"]
"""


def bench_s3(runs: int, count: int = 10) -> dict[str, float]:
    """Cold start with `count` small pipelines baked in vs the same pipelines from S3 (a moto server)."""
    from infra.local_s3 import local_s3
    from infra.publish import publish

    work = Path(tempfile.mkdtemp(prefix="bench-s3-"))
    baked, empty = work / "baked", work / "empty"
    empty.mkdir()
    for i in range(count):
        folder = baked / f"small_{i:02d}"
        folder.mkdir(parents=True)
        (folder / "pipeline_wrapper.py").write_text(SMALL_WRAPPER.format(NAME=f"small_{i:02d}"))

    try:
        with local_s3("bench") as (aws, client):
            uri = publish(baked, "s3://bench/pipelines/", bundle=False, label="bench", client=client)
            logging.getLogger().setLevel(logging.WARNING)
            baked_env = {"HAYHOOKS_PIPELINES_DIR": str(baked)}
            s3_env = {**aws, "HAYHOOKS_PIPELINES_DIR": str(empty), "HAYHOOKS_PIPELINES_S3_URI": uri}
            time_process(COLD_HANDLER, **baked_env)
            time_process(COLD_HANDLER, **s3_env)
            baked_s, s3_s = [], []
            for _ in range(runs):
                baked_s.append(time_process(COLD_HANDLER, **baked_env))
                s3_s.append(time_process(COLD_HANDLER, **s3_env))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    b, s = statistics.median(baked_s), statistics.median(s3_s)
    return {"baked_ms": b * 1000, "s3_ms": s * 1000, "ratio": s / b, "added_ms": (s - b) * 1000}


def bench_emulator(runs: int) -> dict[str, float]:
    """INIT REPORT of the built artifact under the emulator vs the floor run from that same artifact.

    Both use .venv-runtime's Python 3.13 with the artifact as working directory and import path; the floor
    also imports awslambdaric, which Lambda's runtime loads before any handler.
    """
    from infra.build import build
    from infra.emulator import ARCH, RUNTIME_PYTHON, Emulator, lambda_environment
    from infra.lambda_events import http_v2

    work = Path(tempfile.mkdtemp(prefix="bench-rie-"))
    try:
        artifact = work / "artifact"
        build(artifact, ARCH, PIPELINES)
        floor_code = "import awslambdaric.bootstrap\n" + COLD_FLOOR.format(pipelines=str(artifact / "pipelines"))
        env = lambda_environment(str(artifact))

        def floor_once() -> float:
            started = time.perf_counter()
            proc = subprocess.run(
                [str(RUNTIME_PYTHON), "-c", floor_code],
                cwd=artifact,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            if proc.stdout.strip() != "ready":
                raise RuntimeError(f"floor failed: {proc.stderr[-2000:]}")
            return (time.perf_counter() - started) * 1000

        def init_once(i: int) -> float:
            rie = Emulator(artifact, {}, work / f"rie-{i}.log", read_only=False)
            try:
                assert rie.invoke(http_v2("GET", "/status"))["statusCode"] == 200
                return rie.init_ms()
            finally:
                rie.stop()

        floor_once(), init_once(-1)  # warm the page cache
        floors, inits = [], []
        for i in range(runs):
            floors.append(floor_once())
            inits.append(init_once(i))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    floor, init = statistics.median(floors), statistics.median(inits)
    return {"floor_ms": floor, "init_ms": init, "ratio": init / floor}


HAYHOOKS_VERSION = "2.1.0"


def hayhooks_venv() -> Path:
    """The test-only venv with the real Hayhooks (`make hayhooks-venv`, requirements-hayhooks.lock).

    Versions shared with this project (haystack-ai, fastapi, pydantic, ...) are the ones requirements-dev.lock
    pins, so both sides import the same libraries and the comparison is of the servers alone.
    """
    venv = ROOT / ".venv-hayhooks"
    if not (venv / "bin" / "hayhooks").exists():
        raise SystemExit(f"{venv} has no hayhooks: run make hayhooks-venv")
    return venv


def bench_hayhooks(runs: int) -> dict[str, float]:
    """Hayhooks 2.1.0 start-to-ready on the example pipelines vs our cold start on the same folders.

    Hayhooks only accepts wrappers that subclass its own base class, so its copy of the folders has the one
    import changed (`from core import` -> `from hayhooks import`): the migration the contract promises.
    bedrock_chat is left out of both: Hayhooks 2.1.0, loading it beside the others, intermittently fails it
    with `cannot import name 'ComponentTool' from 'haystack.tools'` (haystack-ai 3.4.0's lazy imports, raced
    by Hayhooks' concurrent loading; 2 of 3 starts in one run here), which would leave short starts out of the median.
    Ready = `GET /status` answers with every pipeline listed; polled every 5 ms.
    """
    import socket

    import httpx

    work = Path(tempfile.mkdtemp(prefix="bench-hayhooks-"))
    try:
        ours_dir, copy = work / "ours", work / "theirs"
        for target in (ours_dir, copy):
            shutil.copytree(PIPELINES, target, ignore=shutil.ignore_patterns("__pycache__", "bedrock_chat"))
        for wrapper in copy.rglob("*.py"):
            wrapper.write_text(wrapper.read_text().replace("from core import", "from hayhooks import"))
        expected = len([p for p in copy.iterdir() if not p.name.startswith(("_", "."))])
        loaded: list[int] = []
        short_logs: list[Path] = []  # Hayhooks' own log of each start that listed fewer pipelines
        hayhooks = hayhooks_venv() / "bin" / "hayhooks"

        def hayhooks_once() -> float | None:
            """ms to a /status listing every pipeline; None if Hayhooks settled with fewer (a failed load)."""
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            env = {**_env(), "HAYHOOKS_PIPELINES_DIR": str(copy)}
            log = work / "hayhooks.log"
            started = time.perf_counter()
            with log.open("w") as out:
                proc = subprocess.Popen(
                    [str(hayhooks), "run", "--host", "127.0.0.1", "--port", str(port)],
                    cwd=work,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            try:
                while time.perf_counter() - started < 60:
                    try:
                        # Hayhooks serves only after its startup deploy, so the first answer is final
                        status = httpx.get(f"http://127.0.0.1:{port}/status", timeout=1).json()
                        loaded.append(len(status["pipelines"]))
                        if len(status["pipelines"]) == expected:
                            return (time.perf_counter() - started) * 1000
                        kept = ROOT / ".bench" / f"hayhooks-short-start-{int(time.time())}.log"
                        kept.parent.mkdir(exist_ok=True)
                        shutil.copy(log, kept)  # kept once the process is done writing (below)
                        short_logs.append(kept)
                        return None
                    except (httpx.TransportError, ValueError, KeyError):
                        pass
                    time.sleep(0.005)
                raise RuntimeError("Hayhooks did not become ready within 60 s")
            finally:
                proc.terminate()
                proc.wait(timeout=10)
                if short_logs and short_logs[-1].exists():
                    shutil.copy(log, short_logs[-1])

        hayhooks_once(), time_process(COLD_HANDLER, HAYHOOKS_PIPELINES_DIR=str(ours_dir))  # warm caches, .pyc
        loaded.clear()
        ours, theirs, short = [], [], 0
        for _ in range(runs):
            took = hayhooks_once()
            if took is None:
                short += 1  # not a start-to-ready time: left out of the median, reported
            else:
                theirs.append(took)
            ours.append(time_process(COLD_HANDLER, HAYHOOKS_PIPELINES_DIR=str(ours_dir)) * 1000)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    o, h = statistics.median(ours), statistics.median(theirs)
    return {
        "ours_ms": o,
        "hayhooks_ms": h,
        "ratio": o / h,
        "hayhooks_loaded_min": min(loaded),
        "expected": expected,
        "hayhooks_short_runs": short,
        "hayhooks_short_logs": [str(p) for p in short_logs],
    }


FIRST_REQUEST = """
import time
import handler
handler.lambda_handler  # the cold start (Lambda's runtime reads it at init): not part of the first request
from infra.lambda_events import Context, http_v2
event = http_v2("POST", "/search_docs/run", body={"query": "lambda cold start", "top_k": 3})
started = time.perf_counter(); handler.lambda_handler(event, Context()); first = time.perf_counter() - started
samples = []
for _ in range(200):
    started = time.perf_counter()
    handler.lambda_handler(event, Context())
    samples.append(time.perf_counter() - started)
samples.sort()
print(f"{first * 1000} {samples[100] * 1000}", flush=True)
"""


def bench_first_request(runs: int) -> dict[str, float]:
    """First request after a cold start vs the median warm one, in fresh processes."""
    ratios, firsts, warms = [], [], []
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, "-c", FIRST_REQUEST], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120
        )
        first, warm = map(float, proc.stdout.strip().splitlines()[-1].split())
        firsts.append(first), warms.append(warm), ratios.append(first / warm)
    return {
        "first_ms": statistics.median(firsts),
        "warm_ms": statistics.median(warms),
        "ratio": statistics.median(ratios),
    }


MEMORY = """
import handler
handler.lambda_handler  # the cold start, before the init peak is read
from infra.lambda_events import Context, http_v2
def rss_kb(field="VmRSS:"):  # VmHWM: the peak so far
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1])
init_peak = rss_kb("VmHWM:")
events = [
    http_v2("POST", "/search_docs/run", body={"query": "lambda cold start", "top_k": 3}),
    http_v2("POST", "/prompt_builder/run", body={"question": "Why?"}),
    http_v2("POST", "/greeting/run", body={"name": "Ann", "place": "Lambda"}),
    http_v2("GET", "/status"),
]
for i in range(1000):  # warm-up: caches and allocator arenas reach their working size
    handler.lambda_handler(events[i % len(events)], Context())
before = rss_kb()
for i in range(REQUESTS):
    assert handler.lambda_handler(events[i % len(events)], Context())["statusCode"] == 200
after = rss_kb()
print(init_peak, before, after, rss_kb("VmHWM:"), flush=True)
"""


def bench_memory(requests: int = 10_000) -> dict[str, float]:
    """Peak RSS after init, and RSS after 1,000 warm-up requests vs after `requests` more, in a fresh process."""
    proc = subprocess.run(
        [sys.executable, "-c", MEMORY.replace("REQUESTS", str(requests))],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"memory run failed: {proc.stderr[-2000:]}")
    init_peak, before, after, peak = map(int, proc.stdout.strip().splitlines()[-1].split())
    return {
        "init_peak_mb": init_peak / 1024,
        "before_mb": before / 1024,
        "after_mb": after / 1024,
        "peak_mb": peak / 1024,
        "growth": after / before - 1,
        "requests": requests,
    }


CGROUP_CPU = Path("/sys/fs/cgroup/cpu")
LAMBDA_MB_PER_VCPU = 1769  # Lambda's documented point of one full vCPU
MEMORY_SETTINGS_MB = (512, 1024, 1769, 3008)


def bench_memory_settings(runs: int) -> dict[str, float] | None:
    """Cold start under the CPU share each Lambda memory setting gives (memory / 1,769 MB vCPUs), emulated with
    a CFS quota in a cgroup (v1 `cpu` controller, as root). None when this machine does not allow it."""
    group = CGROUP_CPU / f"haystack-lambda-bench-{os.getpid()}"
    try:
        group.mkdir()
    except OSError:
        return None
    results: dict[str, float] = {}
    try:
        (group / "cpu.cfs_period_us").write_text("100000")
        for memory_mb in MEMORY_SETTINGS_MB:
            (group / "cpu.cfs_quota_us").write_text(str(int(100000 * memory_mb / LAMBDA_MB_PER_VCPU)))
            samples = [time_process(COLD_HANDLER, _cgroup=str(group)) * 1000 for _ in range(runs)]
            results[str(memory_mb)] = statistics.median(samples)
        (group / "cpu.cfs_quota_us").write_text("-1")
        results["unlimited"] = statistics.median(time_process(COLD_HANDLER) * 1000 for _ in range(runs))
    finally:
        group.rmdir()
    return results


def bench_scaling(runs: int) -> dict[str, float]:
    """Cold start with 1, 10 and 50 small pipelines, parallel and sequential loading."""
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    results: dict[str, float] = {}
    try:
        for count in (1, 10, 50):
            folder = work / str(count)
            for i in range(count):
                (folder / f"small_{i:02d}").mkdir(parents=True)
                (folder / f"small_{i:02d}" / "pipeline_wrapper.py").write_text(SMALL_WRAPPER.format(NAME=i))
            for strategy in ("parallel", "sequential"):
                env = {"HAYHOOKS_PIPELINES_DIR": str(folder), "HAYHOOKS_STARTUP_DEPLOY_STRATEGY": strategy}
                time_process(COLD_HANDLER, **env)
                results[f"{count}_{strategy}"] = statistics.median(
                    time_process(COLD_HANDLER, **env) * 1000 for _ in range(runs)
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def _median_ms(fn, n: int) -> float:
    samples = []
    for _ in range(n):
        started = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - started)
    return statistics.median(samples) / 1e6


def bench_warm(calls: int) -> dict[str, dict[str, float]]:
    # the handler writes its EMF metric lines to stdout, as on Lambda: to /dev/null here, still written
    real_stdout = sys.stdout
    with open(os.devnull, "w") as sink:
        sys.stdout = sink
        try:
            return _bench_warm(calls)
        finally:
            sys.stdout = real_stdout


def _bench_warm(calls: int) -> dict[str, dict[str, float]]:
    os.environ.update(_env())
    sys.path.insert(0, str(ROOT))
    from core.settings import Settings
    from handler.entry import LambdaHandler
    from infra.lambda_events import Context, http_v2

    handler = LambdaHandler(Settings.from_env())
    context = Context()
    results = {}

    search = handler.registry.get("search_docs").wrapper
    sync_event = http_v2("POST", "/search_docs/run", body={"query": "lambda cold start", "top_k": 3})

    def sync_direct():
        search.pipeline.run({"retriever": {"query": "lambda cold start", "top_k": 3}})

    def sync_handler():
        assert handler(sync_event, context)["statusCode"] == 200

    prompt = handler.registry.get("prompt_builder").wrapper
    async_event = http_v2("POST", "/prompt_builder/run", body={"question": "Why?"})
    loop = asyncio.new_event_loop()
    data = {"prompt_builder": {"question": "Why?", "language": "English", "max_words": 50}}

    def async_direct():
        loop.run_until_complete(prompt.pipeline.run_async(data))

    def async_handler():
        assert handler(async_event, context)["statusCode"] == 200

    from handler.snapstart import after_restore

    results["restore_ms"] = statistics.median(after_restore(handler) for _ in range(20))
    for name, direct, through in (("sync", sync_direct, sync_handler), ("async", async_direct, async_handler)):
        for fn in (direct, through):  # warm both paths first
            _median_ms(fn, 50)
        # interleave blocks so machine noise lands on both sides
        direct_ms, handler_ms = [], []
        for _ in range(10):
            direct_ms.append(_median_ms(direct, calls // 10))
            handler_ms.append(_median_ms(through, calls // 10))
        d, h = statistics.median(direct_ms), statistics.median(handler_ms)
        results[name] = {"direct_ms": d, "handler_ms": h, "overhead_ms": h - d}
    return results


Row = tuple[str, str, str, bool, str]


def bench_loop(runs: int, calls: int) -> dict[str, dict[str, float]]:
    from infra.loop_bench import bench_loop_cold, bench_loop_warm

    return {
        "cold": bench_loop_cold(runs, _env()),
        "warm": bench_loop_warm(calls, _env()),
    }


def loop_rows(loop: dict[str, dict[str, float]]) -> list[Row]:
    cold, warm = loop["cold"], loop["warm"]
    return [
        (
            "cold start: streaming loop / plain",
            f"{cold['ratio']:.2f}",
            "<= 1.05",
            cold["ratio"] <= 1.05,
            f"{cold['loop_ms']:.0f} ms vs {cold['handler_ms']:.0f} ms: spawn -> first answer (wall)",
        ),
        (
            "cold start CPU: loop / plain",
            f"{cold['cpu_ratio']:.2f}",
            "<= 1.05",
            cold["cpu_ratio"] <= 1.05,
            f"{cold['loop_cpu_ms']:.0f} ms vs {cold['handler_cpu_ms']:.0f} ms of CPU to the first answer",
        ),
        (
            "warm cycle: loop / awslambdaric",
            f"{warm['ratio']:.2f}",
            "<= 1.00",
            warm["ratio"] <= 1.0,
            f"{warm['loop_ms']:.3f} ms vs {warm['awslambdaric_ms']:.3f} ms per buffered request (fake Runtime API)",
        ),
        (
            "warm CPU: loop / awslambdaric",
            f"{warm['cpu_ratio']:.2f}",
            "<= 1.00",
            warm["cpu_ratio"] <= 1.0,
            f"{warm['loop_cpu_ms']:.2f} ms vs {warm['awslambdaric_cpu_ms']:.2f} ms of CPU per request",
        ),
    ]


def cold_rows(cold: dict[str, float]) -> list[Row]:
    return [
        (
            "cold start / import floor",
            f"{cold['ratio']:.2f}",
            "<= 0.80",  # below the import floor (FastAPI and posthog off the cold path)
            cold["ratio"] <= 0.80,
            f"{cold['cold_ms']:.0f} ms vs {cold['floor_ms']:.0f} ms (lean: no AWS settings)",
        ),
        (
            "deployed default / import floor",
            f"{cold['deployed_ratio']:.2f}",
            "<= 0.80",  # the template's defaults held to the same bar as the lean start
            cold["deployed_ratio"] <= 0.80,
            f"{cold['deployed_ms']:.0f} ms: template.yaml's defaults (tracing, API key from a secret, region)",
        ),
        (
            "deployed default / lean",
            f"{cold['deployed_lean_ratio']:.2f}",
            "<= 1.10",
            cold["deployed_lean_ratio"] <= 1.10,
            f"{cold['deployed_ms']:.0f} ms vs {cold['cold_ms']:.0f} ms",
        ),
        (
            "lazy strategy cold start / floor",
            f"{cold['lazy_ratio']:.2f}",
            "(report)",
            True,
            f"{cold['lazy_ms']:.0f} ms: imports Haystack, loads no pipeline until asked",
        ),
    ]


def hayhooks_rows(hayhooks: dict) -> list[Row]:
    return [
        (
            "cold start / Hayhooks 2.1.0 start",
            f"{hayhooks['ratio']:.2f}",
            "<= 0.60",
            hayhooks["ratio"] <= 0.60,
            f"{hayhooks['ours_ms']:.0f} ms vs {hayhooks['hayhooks_ms']:.0f} ms (same folders, one import changed;"
            f" Hayhooks loaded {hayhooks['hayhooks_loaded_min']}-{hayhooks['expected']} of {hayhooks['expected']};"
            f" {hayhooks['hayhooks_short_runs']} run(s) with fewer left out"
            + (f", logs in {', '.join(hayhooks['hayhooks_short_logs'])})" if hayhooks["hayhooks_short_logs"] else ")"),
        )
    ]


def emulator_rows(rie: dict[str, float]) -> list[Row]:
    return [
        (
            "emulator INIT REPORT / floor",
            f"{rie['ratio']:.2f}",
            "(report)",
            True,
            f"{rie['init_ms']:.0f} ms vs {rie['floor_ms']:.0f} ms (built artifact)",
        )
    ]


def s3_rows(s3: dict[str, float]) -> list[Row]:
    return [
        (
            "10 pipelines: S3 / baked in",
            f"{s3['ratio']:.2f}",
            "",
            s3["added_ms"] <= 150,
            f"{s3['s3_ms']:.0f} ms vs {s3['baked_ms']:.0f} ms",
        ),
        ("10 pipelines: S3 adds", f"{s3['added_ms']:.0f} ms", "<= 150 ms", s3["added_ms"] <= 150, "moto server"),
    ]


def warm_rows(warm: dict) -> list[Row]:
    rows: list[Row] = []
    for name in ("sync", "async"):
        w = warm[name]
        rows.append(
            (
                f"warm overhead p50, {name} wrapper",
                f"{w['overhead_ms']:.3f} ms",
                "<= 0.250 ms",
                w["overhead_ms"] <= 0.25,
                f"handler {w['handler_ms']:.3f} ms, pipeline alone {w['direct_ms']:.3f} ms",
            )
        )
    rows.append(
        ("after-restore hooks", f"{warm['restore_ms']:.2f} ms", "<= 50 ms", warm["restore_ms"] <= 50, "SnapStart")
    )
    return rows


def first_rows(first: dict[str, float]) -> list[Row]:
    return [
        (
            "first request / median warm",
            f"{first['ratio']:.2f}",
            "<= 1.50",
            first["ratio"] <= 1.5,
            f"{first['first_ms']:.2f} ms vs {first['warm_ms']:.3f} ms",
        )
    ]


def memory_rows(memory: dict[str, float]) -> list[Row]:
    return [
        (
            "peak RSS after init",
            f"{memory['init_peak_mb']:.0f} MB",
            "(report)",
            True,
            f"peak over the whole run {memory['peak_mb']:.0f} MB (example pipelines)",
        ),
        (
            f"RSS growth over {memory['requests']:,} requests",
            f"{memory['growth'] * 100:.1f} %",
            "<= 5 %",
            memory["growth"] <= 0.05,
            f"{memory['before_mb']:.0f} MB -> {memory['after_mb']:.0f} MB, after 1,000 warm-up requests",
        ),
    ]


def scaling_rows(scaling: dict[str, float]) -> list[Row]:
    rows: list[Row] = []
    for count in (10, 50):
        for strategy in ("parallel", "sequential"):
            ratio = scaling[f"{count}_{strategy}"] / scaling[f"1_{strategy}"]
            rows.append(
                (
                    f"{count} pipelines / 1, {strategy}",
                    f"{ratio:.2f}",
                    "(report)",
                    True,
                    f"{scaling[f'{count}_{strategy}']:.0f} ms vs {scaling[f'1_{strategy}']:.0f} ms",
                )
            )
    return rows


def memory_settings_rows(settings: dict[str, float] | None) -> list[Row]:
    if settings is None:
        return [("cold start by Lambda memory", "n/a", "(report)", True, "needs root and cgroup v1 cpu")]
    rows: list[Row] = []
    for memory_mb in MEMORY_SETTINGS_MB:
        vcpus = memory_mb / LAMBDA_MB_PER_VCPU
        rows.append(
            (
                f"cold start at {memory_mb} MB ({min(vcpus, 2):.2f} vCPU)",
                f"{settings[str(memory_mb)]:.0f} ms",
                "(report)",
                True,
                f"{settings[str(memory_mb)] / settings['unlimited']:.2f} x unlimited CPU; CFS quota",
            )
        )
    return rows


# section name -> (run it, its rows); printed in this order. `--only` picks some.
SECTIONS = {
    "cold": (lambda a: bench_cold(a.cold_runs), cold_rows),
    "hayhooks": (lambda a: bench_hayhooks(a.runs), hayhooks_rows),
    "emulator": (lambda a: bench_emulator(a.runs), emulator_rows),
    "s3": (lambda a: bench_s3(a.runs), s3_rows),
    "warm": (lambda a: bench_warm(a.calls), warm_rows),
    "loop": (lambda a: bench_loop(a.runs, a.calls), loop_rows),
    "first": (lambda a: bench_first_request(a.runs), first_rows),
    "memory": (lambda a: bench_memory(), memory_rows),
    "scaling": (lambda a: bench_scaling(max(3, a.runs // 2)), scaling_rows),
    "memory_settings": (lambda a: bench_memory_settings(max(3, a.runs // 2)), memory_settings_rows),
}
# measured in this order (the quota-limited and the cold ones before anything leaves threads or caches)
RUN_ORDER = ("cold", "memory_settings", "s3", "emulator", "hayhooks", "loop", "first", "scaling", "memory", "warm")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="cold-start runs of each kind (median used)")
    # the import floor alone spreads over ±15 % run to run here: the issue-19 ratios need more runs than the rest
    parser.add_argument("--cold-runs", type=int, default=15, help="runs of each kind in the cold section")
    parser.add_argument("--calls", type=int, default=1000, help="warm calls of each kind")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--only", action="append", choices=list(SECTIONS), help="run this section only (repeatable; default: all)"
    )
    args = parser.parse_args()

    chosen = set(args.only or SECTIONS)
    results = {name: SECTIONS[name][0](args) for name in RUN_ORDER if name in chosen}
    rows = [row for name in SECTIONS if name in results for row in SECTIONS[name][1](results[name])]
    print(
        f"\nhaystack-lambda bench: Python {sys.version.split()[0]}, {args.runs} cold runs "
        f"({args.cold_runs} in the cold section), {args.calls} warm calls"
    )
    print(f"{'measure':34} {'value':>12} {'target':>12}  {'':4}  detail")
    for label, value, target, ok, detail in rows:
        print(f"{label:34} {value:>12} {target:>12}  {'ok' if ok else 'MISS':4}  {detail}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
