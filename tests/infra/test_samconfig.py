"""samconfig.toml's local sections: `sam local start-api` / `invoke` with no flags get a function that starts
without AWS resources (no API-key secret, no X-Ray daemon), with authentication off and said so."""

import os
import platform
import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest

from infra.template_env import function_defaults
from tests.conftest import ROOT


@pytest.mark.parametrize("command", ["local_start_api", "local_invoke"])
def test_local_sections_turn_off_what_needs_aws(command):
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    overrides = dict(
        item.split("=", 1) for item in shlex.split(config["default"][command]["parameters"]["parameter_overrides"])
    )
    assert overrides == {"AuthMode": "none", "Tracing": "off"}
    env, active_tracing = function_defaults(ROOT / "template.yaml", {}, overrides=overrides)
    assert "HAYHOOKS_API_KEYS_SECRET" not in env  # no !Ref to a secret SAM local cannot create
    assert env["HAYHOOKS_AUTH_MODE"] == "none"  # the app's cold-start WARNING (core/service.py)
    assert env["OTEL_SDK_DISABLED"] == "true" and active_tracing is False
    # the deploy keeps the template's defaults: nothing local leaks into sam deploy
    assert "parameter_overrides" not in config["default"]["deploy"]["parameters"]


def test_sam_build_builds_in_source_as_make_build_does():
    """Without build_in_source, `sam build` copies the whole project (the .venv* folders too, ~0.5 GB) into a
    scratch folder before running the Makefile target; `make build` passes --build-in-source."""
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    assert config["default"]["build"]["parameters"]["build_in_source"] is True
    assert "--build-in-source" in _dry_run("build")


def _dry_run(target: str) -> str:
    """The commands `make <target>` would run (install taken as done: nothing is installed)."""
    env = {k: v for k, v in os.environ.items() if k not in {"ARCH", "MAKEFLAGS", "PIPELINES"}}
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "-o", "install", target],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_make_start_api_runs_this_machines_architecture_with_the_local_sections_settings():
    """`make start-api` on any Docker host: the build and the local API both use this machine's architecture
    (an arm64 function under x86_64 emulation outlasts its timeout), in a build folder of its own so that
    .aws-sam/build stays what `sam deploy` uploads, with what the local sections turn off."""
    host = "arm64" if platform.machine() in {"aarch64", "arm64"} else "x86_64"
    build, start = [shlex.split(line) for line in _dry_run("start-api").replace("\\\n", " ").splitlines()]
    assert build[1:3] == ["build", "--build-in-source"]
    build_dir = build[build.index("--build-dir") + 1]
    assert Path(build_dir).parts[:1] == (".aws-sam",) and build_dir.rstrip("/") != ".aws-sam/build"
    assert build[build.index("--parameter-overrides") + 1] == f"Architecture={host}"
    assert start[1:3] == ["local", "start-api"]
    assert start[start.index("--template") + 1] == f"{build_dir}/template.yaml"
    local = tomllib.loads((ROOT / "samconfig.toml").read_text())["default"]["local_start_api"]["parameters"]
    expected = f"{local['parameter_overrides']} Architecture={host}"
    assert start[start.index("--parameter-overrides") + 1] == expected
