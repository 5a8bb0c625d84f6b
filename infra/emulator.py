"""The Lambda Runtime Interface Emulator running a built artifact, as Lambda runs it, without Docker.

`aws-lambda-rie` ships inside the aws-sam-cli wheel (.venv-sam); `awslambdaric` in a bare Python 3.13
venv (.venv-runtime) plays Lambda's /var/runtime. As root, the artifact is bind-mounted read-only at
/var/task in a private mount namespace, exactly the view a function has on Lambda.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
ARCH = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
RIE = ROOT / ".venv-sam/lib/python3.13/site-packages/samcli/local/rapid" / f"aws-lambda-rie-{ARCH}"
RUNTIME_PYTHON = ROOT / ".venv-runtime/bin/python"
CAN_MOUNT_READ_ONLY = os.geteuid() == 0 and shutil.which("unshare") is not None


class EmulatorError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lambda_environment(task: str) -> dict[str, str]:
    """The environment Lambda gives a python3.13 function (the parts the code can notice)."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": task,
        "PYTHONPATH": task,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "haystack-lambda",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "2048",
        "AWS_LAMBDA_FUNCTION_TIMEOUT": "29",
        "HAYSTACK_TELEMETRY_ENABLED": "False",  # as template.yaml sets it
    }


def in_task_root(command: str, read_only: bool) -> tuple[list[str], str]:
    """argv running `command` (sh) with the artifact ($ARTIFACT) as the working directory."""
    if not read_only:
        return ["sh", "-c", command], "$ARTIFACT"
    mount = (
        'mount -t tmpfs tmpfs /var && mkdir /var/task && mount --bind "$ARTIFACT" /var/task '
        "&& mount -o remount,bind,ro /var/task && cd /var/task && "
    )
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", mount + command], "/var/task"


class Emulator:
    """aws-lambda-rie running `handler` (the template's Handler) from `artifact`; `invoke(event)` is one invocation."""

    def __init__(
        self,
        artifact: Path,
        env: dict[str, str],
        log: Path,
        *,
        read_only: bool = CAN_MOUNT_READ_ONLY,
        handler: str = "handler.lambda_handler",
    ):
        for needed in (RIE, RUNTIME_PYTHON):
            if not needed.exists():
                raise EmulatorError(f"{needed} is missing: run make install")
        self.port = free_port()
        self.log = log
        command = (
            f'exec "$RIE" --runtime-interface-emulator-address 127.0.0.1:{self.port} '
            f'--runtime-api-address 127.0.0.1:{free_port()} "$RUNTIME_PYTHON" -m awslambdaric {handler}'
        )
        argv, task = in_task_root(command, read_only)
        task = str(artifact) if task == "$ARTIFACT" else task
        self.proc = subprocess.Popen(
            argv,
            cwd=str(artifact),
            env={
                **lambda_environment(task),
                "RIE": str(RIE),
                "RUNTIME_PYTHON": str(RUNTIME_PYTHON),
                "ARTIFACT": str(artifact),
                **env,
            },
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise EmulatorError(f"the emulator exited: {log.read_text()[-2000:]}") from None
                time.sleep(0.02)
        self.stop()
        raise EmulatorError("the emulator did not listen within 30 s")

    def invoke(self, event: dict) -> dict:
        url = f"http://127.0.0.1:{self.port}/2015-03-31/functions/function/invocations"
        return httpx.post(url, content=json.dumps(event), timeout=60).json()

    def init_ms(self) -> float:
        """The init phase as the emulator reports it: `INIT REPORT(durationMs: N)`."""
        match = re.search(r"INIT REPORT\(durationMs: ([0-9.]+)\)", self.log.read_text())
        if not match:
            raise EmulatorError(f"no INIT REPORT in the emulator's log: {self.log.read_text()[-2000:]}")
        return float(match.group(1))

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
