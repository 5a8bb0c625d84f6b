"""template.yaml translated by SAM for each AuthMode, then linted: what CloudFormation will create."""

import json
import os
import subprocess

import pytest

from tests.cold import ROOT

SAM_PYTHON = ROOT / ".venv-sam/bin/python"


def translate(**parameters: str) -> dict:
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    proc = subprocess.run(
        [
            str(SAM_PYTHON),
            str(ROOT / "tests/infra/translate_template.py"),
            str(ROOT / "template.yaml"),
            *(f"{k}={v}" for k, v in parameters.items()),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["lint"] == []
    return result["template"]


def resolve(node, conditions):
    """Evaluate Fn::If with known conditions, as CloudFormation would for one set of parameters."""
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, yes, no = node["Fn::If"]
            return resolve(yes if conditions[name] else no, conditions)
        return {k: resolve(v, conditions) for k, v in node.items() if resolve(v, conditions) != {"Ref": "AWS::NoValue"}}
    if isinstance(node, list):
        return [resolve(v, conditions) for v in node if resolve(v, conditions) != {"Ref": "AWS::NoValue"}]
    return node


def conditions_for(mode: str, **extra: bool) -> dict[str, bool]:
    return {
        "UseApiKey": mode == "api-key",
        "UseJwt": mode == "jwt",
        "UseIam": mode == "iam",
        "NoAuth": mode == "none",
        "HasPipelinesS3Uri": False,
        "UseSnapStart": False,
        "HasBedrockModel": False,
        "HasSsmSecrets": False,
        "HasManagerSecrets": False,
        "HasAllowlist": False,
        "HasApp": False,
        "TracingOn": True,
        "UseDurableMode": False,
        **extra,
    }


@pytest.mark.parametrize("mode", ["api-key", "jwt", "iam", "none"])
def test_each_auth_mode_translates_and_lints_clean(mode):
    template = translate(AuthMode=mode)
    resources = template["Resources"]
    body = resolve(resources["HttpApi"]["Properties"]["Body"], conditions_for(mode))
    security = [body["paths"][p]["x-amazon-apigateway-any-method"].get("security") for p in ("/", "/{proxy+}")]
    expected = {"api-key": None, "jwt": [{"JwtAuthorizer": []}], "iam": [{"sigv4": []}], "none": None}[mode]
    assert security == [expected, expected]
    for path in body["paths"].values():
        assert path["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]["type"] == "aws_proxy"
    env = resolve(resources["PipelinesFunction"]["Properties"]["Environment"]["Variables"], conditions_for(mode))
    assert ("HAYHOOKS_API_KEYS_SECRET" in env) == (mode == "api-key")
    assert resources["ApiKeySecret"]["Condition"] == "UseApiKey"
    assert template["Outputs"]["AuthWarning"]["Condition"] == "NoAuth"
    assert env["HAYSTACK_TELEMETRY_ENABLED"] == "False"
    assert "HAYSTACK_DESERIALIZATION_ALLOWLIST" not in env  # Haystack's own default unless a list is given
    allowing = resolve(
        resources["PipelinesFunction"]["Properties"]["Environment"]["Variables"],
        conditions_for(mode, HasAllowlist=True),
    )
    assert allowing["HAYSTACK_DESERIALIZATION_ALLOWLIST"] == {"Ref": "DeserializationAllowlist"}


def test_policies_only_for_what_is_configured():
    template = translate(
        PipelinesS3Uri="s3://team-bucket/pipelines/v7/",
        BedrockModelId="amazon.nova-lite-v1:0",
        SecretsSsmPrefix="/haystack/",
        SecretsManagerPrefix="haystack/",
    )
    role = template["Resources"]["PipelinesFunctionRole"]["Properties"]
    everything = conditions_for(
        "api-key", HasPipelinesS3Uri=True, HasBedrockModel=True, HasSsmSecrets=True, HasManagerSecrets=True
    )
    nothing = conditions_for("none", TracingOn=False)
    granted = resolve(role.get("Policies", []), everything)
    sids = {s["Sid"] for p in granted for s in p["PolicyDocument"]["Statement"]}
    assert sids == {
        "ReadPublishedPipelines",
        "InvokeChosenBedrockModel",
        "ReadApiKeys",
        "ReadSecretParameters",
        "ReadSecrets",
        "SendSpansToXRayOtlpEndpoint",
    }
    assert resolve(role.get("Policies", []), nothing) == []
    s3 = next(s for p in granted for s in p["PolicyDocument"]["Statement"] if s["Sid"] == "ReadPublishedPipelines")
    assert s3["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert "arn:${AWS::Partition}:s3:::${Location}*" in json.dumps(s3["Resource"])


def test_tracing_parameter_switches_lambda_tracing_and_opentelemetry():
    template = translate()
    function = template["Resources"]["PipelinesFunction"]["Properties"]
    for on, active, disabled in ((True, "Active", "false"), (False, "PassThrough", "true")):
        conditions = conditions_for("api-key", TracingOn=on)
        assert resolve(function["TracingConfig"], conditions) == {"Mode": active}
        assert resolve(function["Environment"]["Variables"], conditions)["OTEL_SDK_DISABLED"] == disabled


def test_app_parameter_names_the_users_app_only_when_set():
    function = translate()["Resources"]["PipelinesFunction"]["Properties"]
    env = function["Environment"]["Variables"]
    assert "HAYHOOKS_APP" not in resolve(env, conditions_for("api-key"))
    assert resolve(env, conditions_for("api-key", HasApp=True))["HAYHOOKS_APP"] == {"Ref": "App"}
