"""infra/build.py's trims on small hand-made install folders: which unused distributions go, what removing
one deletes, and which libraries ship as bytecode only (and still import, naming /var/task in tracebacks)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.build import (
    BYTECODE_ONLY,
    UNUSED_ON_LAMBDA,
    precompile,
    remove_distribution,
    unused_distributions,
)
from infra.requirements import locked_pins
from tests.conftest import ROOT


def install(target: Path, name: str, version: str, files: dict[str, str], requires: tuple[str, ...] = ()) -> Path:
    """A distribution as pip --target leaves it: its files, and a .dist-info with METADATA and RECORD."""
    info = target / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        + "".join(f"Requires-Dist: {r}\n" for r in requires)
    )
    record = [f"{info.name}/METADATA,,", f"{info.name}/RECORD,,", f"../../bin/{name},,"]
    for relative, text in files.items():
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        (target / relative).write_text(text)
        record.append(f"{relative},,")
    (info / "RECORD").write_text("\n".join(record) + "\n")
    return info


@pytest.fixture
def lambda_set(tmp_path) -> Path:
    """mcp needing uvicorn needing click, as the lock has them."""
    assert {"mcp", "uvicorn", "click"} <= set(locked_pins(ROOT / "requirements.lock"))
    install(tmp_path, "mcp", "2.3.0", {"mcp/__init__.py": ""}, ("uvicorn>=0.31.1; sys_platform != 'emscripten'",))
    install(tmp_path, "uvicorn", "0.54.0", {"uvicorn/__init__.py": "", "uvicorn/main.py": ""}, ("click>=7.0",))
    install(tmp_path, "click", "8.5.1", {"click/__init__.py": ""})
    return tmp_path


def requirements(tmp_path: Path, text: str) -> list[Path]:
    file = tmp_path / "pipelines" / "requirements.txt"
    file.parent.mkdir(exist_ok=True)
    file.write_text(text)
    return [file]


def test_uvicorn_and_click_go_when_only_the_lock_wants_them(lambda_set):
    assert unused_distributions(lambda_set) == list(UNUSED_ON_LAMBDA) == ["uvicorn", "click"]


def test_named_by_the_pipelines_requirements_stays(lambda_set):
    assert unused_distributions(lambda_set, requirements(lambda_set, "click>=8  # our CLI\n")) == ["uvicorn"]


def test_needed_by_a_package_the_pipelines_brought_stays(lambda_set):
    install(lambda_set, "somecli", "1.0", {"somecli/__init__.py": ""}, ('click>=8; extra == "cli"',))
    assert unused_distributions(lambda_set, requirements(lambda_set, "somecli\n")) == ["uvicorn"]


def test_a_kept_uvicorn_keeps_click(lambda_set):
    install(lambda_set, "webby", "1.0", {"webby/__init__.py": ""}, ("uvicorn",))
    assert unused_distributions(lambda_set, requirements(lambda_set, "webby\n")) == []


def test_removing_a_distribution_deletes_its_files_only(lambda_set):
    (lambda_set / "uvicorn" / "not_in_record.txt").write_text("x")
    outside = lambda_set.parent / "bin"
    outside.mkdir(exist_ok=True)
    (outside / "uvicorn").write_text("#!/bin/sh")  # ../../bin/uvicorn resolves outside: untouched
    removed = remove_distribution(lambda_set, next(lambda_set.glob("uvicorn-*.dist-info")))
    assert removed > 0
    assert not list(lambda_set.glob("uvicorn-*.dist-info")) and not (lambda_set / "uvicorn" / "main.py").exists()
    assert (lambda_set / "uvicorn" / "not_in_record.txt").exists()  # a folder still holding a file stays
    assert (lambda_set / "click" / "__init__.py").exists() and (outside / "uvicorn").exists()


FAILS = "def fail():\n    raise ValueError('from the library')\n"


@pytest.fixture
def libraries(tmp_path) -> Path:
    assert "networkx" in BYTECODE_ONLY and "anyio" not in BYTECODE_ONLY
    install(tmp_path, "networkx", "3.7", {"networkx/__init__.py": "", "networkx/algo/deep.py": FAILS})
    install(tmp_path, "anyio", "4.16.0", {"anyio/__init__.py": "", "anyio/mod.py": FAILS})
    # a folder two distributions share (a namespace package): one not bytecode-only keeps it whole
    install(tmp_path, "numpy", "2.5.5", {"shared/a.py": ""})
    install(tmp_path, "protobuf", "7.36.2", {"shared/b.py": ""})
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "ours.py").write_text(FAILS)
    return tmp_path


def traceback_of(target: Path, module: str) -> str:
    code = f"import {module} as m\ntry:\n    m.fail()\nexcept ValueError:\n    import traceback; traceback.print_exc()"
    proc = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r})\n{code}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stderr


def test_bytecode_only_libraries_ship_pyc_alone_and_still_import(libraries, monkeypatch):
    monkeypatch.delenv("KEEP_PYTHON_SOURCES", raising=False)
    precompile(libraries)
    assert sorted(p.relative_to(libraries).as_posix() for p in (libraries / "networkx").rglob("*")) == [
        "networkx/__init__.pyc",
        "networkx/algo",
        "networkx/algo/deep.pyc",
    ]
    lines = traceback_of(libraries, "networkx.algo.deep").splitlines()
    # the frame names where Lambda unpacks it, with no source line to show
    assert '  File "/var/task/networkx/algo/deep.py", line 2, in fail' in lines
    assert "raise ValueError" not in "\n".join(lines[:-1])
    for kept in ("anyio/mod.py", "shared/a.py", "shared/b.py", "core/ours.py"):
        assert (libraries / kept).is_file(), kept
    assert (libraries / "anyio" / "__pycache__").is_dir()
    assert "raise ValueError('from the library')" in traceback_of(libraries, "anyio.mod")


def test_keep_python_sources_keeps_them(libraries, monkeypatch):
    monkeypatch.setenv("KEEP_PYTHON_SOURCES", "1")
    precompile(libraries)
    assert (libraries / "networkx" / "algo" / "deep.py").is_file()
    assert not (libraries / "networkx" / "algo" / "deep.pyc").exists()


CLICK_WRAPPER = """
from core import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, text: str) -> str:
        import click

        return click.style(text)
"""


def test_make_check_sees_the_package_without_them(tmp_path):
    """click is in the lock but not in the artifact: `make check` installs what the build ships, so a
    wrapper importing it fails there, naming it, instead of at its first request on Lambda."""
    from tests.cold import clean_env
    from tests.conftest import FIXTURE_PIPELINES

    folder = tmp_path / "pipelines"
    shutil.copytree(FIXTURE_PIPELINES / "echo", folder / "echo")
    (folder / "styled").mkdir()
    (folder / "styled" / "pipeline_wrapper.py").write_text(CLICK_WRAPPER)
    proc = subprocess.run(
        [sys.executable, "-m", "infra.check", str(folder)],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 1, proc.stderr
    assert (
        "pipelines/styled/pipeline_wrapper.py:10: `import click`: the Lambda package lacks it "
        "(ModuleNotFoundError: No module named 'click')"
    ) in proc.stderr
