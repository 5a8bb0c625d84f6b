"""Cold start in a fresh process, as Lambda's init phase runs it: `import handler`, read
`handler.lambda_handler`, then invocations."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.cold import INVOKE, ROOT, clean_env, replies, run_cold
from tests.conftest import EXAMPLES, FIXTURE_PIPELINES


def _json_logs(stdout: str) -> list[dict]:
    records = []
    for line in stdout.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if "level" in record:
                records.append(record)
    return records


def test_fresh_process_serves_and_logs_json_lines():
    proc = run_cold(
        [("GET", "/status", None), ("POST", "/echo/run", {"text": "x"})],
        env={
            "HAYHOOKS_PIPELINES_DIR": str(FIXTURE_PIPELINES),
            "HAYHOOKS_ADDITIONAL_PYTHON_PATH": str(FIXTURE_PIPELINES.parent / "python_path"),
            "AWS_LAMBDA_FUNCTION_NAME": "haystack-lambda",  # as on Lambda: JSON logs
        },
    )
    status, run = replies(proc)
    assert status["status"] == 200 and "echo" in status["body"]["pipelines"]
    assert run["body"]["result"]["text"] == "x"
    assert "There is no current event loop" not in proc.stderr
    logs = _json_logs(proc.stdout)
    assert all({"level", "location", "message", "timestamp", "service"} <= set(r) for r in logs)
    errors = {r["message"] for r in logs if r["level"] == "ERROR"}
    for failed in status["body"]["failed"]:
        assert f"Pipeline '{failed['name']}' failed to load ({failed['stage']}): {failed['reason']}" in errors
    (summary,) = [r for r in logs if r.get("cold_start_summary")]
    assert summary["pipelines_loaded"] == status["body"]["pipelines"]
    assert summary["pipelines_failed"] == [f["name"] for f in status["body"]["failed"]]
    assert summary["init_ms"] > 0 and summary["sources"][0]["kind"] == "package"
    first, second = [r for r in logs if r.get("path") in ("/status", "/echo/run")]
    assert first["method"] == "GET" and first["status"] == 200 and first["cold_start"] is True
    assert second["pipeline"] == "echo" and second["cold_start"] is False and second["duration_ms"] > 0
    for record in (first, second):
        assert len(record["request_id"]) == 36 and len(record["correlation_id"]) == 36
        assert "x" not in {str(v) for v in record.values()}  # the body is never logged


def test_invalid_setting_fails_the_cold_start_naming_the_variable():
    proc = run_cold([], env={"HAYHOOKS_STARTUP_DEPLOY_WORKERS": "many"})
    assert proc.returncode != 0
    assert "SettingsError: HAYHOOKS_STARTUP_DEPLOY_WORKERS must be an integer, got 'many'" in proc.stderr


def test_server_only_settings_are_noted_once():
    proc = run_cold([("GET", "/status", None)], env={"HAYHOOKS_PORT": "1416", "HAYHOOKS_WORKERS": "4"})
    assert proc.returncode == 0, proc.stderr
    assert (
        proc.stdout.count("Ignored on Lambda (they configure a long-running server): HAYHOOKS_PORT, HAYHOOKS_WORKERS")
        == 1
    )


def _can_unshare() -> bool:
    return os.geteuid() == 0 and shutil.which("unshare") is not None


@pytest.mark.skipif(not _can_unshare(), reason="needs root and unshare(1) to mount /var/task read-only")
def test_read_only_var_task_like_lambda(tmp_path):
    """The package is bind-mounted read-only at /var/task, the working directory, as on Lambda."""
    package = tmp_path / "task"
    for part in ("core", "handler", "infra"):  # infra: the test's event builders, not part of the package
        shutil.copytree(ROOT / part, package / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(EXAMPLES, package / "pipelines", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(FIXTURE_PIPELINES / "relative", package / "pipelines" / "relative")
    shutil.copy(FIXTURE_PIPELINES / "yaml_echo.yaml", package / "pipelines")
    before = sorted(str(p.relative_to(package)) for p in package.rglob("*"))

    calls = [
        ("GET", "/status", None),
        ("POST", "/relative/run", {"text": "ro"}),
        ("POST", "/yaml_echo/run", {"a": "1", "b": "2"}),
        ("POST", "/search_docs/run", {"query": "cold start"}),
    ]
    code = INVOKE.format(root="/var/task", calls=calls)
    script = (
        'mount -t tmpfs tmpfs /var && mkdir /var/task && mount --bind "$PKG" /var/task '
        "&& mount -o remount,bind,ro /var/task && cd /var/task "
        "&& if touch /var/task/probe 2>/dev/null; then echo 'not read-only' >&2; exit 3; fi "
        '&& exec "$PY" -W error::DeprecationWarning -c "$CODE"'
    )
    env = clean_env(PKG=str(package), PY=sys.executable, CODE=code, PYTHONPATH="/var/task")
    proc = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    status, relative, yaml_run, search = replies(proc)
    assert status["body"]["failed"] == []
    assert {"relative", "yaml_echo", "search_docs", "greeting"} <= set(status["body"]["pipelines"])
    assert relative["body"]["result"]["data"] == "data next to the wrapper"
    assert relative["body"]["result"]["file"] == "/var/task/pipelines/relative/pipeline_wrapper.py"
    assert yaml_run["body"] == {"result": {"builder": {"prompt": "1+2"}}}
    assert search["status"] == 200 and search["body"]["result"]
    assert sorted(str(p.relative_to(package)) for p in package.rglob("*")) == before  # nothing written


def test_haystack_telemetry_is_off_by_default():
    """No HAYSTACK_TELEMETRY_ENABLED in the environment: importing the handler must still turn it off."""
    env = clean_env(PYTHONPATH=str(ROOT))
    env.pop("HAYSTACK_TELEMETRY_ENABLED")
    code = (
        "import handler, os; handler.lambda_handler; from haystack.telemetry import _telemetry as t; "
        "print(os.environ['HAYSTACK_TELEMETRY_ENABLED'], t.telemetry)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1].split() == ["False", "None"]


def test_nothing_imports_haystack_before_the_sources_start():
    """The S3 fetch overlaps the Haystack import only if no module imports Haystack before it started."""
    code = (
        "import sys, handler, core.service, core.app, handler.entry, handler.tracing, handler.metrics; "
        "print(sorted(m for m in sys.modules if m == 'haystack' or m.startswith('haystack.')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean_env(PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_cold_start_imports_only_what_the_configuration_needs(tmp_path):
    """Cuts that a dependency upgrade could silently undo: each module below costs cold-start time."""
    shutil.copytree(FIXTURE_PIPELINES / "echo", tmp_path / "echo")
    shutil.copy(FIXTURE_PIPELINES / "yaml_echo.yaml", tmp_path)
    code = (
        "import sys, handler; from infra.lambda_events import Context, http_v2; "
        "assert handler.lambda_handler(http_v2('GET', '/status'), Context())['statusCode'] == 200; "
        "print(sorted(m for m in ('pydantic.v1', 'opentelemetry.sdk', 'boto3', 'botocore', 'aws_lambda_powertools')"
        " if m in sys.modules))"
    )
    # as on Lambda (JSON logs, metrics); no S3 source, secrets, API-key secret or tracing configured
    env = clean_env(PYTHONPATH=str(ROOT), HAYHOOKS_PIPELINES_DIR=str(tmp_path), AWS_LAMBDA_FUNCTION_NAME="f")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    # FastAPI probes route models against pydantic.v1 (core/no_pydantic_v1.py); the AWS SDK, X-Ray and
    # Powertools load only when an S3 source, secrets or tracing are configured (logs and metrics: ours)
    assert proc.stdout.strip().splitlines()[-1] == "[]"
