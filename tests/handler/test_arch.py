"""An artifact on the wrong architecture failing its init in one line (handler/arch.py)."""

import platform
import subprocess
import sys

import pytest

from handler.arch import ArchitectureMismatch, check_architecture
from tests.cold import ROOT, clean_env


def test_check_architecture(tmp_path):
    marker = tmp_path / "BUILD_ARCH"
    check_architecture(marker, "x86_64")  # no marker: not a built artifact
    marker.write_text("arm64\n")
    check_architecture(marker, "aarch64")
    with pytest.raises(ArchitectureMismatch, match="built for arm64 but the function runs on x86_64"):
        check_architecture(marker, "x86_64")


def test_wrong_artifact_fails_init_with_one_line(tmp_path):
    """A fresh process starting `handler.lambda_handler` (as Lambda's runtime does) from an artifact built for
    the other architecture: the error is the one-line mismatch, raised before anything compiled is imported."""
    (tmp_path / "handler").symlink_to(ROOT / "handler", target_is_directory=True)
    here = {"aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower(), "x86_64")
    other = "x86_64" if here == "arm64" else "arm64"
    (tmp_path / "BUILD_ARCH").write_text(other + "\n")
    code = (
        "import sys, handler\n"
        "try:\n    handler.lambda_handler\n"
        "finally:\n    print(sorted(m for m in sys.modules if m.startswith(('pydantic', 'fastapi', 'haystack'))))"
    )
    env = clean_env(PYTHONPATH=f"{tmp_path}:{ROOT}")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode != 0
    assert proc.stdout.strip() == "[]"  # nothing compiled was imported first
    assert proc.stderr.strip().splitlines()[-1] == (
        f"handler.arch.ArchitectureMismatch: this artifact was built for {other} but the function runs on "
        f"{here}: rebuild with `sam build --parameter-overrides Architecture={here}` or deploy with "
        f"Architecture={other}"
    )
