"""Regression tests for the outside attack of issue #20, through the Lambda handler.

Each test reproduces one attack as it was run against the function; docs/reliability.md lists them.
"""

import json

import pytest

from tests.apigw import Context, http_v2
from tests.apigw import parse as parse_reply
from tests.hostile import hostile_handler, write_pipelines

PASSWORD = "correct-horse-battery"
API_KEY = "the-api-key-0123456789abcdef"

LEAKY = {
    "leaky_setup": """
        import os


        class PipelineWrapper(BasePipelineWrapper):
            def setup(self) -> None:
                raise ConnectionError(f"redis://:{os.environ['HARDEN_DB_PASSWORD']}@cache:6379 refused login "
                                      f"{os.environ['HARDEN_DB_PASSWORD']}")

            def run_api(self) -> str:
                return "never"
    """,
    "leaky_run": """
        import os


        class PipelineWrapper(BasePipelineWrapper):
            def setup(self) -> None:
                pass

            def run_api(self, what: str) -> str:
                raise RuntimeError(f"upstream said: {os.environ[what]}; config={{'api_key': 'abcd1234efgh5678'}}")
    """,
    "echo": """
        class PipelineWrapper(BasePipelineWrapper):
            def setup(self) -> None:
                pass

            def run_api(self, text: str) -> dict:
                return {"text": text}
    """,
}


def call(handler, event):
    return parse_reply(handler(event, Context()))


@pytest.mark.parametrize("tracebacks", [False, True])
def test_secret_values_never_leave_the_function(tmp_path, monkeypatch, capsys, tracebacks):
    """Leaked before: a setup() error quoting a password was served by /status and the 503, a run error
    quoting a key by the 500; tracebacks and log lines carried both verbatim."""
    monkeypatch.setenv("HARDEN_DB_PASSWORD", PASSWORD)
    monkeypatch.setenv("HAYHOOKS_API_KEYS", API_KEY)
    monkeypatch.setenv("HAYHOOKS_LOG_FORMAT", "json")
    handler = hostile_handler(write_pipelines(tmp_path, **LEAKY), auth_public_status=True, show_tracebacks=tracebacks)
    key = {"x-api-key": API_KEY}
    answers = [
        call(handler, http_v2("GET", "/status")),
        call(handler, http_v2("GET", "/status/leaky_setup")),
        call(handler, http_v2("POST", "/leaky_setup/run", body={}, headers=key)),
        call(handler, http_v2("POST", "/leaky_run/run", body={"what": "HARDEN_DB_PASSWORD"}, headers=key)),
        call(handler, http_v2("POST", "/leaky_run/run", body={"what": "HAYHOOKS_API_KEYS"}, headers=key)),
    ]
    assert [a.status for a in answers] == [200, 503, 503, 500, 500]
    assert "***" in answers[2].json()["detail"] and "***" in answers[3].json()["detail"]
    if tracebacks:
        assert "Traceback" in json.dumps(answers[0].json()["failed"]) and "Traceback" in answers[3].text
    logged = capsys.readouterr().out
    assert "leaky_setup" in logged and "upstream said" in logged
    for text in [a.text for a in answers] + [logged]:
        assert PASSWORD not in text and API_KEY not in text and "abcd1234efgh5678" not in text
    assert_still_serving_with_key(handler)


def assert_still_serving_with_key(handler):
    reply = call(handler, http_v2("POST", "/echo/run", body={"text": "still"}, headers={"x-api-key": API_KEY}))
    assert reply.status == 200 and reply.json() == {"result": {"text": "still"}}
