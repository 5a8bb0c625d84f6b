"""Run a cold start in a fresh Python process, as Lambda's init phase does (import `handler`, read its
`lambda_handler`), and invoke it over API Gateway events."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

INVOKE = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {root!r})
    from infra.lambda_events import Context, http_v2, parse
    import handler
    lambda_handler = handler.lambda_handler  # the cold start: Lambda's runtime reads it at init, as here
    out = []
    for method, path, body in {calls!r}:
        reply = parse(lambda_handler(http_v2(method, path, body=body), Context()))
        out.append({{"status": reply.status, "body": reply.json()}})
    print(json.dumps(out))
    """
)


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without any HAYHOOKS_* setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAYHOOKS_")}
    env.update(HAYSTACK_TELEMETRY_ENABLED="False", **extra)
    return env


def run_cold(calls: list, env: dict[str, str] | None = None, root: Path = ROOT) -> subprocess.CompletedProcess:
    code = INVOKE.format(root=str(root), calls=calls)
    return subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", code],
        cwd=root,
        env=clean_env(PYTHONPATH=str(root), **(env or {})),
        capture_output=True,
        text=True,
        timeout=120,
    )


def replies(proc: subprocess.CompletedProcess) -> list[dict]:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])
