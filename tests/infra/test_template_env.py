"""The function's environment read from template.yaml at its defaults (what `make bench` deploys)."""

from infra.template_env import function_defaults
from tests.conftest import ROOT

TEMPLATE = ROOT / "template.yaml"


def test_defaults_are_api_key_auth_and_active_tracing():
    env, active_tracing = function_defaults(TEMPLATE, {"ApiKeySecret": "arn:aws:secretsmanager:x"})
    assert active_tracing is True
    assert env["HAYHOOKS_API_KEYS_SECRET"] == "arn:aws:secretsmanager:x"
    assert env["OTEL_SDK_DISABLED"] == "false"
    assert env["HAYHOOKS_LOG_LEVEL"] == "INFO"
    assert "BEDROCK_MODEL_ID" not in env  # !If [HasBedrockModel, ..., AWS::NoValue] with an empty default


def test_overrides_follow_the_conditions():
    env, active_tracing = function_defaults(
        TEMPLATE, {}, overrides={"AuthMode": "none", "Tracing": "off", "BedrockModelId": "amazon.nova-lite-v1:0"}
    )
    assert active_tracing is False
    assert "HAYHOOKS_API_KEYS_SECRET" not in env
    assert env["OTEL_SDK_DISABLED"] == "true"
    assert env["BEDROCK_MODEL_ID"] == "amazon.nova-lite-v1:0"
