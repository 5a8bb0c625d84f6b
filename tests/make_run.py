"""`make run`'s server in a test: `python -m core` on a free loopback port, ready when `/status` answers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from infra.emulator import free_port
from tests.cold import ROOT


@contextmanager
def make_run_server(env: dict[str, str]) -> Iterator[str]:
    """Serve with `env` (plus host and port) and yield the base URL; stopped on exit."""
    port = free_port()
    env = {**env, "HAYHOOKS_HOST": "127.0.0.1", "HAYHOOKS_PORT": str(port)}
    env.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
    proc = subprocess.Popen(
        [sys.executable, "-m", "core"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"python -m core exited: {proc.stderr.read() if proc.stderr else ''}")
            try:
                httpx.get(f"{base}/status", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail("python -m core did not answer within 60 s")
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if proc.stderr:
            proc.stderr.close()


def server_env(**extra: str) -> dict[str, str]:
    """This process's environment without HAYHOOKS_* settings, plus `extra`."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("HAYHOOKS_")}, **extra}
