from pathlib import Path

import pytest

from core.settings import Settings, SettingsError, server_only_variables_set


def test_defaults_match_hayhooks_except_cors_and_port():
    s = Settings.from_env({})
    assert s.pipelines_dir == Path.cwd() / "pipelines"
    assert s.show_tracebacks is False
    assert s.root_path == ""
    assert s.startup_deploy_strategy == "parallel" and s.startup_deploy_workers == 4
    assert s.log_level == "INFO"
    assert s.cors.enabled is False  # Hayhooks allows every origin by default; closed here
    assert (s.host, s.port) == ("127.0.0.1", 3000)


def test_values_are_read():
    s = Settings.from_env(
        {
            "HAYHOOKS_PIPELINES_DIR": "/opt/p",
            "HAYHOOKS_ADDITIONAL_PYTHON_PATH": "/a:/b",
            "HAYHOOKS_ROOT_PATH": "api/v1/",
            "HAYHOOKS_SHOW_TRACEBACKS": "TRUE",
            "HAYHOOKS_CORS_ALLOW_ORIGINS": '["https://a.example", "https://b.example"]',
            "HAYHOOKS_CORS_ALLOW_METHODS": "GET,POST",
            "HAYHOOKS_CORS_ALLOW_CREDENTIALS": "yes",
            "HAYHOOKS_CORS_MAX_AGE": "60",
            "HAYHOOKS_STARTUP_DEPLOY_STRATEGY": "Sequential",
            "HAYHOOKS_STARTUP_DEPLOY_WORKERS": "8",
            "LOG": "debug",
        }
    )
    assert s.pipelines_dir == Path("/opt/p")
    assert s.additional_python_path == ("/a", "/b")
    assert s.root_path == "/api/v1"
    assert s.show_tracebacks is True
    assert s.cors.allow_origins == ("https://a.example", "https://b.example")
    assert s.cors.allow_methods == ("GET", "POST")
    assert s.cors.allow_credentials is True and s.cors.max_age == 60 and s.cors.enabled
    assert s.startup_deploy_strategy == "sequential" and s.startup_deploy_workers == 8
    assert s.log_level == "DEBUG"


def test_hayhooks_log_level_wins_over_log():
    assert Settings.from_env({"LOG": "DEBUG", "HAYHOOKS_LOG_LEVEL": "warning"}).log_level == "WARNING"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("HAYHOOKS_SHOW_TRACEBACKS", "maybe", "HAYHOOKS_SHOW_TRACEBACKS must be true or false, got 'maybe'"),
        (
            "HAYHOOKS_STARTUP_DEPLOY_WORKERS",
            "0",
            "HAYHOOKS_STARTUP_DEPLOY_WORKERS must be an integer from 1 to 32, got 0",
        ),
        ("HAYHOOKS_STARTUP_DEPLOY_WORKERS", "four", "HAYHOOKS_STARTUP_DEPLOY_WORKERS must be an integer, got 'four'"),
        (
            "HAYHOOKS_STARTUP_DEPLOY_STRATEGY",
            "eager",
            "HAYHOOKS_STARTUP_DEPLOY_STRATEGY must be one of parallel, sequential, lazy, got 'eager'",
        ),
        ("HAYHOOKS_CORS_ALLOW_ORIGINS", '["a", ', "HAYHOOKS_CORS_ALLOW_ORIGINS is not a valid JSON array"),
        ("HAYHOOKS_CORS_ALLOW_ORIGINS", "[1, 2]", "HAYHOOKS_CORS_ALLOW_ORIGINS must be a JSON array of strings"),
        ("HAYHOOKS_CORS_MAX_AGE", "-1", "HAYHOOKS_CORS_MAX_AGE must be an integer from 0, got -1"),
        ("HAYHOOKS_ROOT_PATH", "/a b", "HAYHOOKS_ROOT_PATH must be a URL path such as /prod"),
        ("LOG", "loud", "LOG must be one of"),
        ("HAYHOOKS_PORT", "70000", "HAYHOOKS_PORT must be an integer from 1 to 65535, got 70000"),
    ],
)
def test_invalid_values_name_the_variable(name, value, message):
    with pytest.raises(SettingsError) as err:
        Settings.from_env({name: value})
    assert str(err.value).startswith(message)


def test_server_only_variables_are_reported():
    assert server_only_variables_set({"HAYHOOKS_PORT": "1416", "HAYHOOKS_WORKERS": "4", "OTHER": "x"}) == [
        "HAYHOOKS_PORT",
        "HAYHOOKS_WORKERS",
    ]


def test_cors_credentials_with_any_origin_is_refused():
    with pytest.raises(SettingsError, match="HAYHOOKS_CORS_ALLOW_CREDENTIALS=true cannot be combined with"):
        Settings.from_env({"HAYHOOKS_CORS_ALLOW_ORIGINS": "*", "HAYHOOKS_CORS_ALLOW_CREDENTIALS": "true"})


@pytest.mark.parametrize(
    ("variables", "problem"),
    [
        ({"HAYHOOKS_CORS_ALLOW_ORIGIN_REGEX": ".*"}, "matches 'null'"),
        ({"HAYHOOKS_CORS_ALLOW_ORIGIN_REGEX": "https?://.*"}, "matches 'https://attacker.invalid'"),
        ({"HAYHOOKS_CORS_ALLOW_ORIGIN_REGEX": "null|https://app\\.example"}, "matches 'null'"),
        ({"HAYHOOKS_CORS_ALLOW_ORIGINS": "null"}, "HAYHOOKS_CORS_ALLOW_ORIGINS=null"),
        ({"HAYHOOKS_CORS_ALLOW_ORIGIN_REGEX": "(unclosed"}, "not a valid regular expression"),
    ],
)
def test_credentials_only_go_to_origins_that_were_listed(variables, problem):
    """Before: credentials with the regex '.*' were accepted and reflected any origin, 'null' included."""
    with pytest.raises(SettingsError, match=problem):
        Settings.from_env({"HAYHOOKS_CORS_ALLOW_CREDENTIALS": "true", **variables})
    anchored = {
        "HAYHOOKS_CORS_ALLOW_CREDENTIALS": "true",
        "HAYHOOKS_CORS_ALLOW_ORIGIN_REGEX": r"https://[a-z]+\.app\.example",
    }
    assert Settings.from_env(anchored).cors.allow_credentials
