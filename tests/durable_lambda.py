"""A local stand-in for the Lambda durable APIs the HTTP function calls, over the durable SDK's local runner.

The runner starts executions only through its own entry, so `invoke` (the Lambda front door) is ours; the
reads, stop and callbacks are the runner's executor, answering in the Lambda API's shapes (PascalCase)."""

from __future__ import annotations

import json
import time
from typing import Any


class LocalDurableLambda:
    """The methods of a botocore `lambda` client that core/durable_runs.py uses."""

    def __init__(self, runner: Any) -> None:
        self.runner = runner
        self._executor = runner._executor  # the runner has no public read of an execution's details
        self.arns: dict[str, str] = {}
        self.calls: list[str] = []

    def invoke(self, *, FunctionName, Qualifier, InvocationType, DurableExecutionName, Payload):
        self.calls.append("Invoke")
        assert InvocationType == "Event" and Qualifier == "live"
        arn = self.runner.run_async(
            input=Payload.decode(), execution_name=DurableExecutionName, function_name=FunctionName.split(":")[-1]
        )
        self.arns[DurableExecutionName] = arn
        return {"StatusCode": 202, "DurableExecutionArn": arn}

    def list_durable_executions_by_function(self, *, FunctionName, Qualifier, DurableExecutionName, MaxItems):
        self.calls.append("ListDurableExecutionsByFunction")
        arn = self.arns.get(DurableExecutionName)
        return {"DurableExecutions": [] if arn is None else [{"DurableExecutionArn": arn}]}

    def get_durable_execution(self, *, DurableExecutionArn, IncludeExecutionData):
        self.calls.append("GetDurableExecution")
        return self._executor.get_execution_details(DurableExecutionArn).to_dict()

    def get_durable_execution_history(self, *, DurableExecutionArn, IncludeExecutionData, Marker=None):
        self.calls.append("GetDurableExecutionHistory")
        return self.runner.get_execution_history(DurableExecutionArn, include_execution_data=True).to_dict()

    def stop_durable_execution(self, *, DurableExecutionArn, Error):
        from aws_durable_execution_sdk_python.lambda_service import ErrorObject

        self.calls.append("StopDurableExecution")
        self._executor.stop_execution(DurableExecutionArn, ErrorObject.from_dict(Error))
        return {}

    def send_durable_execution_callback_success(self, *, CallbackId, Result):
        self.calls.append("SendDurableExecutionCallbackSuccess")
        self.runner.send_callback_success(CallbackId, Result)
        return {}


def decoded(record: Any) -> Any:
    return json.loads(json.dumps(record))


class _ContextWithDeadline:
    """The runner's Lambda context, but with the time left of a function whose timeout is `timeout_s`
    (the runner's own context always answers 15 minutes)."""

    def __init__(self, context: Any, deadline: float) -> None:
        self._context = context
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


class TimedInvocations:
    """A worker handler invoked as Lambda invokes a function with a timeout: each invocation sees its own
    deadline, and how long each one lasted is kept (pair it with the runner's `invocation_timeout`, which
    kills an invocation that overruns)."""

    def __init__(self, handler: Any, timeout_s: float) -> None:
        self.handler = handler
        self.timeout_s = timeout_s
        self.durations: list[float] = []

    def __call__(self, event: Any, context: Any) -> Any:
        started = time.monotonic()
        try:
            return self.handler(event, _ContextWithDeadline(context, started + self.timeout_s))
        finally:
            self.durations.append(time.monotonic() - started)
