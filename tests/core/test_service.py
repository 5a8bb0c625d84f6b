"""What build_service says at cold start about authentication, by the template's AuthMode."""

import logging

import pytest

from core.service import build_service
from tests.conftest import fixture_settings


@pytest.mark.parametrize(
    ("env", "level", "words"),
    [
        ({"HAYHOOKS_AUTH_MODE": "none", "AWS_SAM_LOCAL": "true"}, logging.WARNING, "under sam local"),
        ({"HAYHOOKS_AUTH_MODE": "none"}, logging.WARNING, "anyone who reaches the API"),
        ({"HAYHOOKS_AUTH_MODE": "jwt"}, logging.INFO, "not authenticated by the app"),  # the gateway does
        ({}, logging.INFO, "not authenticated by the app"),
    ],
)
def test_no_api_keys_is_a_warning_only_when_nobody_authenticates(monkeypatch, tmp_path, env, level, words):
    for name in ("HAYHOOKS_AUTH_MODE", "AWS_SAM_LOCAL", "HAYHOOKS_API_KEYS", "HAYHOOKS_API_KEYS_SECRET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    records: list[logging.LogRecord] = []
    catcher = logging.Handler()
    catcher.emit = records.append  # on the logger itself: configure_logging rearranges the root's handlers
    logger = logging.getLogger("core.service")
    logger.addHandler(catcher)
    try:
        build_service(fixture_settings(pipelines_dir=tmp_path))  # no pipeline needed
    finally:
        logger.removeHandler(catcher)
    (record,) = [r for r in records if "authenticated" in r.getMessage()]
    assert record.levelno == level and words in record.getMessage()
