"""Secrets from SSM and Secrets Manager (moto in-process) into the environment before pipelines load."""

import os
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from core.secrets import SecretError
from core.service import build_service
from core.settings import Settings, SettingsError
from tests.conftest import EXAMPLES

SECRET_AT_SETUP = Path(__file__).parent.parent / "fixtures" / "secret_at_setup"


@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "OPENAI_API_KEY", "DB_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("ssm"), boto3.client("secretsmanager")
    for name in ("OPENAI_API_KEY", "DB_PASSWORD"):
        os.environ.pop(name, None)


def test_resolved_before_pipelines_load(aws):
    ssm, secrets = aws
    ssm.put_parameter(Name="/prod/openai", Value="sk-from-ssm-123456", Type="SecureString")
    secrets.create_secret(Name="prod/db", SecretString='{"password": "pw-from-sm", "user": "app"}')
    settings = Settings.from_env(
        {
            "HAYHOOKS_SECRETS": "OPENAI_API_KEY=ssm:/prod/openai, DB_PASSWORD=secretsmanager:prod/db#password",
            "HAYHOOKS_PIPELINES_DIR": str(SECRET_AT_SETUP),
        }
    )
    _, registry = build_service(settings)
    assert os.environ["OPENAI_API_KEY"] == "sk-from-ssm-123456"
    assert os.environ["DB_PASSWORD"] == "pw-from-sm"
    assert registry.get("reads_key").wrapper.key_at_setup == "sk-from-ssm-123456"


SSM_MISSING = (
    "HAYHOOKS_SECRETS: OPENAI_API_KEY: cannot read SSM parameter '/prod/missing': "
    "ParameterNotFound: Parameter /prod/missing not found."
)
SM_MISSING = (
    "HAYHOOKS_SECRETS: OPENAI_API_KEY: cannot read Secrets Manager secret 'prod/missing': "
    "ResourceNotFoundException: Secrets Manager can't find the specified secret."
)
SM_NO_KEY = (
    "HAYHOOKS_SECRETS: DB_PASSWORD: Secrets Manager secret 'prod/db' (key 'nope') is not a JSON object with that key"
)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ("OPENAI_API_KEY=ssm:/prod/missing", SSM_MISSING),
        ("OPENAI_API_KEY=secretsmanager:prod/missing", SM_MISSING),
        ("DB_PASSWORD=secretsmanager:prod/db#nope", SM_NO_KEY),
    ],
)
def test_a_missing_secret_fails_the_cold_start_naming_the_variable(aws, mapping, message):
    _, secrets = aws
    secrets.create_secret(Name="prod/db", SecretString='{"password": "pw-from-sm"}')
    settings = Settings.from_env({"HAYHOOKS_SECRETS": mapping, "HAYHOOKS_PIPELINES_DIR": str(EXAMPLES)})
    with pytest.raises(SecretError) as err:
        build_service(settings)
    assert str(err.value) == message
    assert "pw-from-sm" not in str(err.value)


@pytest.mark.parametrize("value", ["OPENAI_API_KEY", "1BAD=ssm:/x", "KEY=vault:/x", "KEY=ssm:"])
def test_malformed_mapping_is_a_settings_error(value):
    with pytest.raises(SettingsError, match="HAYHOOKS_SECRETS entries look like NAME=ssm:/path"):
        Settings.from_env({"HAYHOOKS_SECRETS": value})


def test_values_from_hayhooks_secrets_are_masked_whatever_the_variable_is_called(aws, monkeypatch):
    """A secret under a name that does not look secret (DATABASE_URL) is still masked in what leaves."""
    from core.redact import redact
    from tests.conftest import fixture_settings

    monkeypatch.delenv("DATABASE_URL", raising=False)
    _, secrets = aws
    secrets.create_secret(Name="prod/db", SecretString='{"url": "plain-db-location-4242"}')
    settings = fixture_settings(
        secrets=Settings.from_env({"HAYHOOKS_SECRETS": "DATABASE_URL=secret:prod/db#url"}).secrets
    )
    build_service(settings)
    try:
        assert redact("could not reach plain-db-location-4242 now") == "could not reach *** now"
    finally:
        os.environ.pop("DATABASE_URL", None)
