"""The durable worker: a second Lambda function (DurableConfig) that runs wrappers' durable methods.

The HTTP function starts an execution with `Invoke(DurableExecutionName=…)` and the payload
`{"pipeline", "execution_id", "request"}`; this function runs it as a Lambda durable execution:

- each attempt of the wrapper's method is one durable step (`attempt-N`, no SDK retries: Hayhooks' own
  retry rules apply), so a step's timeout is one attempt, and its result is the attempt's outcome
  (core/durable_attempt.py), which the HTTP function reads back from the execution's history;
- `context.retry(delay=…)` is a durable wait (`retry-N`; at least one second, whole seconds), after which the
  next attempt runs: the function is not running (or billed) while it waits;
- `context.suspend(…)` is a durable callback (`resume-N`) whose id the HTTP function's `…/resume` answers
  with `SendDurableExecutionCallbackSuccess`; the answer is the next attempt's `context.resume_input`;
- `context.checkpoint()` when the invocation's time left (the Lambda context's) would not fit another
  stretch of the wrapper's work ends the attempt as a continuation: a one-second durable wait (`continue-N`),
  then the next invocation runs a new attempt from the committed state. It is not a failure and no retry is
  spent, so a run is as long as its checkpoints allow, whatever the function's timeout.

Replays only re-read checkpointed steps, so the wrapper's code runs once per attempt. Nothing here is
imported by the HTTP function. The template's handler is `handler.durable_worker.lambda_handler`: reading it
(Lambda does, at init) loads the pipelines and the SDK, as reading `handler.lambda_handler` cold-starts the
HTTP function; importing this module builds nothing.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Callable
from typing import Any

from core.durable_attempt import error_record, run_attempt

MAX_RETRIES_ENV = "HAYHOOKS_DURABLE_MAX_APPLICATION_RETRIES"
RETRY_BASE_DELAY_ENV = "HAYHOOKS_DURABLE_RETRY_BASE_DELAY_SECONDS"
RETRY_MAX_DELAY_ENV = "HAYHOOKS_DURABLE_RETRY_MAX_DELAY_SECONDS"
# time kept free at the end of an invocation, past the longest stretch between checkpoints: the attempt's
# result and the continuation's wait are checkpointed in it
CONTINUE_MARGIN_ENV = "HAYHOOKS_DURABLE_CONTINUE_MARGIN_MS"
CONTINUE_WAIT_SECONDS = 1  # the shortest durable wait


class DurableRunFailed(Exception):
    """The run ended failed: its message is the execution record's `error`, as JSON."""


