"""Durable runs on this machine, without AWS or Docker: the worker function under the Runtime Interface Emulator,
dex-local-runner driving its executions, and the Lambda front door (infra/lambda_front_door.py) in front.

    python -m infra.durable_local --artifact .aws-sam/build/PipelinesFunction

serves until Ctrl+C and prints the environment the HTTP function needs (`make run`, or `handler.lambda_handler`
in a test): `AWS_ENDPOINT_URL_LAMBDA` at the front door, so its botocore client goes the way it goes on AWS.

    HTTP function --Invoke(DurableExecutionName), GetDurableExecution…--> front door --> dex-local-runner
    dex-local-runner --Invoke (marked)--> front door --> aws-lambda-rie --> handler.durable_worker.lambda_handler
    worker's SDK --CheckpointDurableExecution, GetDurableExecutionState--> dex-local-runner
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from infra.emulator import CAN_MOUNT_READ_ONLY, Emulator, EmulatorError, free_port
from infra.lambda_front_door import ACCOUNT_ID, LambdaFrontDoor

WORKER_NAME = "worker"
WORKER_HANDLER = "handler.durable_worker.lambda_handler"
REGION = "us-west-2"  # dex-local-runner's region: the ARNs it makes name it
# botocore signs every call; nothing local checks the signature
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local"}


def dex_local_runner() -> Path:
    """The `dex-local-runner` command installed next to this Python (requirements-dev.lock)."""
    command = Path(sys.executable).parent / "dex-local-runner"
    if not command.exists():
        raise EmulatorError(f"{command} is missing: run make install (aws-durable-execution-sdk-python-testing)")
    return command


class LocalDurable:
    """The three servers, started by `with` and stopped after; `http_function_env()` is what to point at them."""

    def __init__(
        self,
        artifact: Path,
        logs: Path,
        *,
        pipelines: Path | None = None,
        timeout_s: int = 29,
        workers: int = 1,
        python_path: tuple[Path, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.artifact = artifact
        self.logs = logs
        self.pipelines = pipelines
        self.timeout_s = timeout_s
        self.workers = workers
        self.python_path = python_path
        self.env = env or {}
        self.emulators: list[Emulator] = []
        self.runner: subprocess.Popen | None = None
        self.door: LambdaFrontDoor | None = None

    @property
    def worker_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{WORKER_NAME}:live"

    def http_function_env(self) -> dict[str, str]:
        assert self.door is not None, "not started"
        return {
            "HAYHOOKS_DURABLE_MODE": "true",
            "HAYHOOKS_DURABLE_WORKER_ARN": self.worker_arn,
            "AWS_ENDPOINT_URL_LAMBDA": self.door.url,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            **LOCAL_CREDENTIALS,
        }

    def __enter__(self) -> LocalDurable:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        runner_url = f"http://127.0.0.1:{free_port()}"
        task = "/var/task" if CAN_MOUNT_READ_ONLY else str(self.artifact)
        worker_env = {
            **LOCAL_CREDENTIALS,
            "AWS_ENDPOINT_URL_LAMBDA": runner_url,  # the SDK's checkpoints go to the runner
            "AWS_LAMBDA_FUNCTION_NAME": WORKER_NAME,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(self.timeout_s),  # the emulator ends an invocation that overruns
            "PYTHONPATH": ":".join([task, *map(str, self.python_path)]),
            **({"HAYHOOKS_PIPELINES_DIR": str(self.pipelines)} if self.pipelines else {}),
            **self.env,
        }
        for number in range(self.workers):
            log = self.logs / f"worker-{number}.log"
            self.emulators.append(Emulator(self.artifact, worker_env, log, handler=WORKER_HANDLER))
        self.door = LambdaFrontDoor(
            runner_url,
            {WORKER_NAME: [f"http://127.0.0.1:{rie.port}" for rie in self.emulators]},
            invocation_timeout_s=self.timeout_s + 30,
        ).start()
        options = {
            "--host": "127.0.0.1",
            "--port": runner_url.rsplit(":", 1)[1],
            "--lambda-endpoint": self.door.url,
            "--local-runner-endpoint": runner_url,
            "--local-runner-region": REGION,
            # the emulator times an invocation out itself; the runner waits a little longer for its answer
            "--invocation-timeout": str(self.timeout_s + 5),
        }
        self.runner = subprocess.Popen(
            [str(dex_local_runner()), "start-server", *(word for pair in options.items() for word in pair)],
            env={**os.environ, **LOCAL_CREDENTIALS, "AWS_DEX_LOG_LEVEL": "WARNING"},
            stdout=(self.logs / "dex-local-runner.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{runner_url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.runner.poll() is not None or time.monotonic() > deadline:
                log = (self.logs / "dex-local-runner.log").read_text()[-2000:]
                raise EmulatorError(f"dex-local-runner did not start: {log}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.runner is not None and self.runner.poll() is None:
            self.runner.terminate()
            self.runner.wait(timeout=10)
        if self.door is not None:
            self.door.stop()
        for rie in self.emulators:
            rie.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.durable_local", description=__doc__.split("\n\n")[0])
    parser.add_argument("--artifact", type=Path, required=True, help="a built artifact (make build's output)")
    parser.add_argument("--pipelines", type=Path, help="a pipelines folder other than the one built in")
    parser.add_argument(
        "--python-path", type=Path, action="append", default=[], help="a folder the worker also imports from"
    )
    parser.add_argument("--timeout", type=int, default=29, help="the worker's timeout in seconds (default 29)")
    parser.add_argument("--workers", type=int, default=1, help="worker emulators, each one invocation at a time")
    parser.add_argument("--logs", type=Path, default=Path(".durable-local"), help="where the servers log")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop the servers on a plain kill too
    pipelines = args.pipelines.resolve() if args.pipelines else None
    with LocalDurable(
        args.artifact.resolve(),
        args.logs,
        pipelines=pipelines,
        timeout_s=args.timeout,
        workers=args.workers,
        python_path=tuple(path.resolve() for path in args.python_path),
    ) as local:
        print("Durable runs served locally. Start the HTTP function with:")
        print(" ".join(f"{key}={value}" for key, value in local.http_function_env().items()), "make run")
        print(f"Logs in {args.logs}/. Ctrl+C stops.")
        try:
            while local.runner is not None and local.runner.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
