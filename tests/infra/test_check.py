"""`make check` (infra/check.py) and the requirements rules it shares with the build (infra/requirements.py)."""

import shutil
import subprocess
import sys

from infra.imports import imports_of
from infra.requirements import conflicts_with_lock, locked_pins, requirement_files
from tests.cold import ROOT, clean_env
from tests.conftest import FIXTURE_PIPELINES

LACKING_WRAPPER = """
from core import BasePipelineWrapper

try:
    import ujson as json  # optional: the wrapper copes without it
except ImportError:
    import json


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, text: str) -> str:
        import tabulate  # inside a function: loading alone never reaches it

        from hayhooks.not_served import anything

        return json.dumps(anything(tabulate.tabulate([[text]])))
"""


def test_check_fails_naming_each_import_the_package_lacks(tmp_path):
    folder = tmp_path / "pipelines"
    shutil.copytree(FIXTURE_PIPELINES / "echo", folder / "echo")
    (folder / "reporter").mkdir()
    (folder / "reporter" / "pipeline_wrapper.py").write_text(LACKING_WRAPPER)
    proc = subprocess.run(
        [sys.executable, "-m", "infra.check", str(folder)],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 1, proc.stderr
    assert f"make check: 2 problem(s) in {folder}, what Lambda would meet at cold start" in proc.stderr
    assert (
        "pipelines/reporter/pipeline_wrapper.py:15: `import tabulate`: the Lambda package lacks it "
        "(ModuleNotFoundError: No module named 'tabulate'); add the distribution that provides it to "
        "pipelines/requirements.txt (or pipelines/reporter/requirements.txt)"
    ) in proc.stderr
    assert (
        "pipelines/reporter/pipeline_wrapper.py:17: `from hayhooks.not_served import anything`: "
        "the Lambda package lacks it (ModuleNotFoundError: No module named 'hayhooks"
    ) in proc.stderr
    assert "ujson" not in proc.stderr  # guarded by `except ImportError`


def test_static_scan_leaves_out_relative_in_folder_optional_and_type_checking_imports(tmp_path):
    wrapper = tmp_path / "one" / "pipeline_wrapper.py"
    wrapper.parent.mkdir()
    (tmp_path / "one" / "helpers.py").write_text("import numpy\n")
    wrapper.write_text(
        "from typing import TYPE_CHECKING\nimport helpers\nfrom . import helpers as h\n"
        "from haystack import Pipeline\nif TYPE_CHECKING:\n    import boto3\n"
        "try:\n    import orjson\nexcept (ImportError, AttributeError):\n    orjson = None\n"
    )
    found = {(i.file.name, i.line, i.module, i.names) for i in imports_of(tmp_path)}
    assert found == {
        ("helpers.py", 1, "numpy", ()),
        ("pipeline_wrapper.py", 1, "typing", ("TYPE_CHECKING",)),
        ("pipeline_wrapper.py", 4, "haystack", ("Pipeline",)),
    }


def test_a_requirement_that_excludes_a_runtime_pin_names_both(tmp_path):
    pins = locked_pins(ROOT / "requirements.lock")
    lines = ["# ours", "humanize==4.17.0", "numpy<2  # too old", f"PyYAML=={pins['pyyaml']}"]
    (tmp_path / "requirements.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "scraper").mkdir()
    (tmp_path / "scraper" / "requirements.txt").write_text("--only-binary=:all:\nJinja2>=99\n")
    files = requirement_files(tmp_path)
    assert files == [tmp_path / "requirements.txt", tmp_path / "scraper" / "requirements.txt"]
    problems = conflicts_with_lock(files, ROOT / "requirements.lock")
    assert problems == [
        f"{tmp_path}/requirements.txt:3: numpy<2 conflicts with the runtime pin numpy=={pins['numpy']} in "
        "requirements.lock: the function has one numpy; loosen the requirement (or change the pin with make lock, "
        "and test everything again)",
        f"{tmp_path}/scraper/requirements.txt:2: Jinja2>=99 conflicts with the runtime pin Jinja2=={pins['jinja2']} "
        "in requirements.lock: the function has one Jinja2; loosen the requirement (or change the pin with "
        "make lock, and test everything again)",
    ]


def test_the_build_stops_on_a_conflict_before_installing_anything(tmp_path):
    from infra.build import RequirementsConflict, build

    folder = tmp_path / "pipelines"
    shutil.copytree(FIXTURE_PIPELINES / "echo", folder / "echo")
    (folder / "requirements.txt").write_text("numpy<2\n")
    target = tmp_path / "artifact"
    try:
        build(target, "arm64", folder)
    except RequirementsConflict as exc:
        message = str(exc.code)
    else:
        raise AssertionError("the build went on")
    assert message.startswith("pipeline requirements conflict with the runtime lock:")
    assert "numpy<2 conflicts with the runtime pin numpy==" in message
    assert not any(target.iterdir())