def _float_env(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return default if raw in (None, "") else float(raw)


def retry_delay_seconds(requested: float | None, retries_so_far: int) -> int:
    """Hayhooks' delay (the wrapper's, or base × 2^n, capped), as a durable wait takes it: whole seconds, ≥ 1."""
    base = _float_env(RETRY_BASE_DELAY_ENV, 1.0)
    cap = _float_env(RETRY_MAX_DELAY_ENV, 60.0)
    delay = base * (2 ** min(retries_so_far, 30)) if requested is None else requested
    return max(1, math.ceil(min(delay, cap)))


def orchestrate(event: dict[str, Any], context: Any, wrapper_for: Callable[[str], object]) -> Any:
    """The durable handler's body: attempts, retry waits and resume callbacks, replay-safe."""
    from aws_durable_execution_sdk_python.config import Duration, StepConfig
    from aws_durable_execution_sdk_python.retries import RetryDecision
    from aws_durable_execution_sdk_python.serdes import JsonSerDes

    # plain JSON results: the HTTP function reads them from the history without the SDK
    no_sdk_retry = StepConfig(retry_strategy=lambda _error, _attempt: RetryDecision.no_retry(), serdes=JsonSerDes())
    max_retries = int(_float_env(MAX_RETRIES_ENV, 2))
    continue_margin_ms = int(_float_env(CONTINUE_MARGIN_ENV, 2000))
    lambda_context = getattr(context, "lambda_context", None)
    remaining_ms = getattr(lambda_context, "get_remaining_time_in_millis", None)
    wrapper = wrapper_for(event["pipeline"])
    execution_id = event["execution_id"]
    request = event["request"]
    state: dict[str, Any] = {}
    resume_input: Any = None
    retries = 0
    attempt = 0
    while True:
        attempt += 1
        outcome = context.step(
            functools.partial(
                _attempt_step,
                wrapper,
                request,
                execution_id,
                attempt=attempt,
                state=state,
                resume_input=resume_input,
                remaining_ms=remaining_ms,
                continue_margin_ms=continue_margin_ms,
            ),
            name=f"attempt-{attempt}",
            config=no_sdk_retry,
        )
        state, resume_input = outcome["state"], outcome["resume_input"]
        kind = outcome["kind"]
        if kind == "completed":
            return {"result": outcome["result"]}
        if kind == "failed":
            raise DurableRunFailed(json.dumps(outcome["error"]))
        if kind == "continue":
            context.wait(Duration.from_seconds(CONTINUE_WAIT_SECONDS), name=f"continue-{attempt}")
        elif kind == "retry":
            if retries >= max_retries:
                raise DurableRunFailed(
                    json.dumps(error_record("ApplicationRetriesExhaustedError", "application retries exhausted"))
                )
            context.wait(Duration.from_seconds(retry_delay_seconds(outcome["delay"], retries)), name=f"retry-{attempt}")
            retries += 1
        elif kind == "suspended":
            callback = context.create_callback(name=f"resume-{attempt}")
            answer = callback.result()
            resume_input = json.loads(answer) if isinstance(answer, str | bytes) and answer else answer


def _attempt_step(wrapper: object, request: dict[str, Any], execution_id: str, _step: Any, **carried: Any) -> Any:
    return run_attempt(wrapper, request, execution_id=execution_id, **carried)


class DurableWorker:
    """The worker function's handler: loads the pipelines on first use, then runs executions."""

    def __init__(self, wrapper_for: Callable[[str], object] | None = None) -> None:
        self._wrapper_for = wrapper_for
        self._handler: Callable[[Any, Any], Any] | None = None

    def __call__(self, event: Any, lambda_context: Any) -> Any:
        return self.prepare()(event, lambda_context)

    def prepare(self) -> Callable[[Any, Any], Any]:
        """Load the pipelines and the SDK (once): at init on Lambda, by the first invocation in tests."""
        if self._handler is None:
            from aws_durable_execution_sdk_python.execution import durable_execution

            wrapper_for = self._wrapper_for or _registry_lookup()
            self._handler = durable_execution(lambda ev, ctx: orchestrate(ev, ctx, wrapper_for))
        return self._handler


def _registry_lookup() -> Callable[[str], object]:
    """The deployed pipelines, loaded as the HTTP function loads them (same code, folder and secrets), in
    durable mode whatever the environment says: it is what this function is for."""
    import dataclasses

    from core.loader import load_registry
    from core.logs import configure_logging
    from core.redact import remember_secret_values, secret_values
    from core.secrets import resolve as resolve_secrets
    from core.settings import Settings, set_in_use

    os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
    settings = dataclasses.replace(Settings.from_env(), durable_mode=True)
    set_in_use(settings)
    configure_logging(settings.log_level)
    resolve_secrets(settings.secrets)  # before any setup() reads its keys, as on the HTTP function
    variables = [ref.variable for ref in settings.secrets]
    remember_secret_values(secret_values(os.environ, secret_variables=variables, api_keys=()), only=True)
    registry = load_registry(settings)

    def wrapper_for(name: str) -> object:
        loaded = registry.get(name)
        if loaded is None:
            raise LookupError(f"no durable pipeline named {name!r}")
        return loaded.wrapper

    return wrapper_for


def __getattr__(name: str) -> Any:
    """`lambda_handler`, built on first read: Lambda reads it at init (the cold start of the worker)."""
    if name == "lambda_handler":
        from handler import prepare_imports

        prepare_imports()  # as the HTTP function's cold start: light FastAPI and NetworkX, posthog deferred
        worker = DurableWorker()
        worker.prepare()
        globals()["lambda_handler"] = worker
        return worker
    raise AttributeError(f"module 'handler.durable_worker' has no attribute {name!r}")
