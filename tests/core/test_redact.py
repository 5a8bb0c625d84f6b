"""Masking secrets: token shapes by pattern, and the values of the secrets the function was given."""

import subprocess
import sys
from pathlib import Path

import pytest

from core.redact import redact, remember_secret_values, secret_values

ROOT = Path(__file__).resolve().parents[2]

TOKENS = [
    ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
    ("Authorization: Basic dXNlcjpodW50ZXIy", "dXNlcjpodW50ZXIy"),
    ("token ghp_16C7e42F292c6912E7710c838347Ae178B4a used", "ghp_16C7e42F292c6912E7710c838347Ae178B4a"),
    ("slack xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp failed", "xoxb-1234567890"),
    ("hub hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789 denied", "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"),
    ("key=AIzaSyA-1234567890abcdefghijklmnopqrstu", "AIzaSyA-1234567890abcdefghijklmnopqrstu"),
    ("stripe sk_live_51H8abcdefghijklmnopqrstuv", "sk_live_51H8abcdefghijklmnopqrstuv"),
    (
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U rejected",
        "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
    ),
    ("DB_PASSWORD=s3cr3t-value failed", "s3cr3t-value"),
    ("config {'api_key': 'abcd1234efgh5678'} refused", "abcd1234efgh5678"),
    ('{"client_secret": "zyxw9876"}', "zyxw9876"),
    ("redis://:PASSWORD123@cache.internal:6379", "PASSWORD123"),
]


@pytest.mark.parametrize(("text", "secret"), TOKENS)
def test_token_shapes_are_masked(text, secret):
    masked = redact(text)
    assert secret not in masked and "***" in masked


def test_ordinary_text_is_left_alone():
    text = "PromptBuilder.__init__() got an unexpected keyword argument 'templat' at line 3 (tokens: 12)"
    assert redact(text) == text


def test_values_of_secrets_the_function_was_given_are_masked_wherever_they_appear():
    environ = {
        "OPENAI_API_KEY": "opaque-value-one",
        "DB_PASSWORD": "hunter22",
        "SLACK_TOKEN": "plainvaluetwo",
        "DATABASE_URL": "from-hayhooks-secrets",  # not a secret-looking name: listed in HAYHOOKS_SECRETS
        "HAYHOOKS_API_KEYS_SECRET": "prod/api-keys",  # where a secret is, not a secret
        "PASSWORD_MIN_LENGTH": "12",  # too short and numeric: not masked
        "HOME": "/home/user",
    }
    values = secret_values(environ, secret_variables=("DATABASE_URL",), api_keys=(b"the-api-key-0123456789",))
    assert values == {
        "opaque-value-one",
        "hunter22",
        "plainvaluetwo",
        "from-hayhooks-secrets",
        "the-api-key-0123456789",
    }
    remember_secret_values(values)
    text = "login hunter22 at from-hayhooks-secrets with opaque-value-one, the-api-key-0123456789 and plainvaluetwo"
    assert redact(text) == "login *** at *** with ***, *** and ***"
    assert redact("prod/api-keys /home/user 12") == "prod/api-keys /home/user 12"


@pytest.mark.parametrize(
    "text",
    [
        "chat_with_docs needs OPENAI_API_KEY: set it in the function's environment",
        "bedrock_chat needs an AWS region (AWS_REGION) and credentials: on Lambda the function's role provides them",
        "max_tokens: 512 reached",
    ],
)
def test_prose_after_a_secret_name_is_left_alone(text):
    assert redact(text) == text


def test_header_style_secrets_are_masked():
    assert redact("X-Api-Key: abc123def456ghi") == "X-Api-Key: ***"
    assert redact("password: 'hunter2'") == "password: '***'"


def test_text_without_a_secret_looking_literal_compiles_and_scans_nothing():
    """Cold-start log lines pay nothing: patterns compile when a text first contains their literal."""
    code = (
        "from core import redact\n"
        "assert redact.redact('Loaded pipeline search_docs in 12 ms') == 'Loaded pipeline search_docs in 12 ms'\n"
        "assert redact._compiled.cache_info().currsize == 0\n"
        "assert redact.redact('token=abcdefgh1') == 'token=***'\n"
        "assert 0 < redact._compiled.cache_info().currsize < len(redact._PATTERNS)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
