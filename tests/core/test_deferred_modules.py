"""core/deferred_modules.py: with telemetry off, Haystack's import of posthog runs none of posthog's code
until something uses it; then the real module is there, in place. Import state is process-wide, so the
behaviour is checked in fresh processes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from core.deferred_modules import DeferredModuleFinder, defer_unused_modules, is_deferred, telemetry_enabled
from tests.cold import ROOT, clean_env


def _fresh(code: str, **env: str) -> dict:
    environ = {**clean_env(PYTHONPATH=str(ROOT)), **env}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("value", "enabled"),
    [(None, True), ("true", True), ("1", True), ("True", True), ("False", False), ("0", False), ("no", False)],
)
def test_telemetry_is_read_as_haystack_reads_it(value, enabled):
    environ = {} if value is None else {"HAYSTACK_TELEMETRY_ENABLED": value}
    assert telemetry_enabled(environ) is enabled


def test_telemetry_on_defers_nothing():
    before = list(sys.meta_path)
    assert defer_unused_modules({"HAYSTACK_TELEMETRY_ENABLED": "true"}) is None
    assert defer_unused_modules({}) is None  # Haystack's default is on
    assert sys.meta_path == before


def test_installing_twice_keeps_one_finder():
    before = list(sys.meta_path)
    try:
        first = defer_unused_modules({"HAYSTACK_TELEMETRY_ENABLED": "False"})
        assert first is not None
        assert defer_unused_modules({"HAYSTACK_TELEMETRY_ENABLED": "False"}) is first
        assert sum(isinstance(f, DeferredModuleFinder) for f in sys.meta_path) == 1
    finally:
        sys.meta_path[:] = before


def test_a_module_that_is_not_installed_still_fails_to_import():
    finder = DeferredModuleFinder(["haystack_lambda_no_such_module"])
    sys.meta_path.insert(0, finder)
    try:
        with pytest.raises(ModuleNotFoundError):
            __import__("haystack_lambda_no_such_module")
    finally:
        sys.meta_path.remove(finder)
    assert not is_deferred(sys.modules.get("haystack_lambda_no_such_module"))


def test_haystack_with_telemetry_off_runs_a_pipeline_without_executing_posthog():
    seen = _fresh(
        """
        import json, sys
        from core.deferred_modules import defer_unused_modules, is_deferred
        finder = defer_unused_modules()
        from haystack import Pipeline
        from haystack.components.builders import PromptBuilder
        pipeline = Pipeline()
        pipeline.add_component("builder", PromptBuilder(template="Hi {{ name }}"))
        prompt = pipeline.run({"builder": {"name": "Ada"}})["builder"]["prompt"]
        print(json.dumps({
            "prompt": prompt,
            "deferred": is_deferred(sys.modules.get("posthog")),
            "waiting": finder.deferred(),
            "executed": sorted(m for m in sys.modules if m.startswith("posthog.") or m in ("requests", "urllib3")),
        }))
        """,
        HAYSTACK_TELEMETRY_ENABLED="False",
    )
    assert seen == {"prompt": "Hi Ada", "deferred": True, "waiting": ["posthog"], "executed": []}


def test_first_use_loads_the_real_module_in_place():
    seen = _fresh(
        """
        import json, sys
        from core.deferred_modules import defer_unused_modules, is_deferred
        defer_unused_modules()
        from haystack.telemetry import _telemetry
        stand_in = _telemetry.posthog
        capture = stand_in.capture  # the first use: posthog's code runs now
        import posthog.client
        print(json.dumps({
            "same_object": sys.modules["posthog"] is stand_in,
            "deferred_after_use": is_deferred(stand_in),
            "capture": capture.__module__,
            "client": posthog.client.Client.__name__,
            "submodules": "posthog.client" in sys.modules,
        }))
        """,
        HAYSTACK_TELEMETRY_ENABLED="False",
    )
    assert seen == {
        "same_object": True,
        "deferred_after_use": False,
        "capture": "posthog",
        "client": "Client",
        "submodules": True,
    }


def test_telemetry_on_imports_posthog_as_haystack_always_did():
    seen = _fresh(
        """
        import json, sys
        from core.deferred_modules import defer_unused_modules, is_deferred
        finder = defer_unused_modules()
        import haystack.telemetry._telemetry as t
        print(json.dumps({"finder": finder is not None, "deferred": is_deferred(sys.modules["posthog"]),
                          "client_loaded": "posthog.client" in sys.modules}))
        """,
        HAYSTACK_TELEMETRY_ENABLED="True",
        HOME="/tmp/haystack-lambda-telemetry-test-home",  # Haystack writes its telemetry id under ~/.haystack
    )
    assert seen == {"finder": False, "deferred": False, "client_loaded": True}
