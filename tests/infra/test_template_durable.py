"""DurableMode in template.yaml: off adds nothing; on adds the worker (a Lambda durable function from the same
code), its alias in the HTTP function's environment, and least-privilege grants for both."""

import json

from tests.infra.test_template import conditions_for, resolve, translate


def _statements(role: dict, conditions: dict) -> dict:
    granted = resolve(role["Properties"].get("Policies", []), conditions)
    return {s["Sid"]: s for p in granted for s in p["PolicyDocument"]["Statement"]}


def test_durable_mode_off_changes_nothing_for_the_http_function():
    template = translate()
    resources = template["Resources"]
    off = conditions_for("api-key", UseDurableMode=False)
    env = resolve(resources["PipelinesFunction"]["Properties"]["Environment"]["Variables"], off)
    assert not [name for name in env if "DURABLE" in name]
    assert not [sid for sid in _statements(resources["PipelinesFunctionRole"], off) if "Durable" in sid]
    assert resources["DurableWorkerFunction"]["Condition"] == "UseDurableMode"
    assert template["Conditions"]["UseDurableMode"] == {"Fn::Equals": [{"Ref": "DurableMode"}, "on"]}
    assert template["Parameters"]["DurableMode"]["Default"] == "off"


def test_durable_mode_on_adds_the_worker_and_wires_the_http_function_to_its_alias():
    template = translate(DurableMode="on", DurableExecutionTimeout="3600", DurableRetentionDays="7")
    resources = template["Resources"]
    on = conditions_for("api-key", UseDurableMode=True)

    worker = resources["DurableWorkerFunction"]["Properties"]
    assert worker["Handler"] == "handler.durable_worker.lambda_handler"
    assert worker["Code"] == resources["PipelinesFunction"]["Properties"]["Code"]  # the same artifact
    assert worker["DurableConfig"] == {
        "ExecutionTimeout": {"Ref": "DurableExecutionTimeout"},
        "RetentionPeriodInDays": {"Ref": "DurableRetentionDays"},
    }
    assert worker["Timeout"] == {"Ref": "DurableWorkerTimeout"}
    assert resources["DurableWorkerFunctionAliaslive"]["Properties"]["Name"] == "live"
    worker_env = resolve(worker["Environment"]["Variables"], on)
    assert worker_env["HAYHOOKS_DURABLE_MODE"] == "true" and worker_env["HAYSTACK_TELEMETRY_ENABLED"] == "False"

    env = resolve(resources["PipelinesFunction"]["Properties"]["Environment"]["Variables"], on)
    assert env["HAYHOOKS_DURABLE_MODE"] == "true"
    assert env["HAYHOOKS_DURABLE_WORKER_ARN"] == {"Ref": "DurableWorkerFunctionAliaslive"}

    http = _statements(resources["PipelinesFunctionRole"], on)
    assert http["StartDurableRuns"]["Action"] == "lambda:InvokeFunction"
    assert http["StartDurableRuns"]["Resource"] == {"Ref": "DurableWorkerFunctionAliaslive"}
    assert http["FindDurableRuns"]["Action"] == "lambda:ListDurableExecutionsByFunction"
    assert sorted(http["ReadStopResumeDurableRuns"]["Action"]) == [
        "lambda:GetDurableExecution",
        "lambda:GetDurableExecutionHistory",
        "lambda:SendDurableExecutionCallbackSuccess",
        "lambda:StopDurableExecution",
    ]
    assert http["ReadStopResumeDurableRuns"]["Resource"] == {"Fn::Sub": "${DurableWorkerFunction.Arn}:*"}
    assert "*" not in json.dumps([s["Resource"] for s in http.values() if "Durable" in s["Sid"]]).replace(":*", "")

    # the worker's role: the SDK's checkpoint and state calls (SAM's managed policy for durable functions), and
    # nothing of the HTTP function's (no key, no invoking itself or reading other executions)
    role = resources["DurableWorkerFunctionRole"]["Properties"]
    managed = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicDurableExecutionRolePolicy"
    assert role["ManagedPolicyArns"] == [managed]
    assert _statements(resources["DurableWorkerFunctionRole"], on) == {}
    assert template["Outputs"]["DurableWorkerAlias"]["Condition"] == "UseDurableMode"
