"""Point 2 of issue 13: wrappers that still say `from hayhooks… import` load and run with `hayhooks` not
installed, served by core; the compat layer costs nothing to a pipeline that does not use it.

Each test runs in a fresh interpreter where the real `hayhooks` package cannot be imported (a finder that
refuses it), so they hold whether or not the dev environment has it installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import ROOT

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HAYHOOKS_IMPORTS = FIXTURES / "hayhooks_imports"

# First in every script: `hayhooks` as if it were not installed (the alias, once installed, comes before this)
_WITHOUT_HAYHOOKS = """
import importlib.abc, json, sys

class _NoHayhooks(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "hayhooks" or name.startswith("hayhooks."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, _NoHayhooks())
"""

# every module of the compat layer: none of them may be imported for a pipeline that does not use it
COMPAT_MODULES = {
    "core.app_factory",
    "core.callbacks",
    "core.chainlit_events",
    "core.durable",
    "core.events",
    "core.hayhooks_alias",
    "core.hayhooks_settings",
    "core.haystack_compat",
    "core.logger",
    "core.open_webui",
    "core.pipeline_inputs",
    "core.registry_view",
    "core.sse_stream",
    "core.testing",
    "core.tracing",
}


def run_python(script: str, **env: str) -> dict:
    """Run `script` in a new interpreter (hayhooks blocked); it prints one JSON document as its last line."""
    environ = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HAYSTACK_TELEMETRY_ENABLED": "False",
        "HAYHOOKS_LOG_FORMAT": "json",
        **env,
    }
    environ.pop("HAYHOOKS_APP", None)
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_HAYHOOKS + textwrap.dedent(script)],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return {"result": json.loads(done.stdout.strip().splitlines()[-1]), "stdout": done.stdout}


def test_hayhooks_is_not_importable_in_these_tests():
    out = run_python("""
        try:
            import hayhooks
            print(json.dumps("imported"))
        except ModuleNotFoundError as exc:
            print(json.dumps(str(exc)))
    """)
    assert out["result"] == "No module named 'hayhooks'"


def test_a_folder_with_hayhooks_imports_loads_and_runs_served_by_core():
    out = run_python(
        """
        from handler import lambda_handler
        from infra.lambda_events import Context, http_v2, parse

        status = parse(lambda_handler(http_v2("GET", "/status"), Context())).json()
        run = parse(lambda_handler(http_v2("POST", "/hh_core/run", body={"word": "lambda"}), Context()))
        events = parse(lambda_handler(http_v2("POST", "/hh_events/run", body={"tool": "search"}), Context()))
        real = sorted(n for n, m in sys.modules.items() if n.split(".")[0] == "hayhooks"
                      and type(m).__name__ != "HayhooksAlias")
        print(json.dumps({"status": status, "run": [run.status, run.json()], "events": [events.status, events.json()],
                          "real_hayhooks_modules": real, "loguru": "loguru" in sys.modules}))
    """,
        HAYHOOKS_PIPELINES_DIR=str(HAYHOOKS_IMPORTS),
    )
    result = out["result"]
    status = result["status"]
    assert status["failed"] == []
    assert status["pipelines"] == ["hh_core", "hh_events", "plain"]
    # the new /status key: which pipelines' hayhooks imports were served, and by what
    assert status["hayhooks_imports"] == {"hh_core": "core", "hh_events": "core"}
    assert result["real_hayhooks_modules"] == [] and result["loguru"] is False

    code, body = result["run"]
    assert code == 200, body
    checks = body["result"]
    assert checks["greeting"] == "HELLO, LAMBDA!"  # core.testing.Hello, then the folder's own helper module
    assert checks["same_base"] and checks["same_log"] and checks["same_pipeline_class"] and checks["same_registry"]
    assert checks["registry_names"] == ["hh_core", "hh_events", "plain"]
    assert checks["durable_context"] is None and checks["durable_callback"] is None
    assert checks["last_input_text"] == "lambda" and checks["chat_messages"] == ["lambda"]
    assert checks["last_user_message"] == "lambda" and checks["is_user"] is True
    assert checks["input_files"] == [] and checks["coerced"] == "dict"

    code, body = result["events"]
    assert code == 200, body
    assert body["result"]["status_event"] and body["result"]["open_webui_event"] and body["result"]["tool_start"]

    # the cold-start log says it too, as a field CloudWatch can query
    summary = [json.loads(line) for line in out["stdout"].splitlines() if '"hayhooks_imports"' in line]
    assert summary and summary[0]["hayhooks_imports"] == {"hh_core": "core", "hh_events": "core"}
    assert summary[0]["message"].startswith("Hayhooks imports (`from hayhooks … import`) served by core for: hh_core")


def test_a_hayhooks_module_core_lacks_fails_with_the_rule_in_the_message():
    out = run_python("""
        from core import hayhooks_alias
        hayhooks_alias.install()
        try:
            from hayhooks.server.utils.mcp_utils import create_mcp_server
        except ModuleNotFoundError as exc:
            print(json.dumps([exc.name, str(exc)]))
    """)
    name, message = out["result"]
    assert name == "hayhooks.server.utils.mcp_utils"
    assert "hayhooks.server.utils.mcp_utils -> core.utils.mcp_utils" in message


def test_the_real_hayhooks_imported_first_is_kept_and_reported(tmp_path):
    # a stand-in for the installed package, imported before the pipelines load (only a test process does that)
    package = tmp_path / "site" / "hayhooks"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("ORIGIN = 'the installed package'\n")
    (package / "events.py").write_text("ORIGIN = 'installed events'\n")
    out = run_python(f"""
        sys.meta_path.pop(0)  # this test has its own hayhooks
        sys.path.insert(0, {str(tmp_path / "site")!r})
        import hayhooks
        from core import hayhooks_alias
        served = hayhooks_alias.install()
        from hayhooks.events import ORIGIN
        print(json.dumps([served, hayhooks.ORIGIN, ORIGIN]))
    """)
    assert out["result"] == ["hayhooks", "the installed package", "installed events"]


def test_core_wins_over_an_installed_hayhooks_imported_after_install(tmp_path):
    """`make run` serves what Lambda serves: with the alias installed, an installed hayhooks is not used."""
    package = tmp_path / "site" / "hayhooks"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('the installed hayhooks was imported')\n")
    out = run_python(f"""
        sys.meta_path.pop(0)
        sys.path.insert(0, {str(tmp_path / "site")!r})
        from core import hayhooks_alias
        served = hayhooks_alias.install()
        from hayhooks import BasePipelineWrapper
        import core
        print(json.dumps([served, BasePipelineWrapper is core.BasePipelineWrapper]))
    """)
    assert out["result"] == ["core", True]


def test_a_hayhooks_import_outside_the_folder_is_found_by_the_import_failing(tmp_path):
    """A shared module on HAYHOOKS_ADDITIONAL_PYTHON_PATH imports hayhooks; the folder itself does not."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "shared_greeting_lib.py").write_text("from hayhooks import log\n\nGREETING = 'hi'\n")
    pipelines = tmp_path / "pipelines" / "uses_shared"
    pipelines.mkdir(parents=True)
    (pipelines / "pipeline_wrapper.py").write_text(
        "from shared_greeting_lib import GREETING\n\n"
        "from core import BasePipelineWrapper\n\n\n"
        "class PipelineWrapper(BasePipelineWrapper):\n"
        "    def setup(self) -> None:\n        pass\n\n"
        "    def run_api(self) -> str:\n        return GREETING\n"
    )
    out = run_python(
        """
        from core.loader import load_registry
        from core.settings import Settings
        registry = load_registry(Settings.from_env())
        print(json.dumps({n: p.hayhooks_imports for n, p in registry.loaded.items()}))
    """,
        HAYHOOKS_PIPELINES_DIR=str(tmp_path / "pipelines"),
        HAYHOOKS_ADDITIONAL_PYTHON_PATH=str(shared),
    )
    assert out["result"] == {"uses_shared": "core"}


def test_import_core_and_a_plain_wrapper_import_no_compat_module(tmp_path):
    """Cold-start budget: a folder with no hayhooks import loads none of the compat layer (nor loguru, uvicorn)."""
    pipelines = tmp_path / "pipelines"
    shutil.copytree(HAYHOOKS_IMPORTS / "plain", pipelines / "plain")
    out = run_python(
        """
        import core
        from handler import lambda_handler
        from infra.lambda_events import Context, http_v2, parse

        reply = parse(lambda_handler(http_v2("POST", "/plain/run", body={"text": "x"}), Context()))
        status = parse(lambda_handler(http_v2("GET", "/status"), Context())).json()
        loaded = sorted(m for m in sys.modules if m.startswith(("core.", "hayhooks", "loguru", "uvicorn")))
        print(json.dumps({"run": reply.json(), "status_keys": sorted(status), "modules": loaded}))
    """,
        HAYHOOKS_PIPELINES_DIR=str(pipelines),
    )
    result = out["result"]
    assert result["run"] == {"result": "x"}
    assert "hayhooks_imports" not in result["status_keys"]  # no pipeline imports hayhooks: the key is left out
    modules = set(result["modules"])
    assert not modules & COMPAT_MODULES, modules & COMPAT_MODULES
    assert not {m for m in modules if m.split(".")[0] in ("hayhooks", "loguru", "uvicorn")}
    assert "core.wrapper" in modules  # the check means something: the wrapper's own import did run
