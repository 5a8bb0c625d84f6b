"""Init and init + first request with the init warm-up on and off (core/warmup.py), on-demand.

On an on-demand cold start the caller waits for init plus the first request; this measures both, in fresh
processes (run alternately, medians), and the warm-up's own time inside init, which is the precise part:
init figures on a shared machine move by more than the warm-up costs.

    python -m infra.warmup_bench --pipelines tests/fixtures/examples --path /search_docs/run \\
        --body '{"query": "lambda cold start", "top_k": 3}' --runs 9
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time
started = time.perf_counter()
import core.warmup, handler
spent = []
original = core.warmup.warm_up
def timed(*args, **kwargs):
    t = time.perf_counter()
    try:
        return original(*args, **kwargs)
    finally:
        spent.append(time.perf_counter() - t)
core.warmup.warm_up = timed
lambda_handler = handler.lambda_handler  # the cold start, as Lambda's runtime reads it at init
init = time.perf_counter() - started

class Context:
    aws_request_id = "bench"
    def get_remaining_time_in_millis(self):
        return 30_000

method, path, body = json.loads(sys.argv[1])
event = {
    "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
    "headers": {"host": "bench.invalid", "content-type": "application/json"},
    "requestContext": {"accountId": "0", "apiId": "bench", "domainName": "bench.invalid",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                 "userAgent": "bench"},
        "requestId": "r", "routeKey": "$default", "stage": "$default", "timeEpoch": 0},
    "body": body, "isBase64Encoded": False,
}
started = time.perf_counter()
reply = lambda_handler(event, Context())
first = time.perf_counter() - started
assert reply["statusCode"] == 200, reply
later = []
for _ in range(50):
    started = time.perf_counter()
    lambda_handler(event, Context())
    later.append(time.perf_counter() - started)
print("RESULT " + json.dumps({"init": init, "first": first, "warm": sorted(later)[25], "warm_up": sum(spent)}))
"""


def _once(pipelines: Path, request: list, warm_up: str) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAYHOOKS_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # with .pyc, as on Lambda
    env.update(
        PYTHONPATH=str(ROOT),
        HAYSTACK_TELEMETRY_ENABLED="False",
        HAYHOOKS_PIPELINES_DIR=str(pipelines),
        AWS_LAMBDA_FUNCTION_NAME="bench",
        AWS_LAMBDA_INITIALIZATION_TYPE="on-demand",
        HAYHOOKS_INIT_WARM_UP=warm_up,
        LOG="INFO",
        HAYHOOKS_LOG_FORMAT="json",
    )
    command = [sys.executable, "-c", CHILD, json.dumps(request)]
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return {k: v * 1000 for k, v in json.loads(line[7:]).items()}
    raise RuntimeError(f"benchmark process failed: {proc.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipelines", type=Path, default=ROOT / "tests" / "fixtures" / "examples")
    parser.add_argument("--path", default="/search_docs/run")
    parser.add_argument("--body", default='{"query": "lambda cold start", "top_k": 3}', help="'-': a GET")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    request = ["GET", args.path, None] if args.body == "-" else ["POST", args.path, args.body]
    for setting in ("off", "on"):
        _once(args.pipelines.resolve(), request, setting)  # writes .pyc: not measured
    samples: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
    for _ in range(args.runs):
        for setting, rows in samples.items():
            rows.append(_once(args.pipelines.resolve(), request, setting))
    print(f"{args.runs} alternating pairs, medians in ms; {request[0]} {request[1]} on {args.pipelines}")
    print(f"{'warm-up':8} {'init':>9} {'first':>7} {'init+first':>11} {'warm':>6} {'warm-up itself':>15}")
    for setting, rows in samples.items():
        median = {key: statistics.median(row[key] for row in rows) for key in rows[0]}
        both = statistics.median(row["init"] + row["first"] for row in rows)
        print(
            f"{setting:8} {median['init']:9.1f} {median['first']:7.2f} {both:11.1f} {median['warm']:6.2f} "
            f"{median['warm_up']:15.1f}"
        )


if __name__ == "__main__":
    main()
