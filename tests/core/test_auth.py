"""API-key authentication: 401/200 for each way a key is sent, public status and docs, CORS preflight."""

import boto3
import pytest
from fastapi.testclient import TestClient
from moto import mock_aws

from core.app import create_app
from core.auth import ApiKeysRead, AuthError, load_api_keys
from core.loader import load_registry
from core.settings import CorsSettings
from handler.entry import LambdaHandler
from infra.lambda_events import Context, http_v2, parse
from tests.conftest import fixture_settings

KEYS = (b"first-key-0123456789", b"second-key-0123456789")
DENIED = {"detail": "Missing or invalid API key: send it as x-api-key or Authorization: Bearer <key>"}


@pytest.fixture(scope="module")
def registry():
    return load_registry(fixture_settings())


def client(registry, **settings):
    return TestClient(create_app(fixture_settings(**settings), registry, api_keys=KEYS))


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"x-api-key": "wrong"}, 401),
        ({"authorization": "Bearer wrong"}, 401),
        ({"authorization": "Basic Zmlyc3Qta2V5"}, 401),
        ({"x-api-key": "first-key-0123456789"}, 200),
        ({"x-api-key": "second-key-0123456789"}, 200),
        ({"authorization": "Bearer second-key-0123456789"}, 200),
        ({"authorization": "bearer first-key-0123456789"}, 200),
    ],
)
def test_keys(registry, headers, status):
    reply = client(registry).post("/echo/run", json={"text": "x"}, headers=headers)
    assert reply.status_code == status
    if status == 401:
        assert reply.json() == DENIED
        assert reply.headers["www-authenticate"].startswith("Bearer")
        assert reply.headers["x-request-id"]


def test_status_and_docs_are_protected_unless_made_public(registry):
    closed = client(registry)
    assert closed.get("/status").status_code == 401 and closed.get("/docs").status_code == 401
    open_status = client(registry, auth_public_status=True)
    assert open_status.get("/status").status_code == 200 and open_status.get("/status/echo").status_code == 200
    assert open_status.get("/openapi.json").status_code == 401
    assert open_status.post("/echo/run", json={"text": "x"}).status_code == 401
    assert client(registry, auth_public_docs=True).get("/openapi.json").status_code == 200
    assert client(registry, auth_public_docs=True).get("/docs/../echo").status_code == 401


def test_a_stray_x_api_key_does_not_hide_a_valid_bearer_token(registry):
    headers = {"x-api-key": "wrong", "authorization": "Bearer first-key-0123456789"}
    assert client(registry).post("/echo/run", json={"text": "x"}, headers=headers).status_code == 200


def test_no_keys_means_no_authentication(registry):
    app = create_app(fixture_settings(), registry)
    assert TestClient(app).post("/echo/run", json={"text": "x"}).status_code == 200


