"""The pipelines/ folder is the user's: with it replaced by a user's own two pipelines, the project still passes.

A copy of this checkout whose pipelines/ holds only tests/fixtures/user_pipelines (Hayhooks-style code:
typing.List, Optional, Dict) runs `make lint check` and the tests that use the examples. Those read the
fixture copies under tests/fixtures/, so they pass there as here; a test that read pipelines/ would fail.
The venvs and make check's package cache are this checkout's (nothing is installed again).
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cold import ROOT, clean_env

USER_PIPELINES = ROOT / "tests" / "fixtures" / "user_pipelines"
SHARED = (".venv-runtime", ".venv-sam", ".venv-hayhooks", ".check")  # reused, not copied
# the tests that use the examples (cheap ones: the copy is there to catch a test reading pipelines/)
EXAMPLE_TESTS = [
    "tests/pipelines",
    "tests/core/test_main.py",
    "tests/core/test_secrets.py",
    "tests/handler/test_tracing.py",
    "tests/handler/test_cold_start.py::test_read_only_var_task_like_lambda",
    "tests/infra/test_soak.py::test_crossed_replies_are_errors",
    "tests/infra/test_soak.py::test_mix_and_percentiles",
]


@pytest.fixture(scope="module")
def user_clone(tmp_path_factory) -> Path:
    clone = tmp_path_factory.mktemp("clone") / "project"
    skip = shutil.ignore_patterns(".git", ".venv*", ".aws-sam", ".bench", ".check", ".cache", "*_cache", "__pycache__")
    shutil.copytree(ROOT, clone, ignore=skip, symlinks=True)
    shutil.rmtree(clone / "pipelines")
    shutil.copytree(USER_PIPELINES, clone / "pipelines")
    (ROOT / ".check").mkdir(exist_ok=True)
    for name in SHARED:
        if (ROOT / name).exists():
            (clone / name).symlink_to((ROOT / name).resolve(), target_is_directory=True)
    return clone


def _make(clone: Path, *targets: str) -> subprocess.CompletedProcess:
    """make in the clone with this venv standing in for .venv (its install stamps are this checkout's)."""
    venv = Path(sys.executable).parent.parent
    overrides = [f"VENV={venv}", f"PY={sys.executable}", "STAMP=", "SAM_STAMP=", "RUNTIME_STAMP=", "HAYHOOKS_STAMP="]
    return subprocess.run(
        ["make", "--no-print-directory", *targets, *overrides],
        cwd=clone,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_user_code_is_not_ours_to_lint(user_clone):
    """ruff fails on the user's Hayhooks-style code when asked, and `make lint` does not ask."""
    venv = Path(sys.executable).parent
    direct = subprocess.run(
        [str(venv / "ruff"), "check", "--isolated", "--select", "UP", "pipelines"],
        cwd=user_clone,
        capture_output=True,
        text=True,
    )
    assert direct.returncode == 1 and "UP035" in direct.stdout  # `typing.List` is deprecated
    lint = _make(user_clone, "lint")
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_make_check_loads_the_user_folder(user_clone):
    proc = _make(user_clone, "check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "make check: pipelines loads as Lambda will load it: summarize_list, word_count" in proc.stderr


def test_the_tests_that_use_the_examples_pass(user_clone):
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *EXAMPLE_TESTS],
        cwd=user_clone,
        env=clean_env(PYTHONPATH=str(user_clone)),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
    assert re.search(r"\b\d+ passed\b", proc.stdout) and " failed" not in proc.stdout
