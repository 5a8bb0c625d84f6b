"""Durable runs as the HTTP function sees them: Lambda durable executions of the worker function.

No store of our own: an execution's record (Hayhooks' keys) is projected from `GetDurableExecution` and its
history (handler/durable_worker.py writes one step per attempt, whose result carries progress, chunks, the
committed state and how the attempt ended). botocore is imported when the first durable route needs it.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from datetime import datetime
from typing import Any

WORKER_ENV = "HAYHOOKS_DURABLE_WORKER_ARN"
EXECUTION_ID_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"
TERMINAL = frozenset({"completed", "failed", "canceled"})
FAILED_MESSAGE = "Durable execution failed"
RETRY_ERROR = {"type": "RetryRequestedError", "message": "retry requested", "retryable": True, "code": None}


class ExecutionNotFound(LookupError):
    """No execution of this pipeline has that id."""


def execution_id_for(pipeline: str, idempotency_key: str | None) -> str:
    """The execution's id, which is also its DurableExecutionName: the same key of a pipeline, the same id."""
    if idempotency_key is None:
        return secrets.token_hex(16)
    return hashlib.sha256(f"{pipeline}\0{idempotency_key}".encode()).hexdigest()[:32]


def fingerprint(pipeline: str, request: dict[str, Any]) -> str:
    """What makes a resubmission with the same key the same request (Hayhooks: 409 when it differs)."""
    canonical = json.dumps({"pipeline": pipeline, "input": request}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class LambdaDurableRuns:
    """The worker's executions through the Lambda API (a botocore `lambda` client, or a stand-in in tests)."""

    def __init__(self, worker_arn: str, client: Any = None) -> None:
        self.function_name, self.qualifier = _split_qualifier(worker_arn)
        self._client = client

    @classmethod
    def from_env(cls) -> LambdaDurableRuns:
        arn = os.environ.get(WORKER_ENV, "")
        if not arn:
            raise RuntimeError(f"durable runs need the worker function: set {WORKER_ENV}")
        return cls(arn)

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3  # the standard configuration applies, AWS_ENDPOINT_URL_LAMBDA included

            self._client = boto3.client("lambda")
        return self._client

    def start(self, pipeline: str, execution_id: str, request: dict[str, Any]) -> str:
        payload = {
            "pipeline": pipeline,
            "execution_id": execution_id,
            "request": request,
            "fingerprint": fingerprint(pipeline, request),
        }
        answer = self.client.invoke(
            FunctionName=self.function_name,
            Qualifier=self.qualifier,
            InvocationType="Event",  # no HTTP request waits for a run
            DurableExecutionName=execution_id,
            Payload=json.dumps(payload).encode(),
        )
        return answer["DurableExecutionArn"]

    def find(self, execution_id: str) -> str:
        page = self.client.list_durable_executions_by_function(
            FunctionName=self.function_name, Qualifier=self.qualifier, DurableExecutionName=execution_id, MaxItems=1
        )
        found = page.get("DurableExecutions") or []
        if not found:
            raise ExecutionNotFound(execution_id)
        return found[0]["DurableExecutionArn"]

    def read(self, arn: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        execution = self.client.get_durable_execution(DurableExecutionArn=arn, IncludeExecutionData=True)
        events: list[dict[str, Any]] = []
        marker = None
        while True:
            extra = {"Marker": marker} if marker else {}
            page = self.client.get_durable_execution_history(
                DurableExecutionArn=arn, IncludeExecutionData=True, **extra
            )
            events.extend(page.get("Events", []))
            marker = page.get("NextMarker")
            if not marker:
                return execution, events

    def stop(self, arn: str) -> None:
        self.client.stop_durable_execution(
            DurableExecutionArn=arn,
            Error={"ErrorType": "DurableExecutionCancelledError", "ErrorMessage": "cancellation was requested"},
        )

    def answer_callback(self, callback_id: str, value: Any) -> None:
        self.client.send_durable_execution_callback_success(CallbackId=callback_id, Result=json.dumps(value).encode())


def _split_qualifier(arn: str) -> tuple[str, str]:
    # arn:aws:lambda:region:account:function:name[:qualifier]; the worker is called through its alias
    parts = arn.split(":")
    if len(parts) == 8:
        return ":".join(parts[:7]), parts[7]
    return arn, "$LATEST"


# -- the record --


def _payload(details: dict[str, Any] | None, key: str) -> Any:
    data = (details or {}).get(key) or {}
    raw = data.get("Payload") if isinstance(data, dict) else data
    return json.loads(raw) if raw else None


def _stamp(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def attempts(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The outcomes of the finished attempts, in order."""
    return [
        _payload(event.get("StepSucceededDetails"), "Result")
        for event in events
        if event.get("EventType") == "StepSucceeded" and str(event.get("Name", "")).startswith("attempt-")
    ]


def pending_callback(events: list[dict[str, Any]]) -> str | None:
    """The id of the resume callback the run waits on, if it waits on one."""
    open_callbacks: dict[str, str] = {}
    for event in events:
        kind, op = event.get("EventType", ""), event.get("Id")
        if kind == "CallbackStarted":
            open_callbacks[op] = event["CallbackStartedDetails"]["CallbackId"]
        elif kind.startswith("Callback"):
            open_callbacks.pop(op, None)
    return next(reversed(open_callbacks.values()), None)


def _status(execution: dict[str, Any], events: list[dict[str, Any]]) -> str:
    status = execution.get("Status")
    if status == "SUCCEEDED":
        return "completed"
    if status in ("FAILED", "TIMED_OUT"):
        return "failed"
    if status == "STOPPED":
        return "canceled"
    if pending_callback(events):
        return "waiting"
    started = {e.get("Id") for e in events if e.get("EventType") in ("StepStarted", "WaitStarted")}
    ended = {e.get("Id") for e in events if e.get("EventType") in ("StepSucceeded", "StepFailed", "WaitSucceeded")}
    open_ops = [
        e for e in events if e.get("Id") in started - ended and e.get("EventType") in ("StepStarted", "WaitStarted")
    ]
    if open_ops and str(open_ops[-1].get("Name", "")).startswith("continue-"):
        return "running"  # between two invocations of one run, not waiting to be retried
    if not open_ops or open_ops[-1].get("EventType") == "WaitStarted":
        return "queued"  # not claimed yet, or waiting out a retry delay, as Hayhooks' queued
    return "running"


def _error(execution: dict[str, Any], status: str, outcomes: list[dict[str, Any]]) -> dict[str, Any] | None:
    if status == "failed":
        last = outcomes[-1] if outcomes else {}
        if last.get("kind") == "failed":
            return last["error"]  # the attempt's own record (the SDK qualifies the execution's ErrorType)
        error = execution.get("Error") or {}
        if str(error.get("ErrorType", "")).endswith("DurableRunFailed"):
            return json.loads(error.get("ErrorMessage") or "{}")
        kind = "ExecutionTimedOutError" if execution.get("Status") == "TIMED_OUT" else "Error"
        return {"type": kind, "message": FAILED_MESSAGE, "retryable": False, "code": None}
    if status == "queued" and outcomes and outcomes[-1]["kind"] == "retry":
        return dict(RETRY_ERROR)
    return None


def project(
    execution_id: str, execution: dict[str, Any], events: list[dict[str, Any]], links: dict[str, str]
) -> dict[str, Any]:
    """Hayhooks' execution record from a Lambda durable execution and its history."""
    outcomes = attempts(events)
    status = _status(execution, events)
    progress = [
        {"sequence": number, **event}
        for number, event in enumerate((event for outcome in outcomes for event in outcome["progress"]), start=1)
    ]
    result = _payload({"Result": {"Payload": execution.get("Result")}}, "Result") if status == "completed" else None
    waiting = None
    if status == "waiting" and outcomes and outcomes[-1]["kind"] == "suspended":
        wait = outcomes[-1]["wait"]
        waiting = {key: wait[key] for key in ("kind", "message", "expected_input_schema") if key in wait}
    stamps = [event.get("EventTimestamp") for event in events if event.get("EventTimestamp") is not None]
    return {
        "execution_id": execution_id,
        "status": status,
        "attempt": sum(
            1 for e in events if e.get("EventType") == "StepStarted" and str(e.get("Name")).startswith("attempt-")
        ),
        "sequence": len(events),
        "progress": progress,
        "result": result["result"] if isinstance(result, dict) else None,
        "error": _error(execution, status, outcomes),
        "waiting": waiting,
        "cancellation_requested_at": _stamp(execution.get("EndTimestamp")) if status == "canceled" else None,
        "created_at": _stamp(execution.get("StartTimestamp")),
        "updated_at": _stamp(
            execution.get("EndTimestamp") or (stamps[-1] if stamps else execution.get("StartTimestamp"))
        ),
        "links": links,
    }


def stream_chunks(events: list[dict[str, Any]]) -> list[tuple[str, int, Any]]:
    """Every display chunk so far as (cursor, attempt, payload); cursors are `<attempt>-<index>`."""
    return [
        (f"{outcome['attempt']}-{index}", outcome["attempt"], chunk)
        for outcome in attempts(events)
        for index, chunk in enumerate(outcome.get("chunks", []))
    ]