def test_cors_preflight_needs_no_key_and_401s_carry_cors_headers(registry):
    c = client(registry, cors=CorsSettings(allow_origins=("https://app.example",)))
    preflight = c.options(
        "/echo/run",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-api-key",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    denied = c.post("/echo/run", json={"text": "x"}, headers={"Origin": "https://app.example"})
    assert denied.status_code == 401 and denied.headers["access-control-allow-origin"] == "https://app.example"
    denied_origin = c.options(
        "/echo/run", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert denied_origin.status_code == 400 and "access-control-allow-origin" not in denied_origin.headers


K1, K2, K_ENV = "key-one-0123456789", "key-two-0123456789", "key-env-0123456789"


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("secretsmanager")


@pytest.mark.parametrize("secret", [f'["{K1}", "{K2}"]', f'{{"api_keys": ["{K1}", "{K2}"]}}', f"{K1},{K2}"])
def test_keys_from_secrets_manager(aws, secret):
    arn = aws.create_secret(Name="api-keys", SecretString=secret)["ARN"]
    assert load_api_keys({"HAYHOOKS_API_KEYS_SECRET": arn, "HAYHOOKS_API_KEYS": K_ENV}) == (
        K_ENV.encode(),
        K1.encode(),
        K2.encode(),
    )
    with pytest.raises(AuthError, match="HAYHOOKS_API_KEYS_SECRET: cannot read Secrets Manager secret 'nope'"):
        load_api_keys({"HAYHOOKS_API_KEYS_SECRET": "nope"})


def test_the_secret_read_started_early_and_the_listed_keys_taken_at_result(aws):
    """The handler starts the secret's read before its imports; HAYHOOKS_API_KEYS may be set after that (by
    HAYHOOKS_SECRETS), so it is read when the keys are taken."""
    arn = aws.create_secret(Name="api-keys", SecretString=K1)["ARN"]
    env = {"HAYHOOKS_API_KEYS_SECRET": arn}
    read = ApiKeysRead(env)
    env["HAYHOOKS_API_KEYS"] = K_ENV
    assert read.result() == (K_ENV.encode(), K1.encode())


def test_a_failed_early_read_fails_when_the_keys_are_taken(aws):
    read = ApiKeysRead({"HAYHOOKS_API_KEYS_SECRET": "nope"})  # no exception from the thread's start
    with pytest.raises(AuthError, match="HAYHOOKS_API_KEYS_SECRET: cannot read Secrets Manager secret 'nope'"):
        read.result()


def test_through_the_lambda_handler(monkeypatch):
    monkeypatch.setenv("HAYHOOKS_API_KEYS", "lambda-key-0123456789")
    handler = LambdaHandler(fixture_settings())
    denied = parse(handler(http_v2("POST", "/echo/run", body={"text": "x"}), Context()))
    assert denied.status == 401 and denied.json() == DENIED
    allowed = parse(
        handler(
            http_v2("POST", "/echo/run", body={"text": "x"}, headers={"x-api-key": "lambda-key-0123456789"}), Context()
        )
    )
    assert allowed.status == 200


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        (f'{{"api_keys": "{K1},{K2}"}}', "'api_keys' must be a list of strings"),
        ("[]", "holds no API key"),
        (" ", "holds no API key"),
        (f'{{"apiKeys": ["{K1}"]}}', "a JSON object must have one key, 'api_keys'"),
        (f'["{K1}", 12345678901234567890]', "'api_keys' must be a list of strings"),
        ('{"api_keys": ', "is not valid JSON"),
        ("short", "at least 16 characters"),
        (f"{K1},tiny", "at least 16 characters"),
    ],
)
def test_a_secret_that_yields_no_usable_key_fails_the_cold_start(aws, secret, problem):
    """Fails open before: a string under api_keys became one-character keys; [], " " or a misspelt key
    loaded no key at all and authentication was silently off."""
    arn = aws.create_secret(Name="api-keys", SecretString=secret)["ARN"]
    with pytest.raises(AuthError) as raised:
        load_api_keys({"HAYHOOKS_API_KEYS_SECRET": arn})
    message = str(raised.value)
    assert message.startswith("HAYHOOKS_API_KEYS_SECRET: ") and problem in message
    assert K1 not in message and "tiny" not in message and "short" not in message  # never the values


@pytest.mark.parametrize(("value", "problem"), [(" , ", "holds no API key"), ("abc", "at least 16 characters")])
def test_api_keys_variable_that_yields_no_usable_key_fails(value, problem):
    with pytest.raises(AuthError, match=f"^HAYHOOKS_API_KEYS: .*{problem}"):
        load_api_keys({"HAYHOOKS_API_KEYS": value})
    assert load_api_keys({"HAYHOOKS_API_KEYS": ""}) == ()  # empty: not configured


def test_a_cold_start_with_a_malformed_key_secret_fails_naming_the_setting(aws, monkeypatch):
    arn = aws.create_secret(Name="api-keys", SecretString=f'{{"api_keys": "{K1}"}}')["ARN"]
    monkeypatch.setenv("HAYHOOKS_API_KEYS_SECRET", arn)
    with pytest.raises(AuthError, match="HAYHOOKS_API_KEYS_SECRET"):
        LambdaHandler(fixture_settings())
