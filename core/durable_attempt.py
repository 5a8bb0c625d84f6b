"""One attempt of a durable run: call the wrapper's durable method once and say how it ended.

The outcome is a JSON object (it becomes a Lambda durable step's result, which the HTTP function reads back
from the execution's history): `kind` is `completed`, `failed`, `retry`, `suspended` or `continue` (a checkpoint
near the end of the invocation), with what the attempt
committed (`state`, `resume_input`) and reported (`progress`, `chunks`). Errors are recorded as Hayhooks
records them: the exception's type, a fixed message (the cause goes to the log, not to the client).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import Any, get_type_hints

from pydantic import BaseModel

from core.durable import ContinueRequested, DurableContext, RetryRequested, SuspendRequested, durable_context_scope
from core.wrapper import implements

logger = logging.getLogger("core.durable_attempt")

FAILED_MESSAGE = "Durable execution failed"


class DurableRunnerError(TypeError):
    """The wrapper's durable method does not have Hayhooks' shape (context, request model)."""


def durable_runner(wrapper: object) -> tuple[Any, type[BaseModel], type[BaseModel] | None]:
    """The wrapper's durable method with its request model and result model (if its return is a model)."""
    cls = type(wrapper)
    name = "run_durable_async" if implements(cls, "run_durable_async") else "run_durable"
    if not implements(cls, name):
        raise DurableRunnerError("the wrapper implements neither run_durable_async nor run_durable")
    method = getattr(wrapper, name)
    parameters = list(inspect.signature(method).parameters.values())
    if len(parameters) != 2 or any(p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in parameters):
        raise DurableRunnerError("durable methods take exactly two positional arguments: context and request")
    try:
        hints = get_type_hints(method)
    except (NameError, TypeError) as exc:
        raise DurableRunnerError(f"durable method annotations must resolve: {exc}") from None
    request_model = hints.get(parameters[1].name)
    if not (isinstance(request_model, type) and issubclass(request_model, BaseModel)):
        raise DurableRunnerError("the durable request parameter must be annotated with a Pydantic model")
    result_model = hints.get("return")
    if not (isinstance(result_model, type) and issubclass(result_model, BaseModel)):
        result_model = None
    return method, request_model, result_model


def check_durable_wrapper(wrapper: object) -> None:
    """Hayhooks' rules for a durable wrapper, checked at load: one durable method of the right shape, a
    revision, and a resume model that is a Pydantic model (or none)."""
    cls = type(wrapper)
    if implements(cls, "run_durable") == implements(cls, "run_durable_async"):
        raise DurableRunnerError("implement exactly one of run_durable and run_durable_async")
    revision = getattr(wrapper, "durable_revision", None)
    if not isinstance(revision, str) or not revision.strip():
        raise DurableRunnerError("a durable wrapper needs a durable_revision: a non-empty string")
    resume_model = getattr(wrapper, "durable_resume_model", None)
    if resume_model is not None and not (isinstance(resume_model, type) and issubclass(resume_model, BaseModel)):
        raise DurableRunnerError("durable_resume_model must be a Pydantic model class, or None")
    durable_runner(wrapper)


def run_attempt(
    wrapper: object,
    request: dict[str, Any],
    *,
    execution_id: str,
    attempt: int,
    state: dict[str, Any],
    resume_input: Any = None,
    remaining_ms: Callable[[], int] | None = None,
    continue_margin_ms: int = 2000,
) -> dict[str, Any]:
    """Run the durable method once; never raises for what the wrapper does."""
    method, request_model, result_model = durable_runner(wrapper)
    context = DurableContext(
        execution_id=execution_id,
        attempt=attempt,
        state=state,
        resume_input=resume_input,
        pipeline=getattr(wrapper, "pipeline", None),
        remaining_ms=remaining_ms,
        continue_margin_ms=continue_margin_ms,
    )
    outcome: dict[str, Any]
    try:
        with durable_context_scope(context):
            model = request_model.model_validate(request)
            if inspect.iscoroutinefunction(method):
                value = asyncio.run(method(context, model))
            else:
                value = method(context, model)
        if result_model is not None:
            value = result_model.model_validate(value).model_dump(mode="json")
        elif isinstance(value, BaseModel):
            value = value.model_dump(mode="json")
        outcome = {"kind": "completed", "result": value}
    except ContinueRequested:
        outcome = {"kind": "continue"}
    except SuspendRequested as signal:
        outcome = {"kind": "suspended", "wait": signal.wait}
    except RetryRequested as signal:
        outcome = {"kind": "retry", "message": str(signal), "delay": signal.delay}
    except Exception as exc:
        logger.exception("durable execution %s failed in attempt %d", execution_id, attempt)
        outcome = {"kind": "failed", "error": error_record(type(exc).__name__)}
    record = context.record
    outcome.update(
        attempt=attempt,
        state=record.committed_state,
        resume_input=context.resume_input_left,
        progress=record.progress,
        chunks=record.chunks,
    )
    return outcome


def error_record(error_type: str, message: str = FAILED_MESSAGE, *, retryable: bool = False, code: str | None = None):
    """Hayhooks' `error` of an execution record."""
    return {"type": error_type, "message": message, "retryable": retryable, "code": code}
