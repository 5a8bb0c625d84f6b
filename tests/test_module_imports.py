"""Importing a module of core/ or handler/ builds nothing: each one imported alone, in a fresh process.

Only reading `handler.lambda_handler` runs the cold start (handler/__init__.py), and FastAPI's private
`_compat` is patched only when an app is built (core/app.py, docs/decisions.md).
"""

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from tests.cold import ROOT, clean_env
from tests.conftest import FIXTURE_PIPELINES

MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for package in ("core", "handler")
    for path in (ROOT / package).rglob("*.py")
)

# what a cold start, or any part of one, would leave behind; printed as JSON for the test to read
PROBE = """
import gc, json, os, sys
environ = dict(os.environ)
import {module}
built = []
if any(name.startswith("_haystack_lambda_pipelines") for name in sys.modules):
    built.append("a pipeline was imported")
registry = sys.modules.get("core.registry")
if registry is not None and registry.current() is not None:
    built.append("a registry was loaded")
fastapi = sys.modules.get("fastapi")
front = sys.modules.get("core.front")
apps = tuple(c for c in (vars(fastapi).get("FastAPI") if fastapi else None, getattr(front, "LeanFront", None)) if c)
if apps and any(isinstance(o, apps) for o in gc.get_objects()):
    built.append("an app was built")
shared = sys.modules.get("fastapi._compat.shared")
if getattr(getattr(shared, "is_pydantic_v1_model_class", None), "_v1_guarded", False):
    built.append("FastAPI's _compat was patched")
handler = sys.modules.get("handler")
if handler is not None and "lambda_handler" in vars(handler):
    built.append("handler.lambda_handler was built")
if dict(os.environ) != environ:
    built.append("the environment changed: " + ", ".join(sorted(set(os.environ) ^ set(environ))))
print(json.dumps(built))
"""


def _import_alone(module: str) -> tuple[str, list[str] | str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        cwd=ROOT,
        # pipelines a cold start would find: if anything loaded them, the probe sees it
        env=clean_env(PYTHONPATH=str(ROOT), HAYHOOKS_PIPELINES_DIR=str(FIXTURE_PIPELINES)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        return module, proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
    return module, json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_module_list_covers_both_packages():
    assert {"core", "handler", "core.app", "core.routes.run", "core.openai.chat", "handler.events"} <= set(MODULES)
    assert len(MODULES) > 50


def test_importing_any_module_builds_nothing():
    with ThreadPoolExecutor(max_workers=2) as pool:  # two processes at a time: the machine is shared
        results = dict(pool.map(_import_alone, MODULES))
    problems = {module: found for module, found in results.items() if found}
    assert problems == {}


def test_the_probe_sees_a_cold_start():
    """The same probe, after the one read that does run the cold start: it must report it (not vacuous)."""
    _, found = _import_alone("handler; handler.lambda_handler")
    assert isinstance(found, list), found
    assert {"a pipeline was imported", "a registry was loaded", "an app was built"} <= set(found)
    assert "handler.lambda_handler was built" in found
    # the lean front (core/front.py): FastAPI's app, and the patch made before its routes, come on first use
    assert "FastAPI's _compat was patched" not in found
