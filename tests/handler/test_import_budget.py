"""The cold start's import budget: what a Lambda cold start with the example pipelines imports, held here.

Modules that no request of these pipelines needs must not be imported (executed) by the cold start, nor by
a `/run` request; the few known to be imported anyway are listed, each with what it would take to cut it,
and the test fails as soon as one of them is cut, so the list only shrinks. `python -X importtime` shows
where a newly imported module comes from.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.cold import ROOT, clean_env
from tests.conftest import EXAMPLES

COLD_START_AND_RUN = textwrap.dedent(
    """
    import json, sys
    import handler
    from infra.lambda_events import Context, http_v2, parse
    from core.deferred_modules import is_deferred
    runs = [("greeting", {"name": "Ada", "place": "Lambda"}), ("prompt_builder", {"question": "Why?"})]
    replies = []
    for name, body in runs:
        reply = parse(handler.lambda_handler(http_v2("POST", f"/{name}/run", body=body), Context()))
        replies.append({"status": reply.status, "body": reply.json()})
    print(json.dumps({
        "replies": replies,
        "modules": sorted(sys.modules),
        "deferred": sorted(m for m, module in list(sys.modules.items()) if is_deferred(module)),
    }))
    """
)

# Imported by nothing a request of these pipelines runs: each one imported is cold-start time for nothing.
NOT_AT_COLD_START = {
    # Haystack's telemetry client and what it brings; with telemetry off nothing calls it
    "posthog": "telemetry off: deferred by core/deferred_modules.py",
    "requests": "posthog's HTTP client",
    "urllib3": "posthog's HTTP client",
    "backoff": "posthog's retries",
    "distro": "posthog's system details",
    # the AWS SDK, X-Ray, Powertools, OTel's SDK: only with an S3 source, secrets or tracing configured
    "boto3": "AWS SDK: S3 sources and secrets only",
    "botocore": "AWS SDK: S3 sources and secrets only",
    "aws_lambda_powertools": "tracing only",
    "opentelemetry.sdk": "tracing only",
    "pydantic.v1": "core/no_pydantic_v1.py",
    # FastAPI's app: routing, parameters, OpenAPI models, docs. The lean front (core/front.py) answers /status
    # and JSON runs without it; the examples' `from fastapi import HTTPException, UploadFile` import only
    # FastAPI's light modules (core/light_packages.py). Imported by the first request that needs FastAPI.
    "fastapi.applications": "lean front",
    "fastapi.routing": "lean front",
    "fastapi.params": "lean front",
    "fastapi.param_functions": "lean front",
    "fastapi.dependencies": "lean front",
    "fastapi.encoders": "lean front",
    "fastapi.openapi.models": "lean front",
    "fastapi.openapi.docs": "lean front",
    "fastapi.openapi.utils": "lean front",
    "fastapi.security": "lean front",
    "fastapi.telemetry": "lean front",
    "core.app": "the FastAPI app (core/front.py builds it on first use)",
    "core.routes.run": "FastAPI's routes",
    "core.routes.status": "FastAPI's routes",
    "core.routes.deploy": "FastAPI's routes",
    "core.openai": "FastAPI's routes",
    # NetworkX beyond its graph classes: Haystack builds and runs pipelines on `MultiDiGraph` alone
    # (core/light_packages.py); a tie between waiting components, drawing or a SuperComponent imports the rest
    "networkx.algorithms": "light NetworkX",
    "networkx.generators": "light NetworkX",
    "networkx.readwrite": "light NetworkX",
    "networkx.linalg": "light NetworkX",
    "networkx.drawing": "light NetworkX",
    "networkx.convert_matrix": "light NetworkX",
}

# Imported by the cold start though no `/run` request needs them: the next cuts, and what each takes.
KNOWN_OVER_BUDGET: dict[str, str] = {}

# Every module in sys.modules after the cold start and the two requests (859 when this was set, with the
# dev lock's packages; 1,131 before light NetworkX, 1,221 before the lean front): headroom for patch upgrades,
# not for a new dependency tree.
MODULE_CEILING = 920


@pytest.fixture(scope="module")
def cold_start() -> dict:
    env = clean_env(PYTHONPATH=str(ROOT), HAYHOOKS_PIPELINES_DIR=str(EXAMPLES), AWS_LAMBDA_FUNCTION_NAME="f")
    proc = subprocess.run(
        [sys.executable, "-c", COLD_START_AND_RUN], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _imported(modules: list[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


def test_run_requests_are_answered(cold_start):
    assert cold_start["replies"] == [
        {"status": 200, "body": {"result": {"greeting_builder": {"prompt": "Hello Ada, welcome to Lambda!"}}}},
        {"status": 200, "body": {"result": "Answer in English, in at most 50 words.\nQuestion: Why?\nAnswer:"}},
    ]


def test_posthog_is_never_executed_with_telemetry_off(cold_start):
    """Haystack's `import posthog` gets a stand-in whose code has not run (core/deferred_modules.py): it
    is the only posthog entry in sys.modules, and none of posthog's own imports happened."""
    modules = cold_start["modules"]
    posthog = [m for m in modules if m == "posthog" or m.startswith("posthog.")]
    assert posthog in ([], ["posthog"])
    assert [m for m in posthog if m not in cold_start["deferred"]] == []
    assert not _imported(modules, "requests")


def test_nothing_outside_the_budget_is_imported(cold_start):
    modules = [m for m in cold_start["modules"] if m not in cold_start["deferred"]]
    over = {name: why for name, why in NOT_AT_COLD_START.items() if _imported(modules, name)}
    assert over == {}


def test_known_over_budget_modules_are_still_imported(cold_start):
    """The day one of these is cut, take it off KNOWN_OVER_BUDGET and add it to NOT_AT_COLD_START."""
    cut = [name for name in KNOWN_OVER_BUDGET if not _imported(cold_start["modules"], name)]
    assert cut == []


def test_module_count_stays_under_the_ceiling(cold_start):
    assert len(cold_start["modules"]) <= MODULE_CEILING, (
        f"{len(cold_start['modules'])} modules after a cold start (ceiling {MODULE_CEILING}): "
        "find the newcomer with `python -X importtime`"
    )
