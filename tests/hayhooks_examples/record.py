"""Record what Hayhooks 2.1.0 itself answers to the suite's requests: the expected answers, as fixtures.

A dev-time step, not CI's: run it when the cases, the fakes or the Hayhooks version change, and commit
tests/fixtures/hayhooks_examples/expected/. For each example it deploys the example's folders untouched
(imports as Hayhooks wants them, the same edits as the suite) into a temporary pipelines directory,
starts `hayhooks run` from a venv that has Hayhooks 2.1.0 and the examples' extra packages, with the
fake model and fake web of the suite on loopback, and sends the requests of tests/hayhooks_examples/cases.py.

    python -m tests.hayhooks_examples.record --venv .venv-hayhooks [EXAMPLE ...]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.fake_openai import fake_openai
from tests.fake_web import fake_web
from tests.hayhooks_examples import sdist
from tests.hayhooks_examples.cases import EDITS, EXAMPLES, Example
from tests.hayhooks_examples.exchange import run_example

EXPECTED = Path(__file__).resolve().parents[1] / "fixtures" / "hayhooks_examples" / "expected"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def record(example: Example, venv: Path, openai_url: str, web: str) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"hh-{example.name}-") as tmp:
        pipelines = sdist.deploy(example.pipelines, Path(tmp) / "pipelines", edits=EDITS, web=web, import_rule=False)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HAYHOOKS_", "OPENAI_"))}
        env |= {
            "OPENAI_BASE_URL": openai_url,
            "OPENAI_API_KEY": "sk-fake",
            "HAYSTACK_TELEMETRY_ENABLED": "False",
            "HAYHOOKS_ADDITIONAL_PYTHON_PATH": os.pathsep.join(
                str(sdist.examples_dir() / p) for p in example.python_path
            ),
        }
        command = [str(venv / "bin" / "hayhooks"), "run", "--host", "127.0.0.1", "--port", str(port)]
        log = open(Path(tmp) / "hayhooks.log", "wb")  # closed below, after the server stops
        server = subprocess.Popen(
            [*command, "--pipelines-dir", str(pipelines)], cwd=tmp, env=env, stdout=log, stderr=log
        )
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                if not wait_until_up(client, server):
                    return refused(example, (Path(tmp) / "hayhooks.log").read_text(errors="replace"))
                exchanges = run_example(client, example, web)
        except Exception:
            print((Path(tmp) / "hayhooks.log").read_text(errors="replace")[-5000:], file=sys.stderr)
            raise
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
    return {"hayhooks": sdist.VERSION, "example": example.name, "pipelines": example.pipelines, "exchanges": exchanges}


def refused(example: Example, log: str) -> dict:
    """Hayhooks would not start with this example (it exits at startup): keep its reason as the answer."""
    errors = [line.split(": ", 1)[1] for line in log.splitlines() if line.startswith("hayhooks.") and ": " in line]
    return {
        "hayhooks": sdist.VERSION,
        "example": example.name,
        "pipelines": example.pipelines,
        "startup_refused": errors[-1] if errors else log.strip().splitlines()[-1],
    }


def wait_until_up(client: httpx.Client, server: subprocess.Popen) -> bool:
    """True once /status answers; False if Hayhooks exited first (it refuses to start on some pipelines)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return False
        try:
            if client.get("/status").status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise TimeoutError("hayhooks did not answer /status within 90 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", type=Path, default=Path(".venv-hayhooks"), help="a venv with hayhooks 2.1.0")
    parser.add_argument("examples", nargs="*", help="names from cases.EXAMPLES (default: all)")
    args = parser.parse_args()
    chosen = [e for e in EXAMPLES if not args.examples or e.name in args.examples]
    needs = sorted({module for example in chosen for module in example.needs})
    probe = [str(args.venv / "bin" / "python"), "-c", f"import hayhooks, {', '.join(needs) or 'sys'}"]
    if subprocess.run(probe, capture_output=True).returncode != 0:  # else Hayhooks' import error is "expected"
        sys.exit(f"{args.venv} needs hayhooks=={sdist.VERSION} and the examples' packages: {', '.join(needs)}")
    EXPECTED.mkdir(parents=True, exist_ok=True)
    with fake_openai() as openai_url, fake_web() as web:
        for example in chosen:
            started = time.monotonic()
            fixture = record(example, args.venv, openai_url, web)
            (EXPECTED / f"{example.name}.json").write_text(json.dumps(fixture, indent=2, ensure_ascii=False) + "\n")
            done = f"{len(fixture['exchanges'])} exchanges" if "exchanges" in fixture else "startup refused"
            print(f"{example.name}: {done} in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
