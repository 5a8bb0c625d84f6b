"""Hayhooks 2.1.0's own examples, served by this project through the Lambda handler, answer as Hayhooks does.

Each example comes from Hayhooks' sdist with only the import rule applied (`from hayhooks… import` →
`from core… import`) plus the few edits in `cases.EDITS`; its model is tests/fake_openai.py and its web
tests/fake_web.py, both on loopback. The expected answers are Hayhooks 2.1.0's own to the same requests,
recorded by tests/hayhooks_examples/record.py into tests/fixtures/hayhooks_examples/expected/. Answers are
compared after `exchange.normalise` (ids, timestamps, ports) and after undoing the deliberate differences of
`differences.DIFFERENCES`; `/status` on Hayhooks' keys only, since ours adds its own (`failed`, `sources`, …).
One test per request, so a failure names the example and the request.
"""

from __future__ import annotations

import difflib
import importlib.util
import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from handler.entry import LambdaHandler
from tests.hayhooks_examples import ours, sdist
from tests.hayhooks_examples.cases import EDITS, EXAMPLES, Example
from tests.hayhooks_examples.differences import as_hayhooks

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = ROOT / "tests" / "fixtures" / "hayhooks_examples" / "expected"
BY_NAME = {example.name: example for example in EXAMPLES}


def expected(name: str) -> dict:
    return json.loads((EXPECTED / f"{name}.json").read_text())


def exchange_ids() -> list[tuple[str, str]]:
    pairs = []
    for example in EXAMPLES:
        fixture = expected(example.name)
        pairs += [(example.name, e["label"]) for e in fixture.get("exchanges", [])]
    return pairs


class Served:
    """Each example cold-started once, in its own pipelines folder, and its requests sent once, in order."""

    def __init__(self, web: str, root: Path) -> None:
        self.web, self.root = web, root
        self.handlers: dict[str, LambdaHandler] = {}
        self.answers: dict[str, dict[str, dict]] = {}

    def handler(self, example: Example) -> LambdaHandler:
        if example.name not in self.handlers:
            missing = [m for m in example.needs if importlib.util.find_spec(m) is None]
            assert not missing, f"{example.name} needs {missing}: install requirements-dev.lock (make install)"
            self.handlers[example.name] = ours.cold_start(example, self.web, self.root / example.name, import_rule=True)
        return self.handlers[example.name]

    def answer(self, example: Example, label: str) -> dict:
        if example.name not in self.answers:
            entries = ours.ask(self.handler(example), example, self.web)
            self.answers[example.name] = {e["label"]: e for e in entries}
        return self.answers[example.name][label]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with ours.fakes() as web:
        served = Served(web, tmp_path_factory.mktemp("hayhooks-examples"))
        yield served
        for handler in served.handlers.values():
            ours.shut_down(handler)


def only_hayhooks_keys(ours: Any, theirs: Any) -> Any:
    """`ours` cut to the keys `theirs` has, at the top level (for /status, where ours adds keys)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return {k: v for k, v in ours.items() if k in theirs}
    return ours


@pytest.mark.parametrize(("name", "label"), exchange_ids(), ids=[f"{n}:{label}" for n, label in exchange_ids()])
def test_answers_as_hayhooks(served, name, label):
    example = BY_NAME[name]
    recorded = next(e for e in expected(name)["exchanges"] if e["label"] == label)
    mine = served.answer(example, label)
    assert mine["request"] == recorded["request"], "the fixture is stale: re-record (tests/hayhooks_examples/record.py)"
    want, got = recorded["answer"], dict(as_hayhooks(recorded["request"], mine["answer"]))
    if recorded["request"]["path"] == "/status":
        got["body"] = only_hayhooks_keys(got["body"], want["body"])
    assert got == want, json_diff(want, got)


def json_diff(want: Any, got: Any, limit: int = 80) -> str:
    """A unified diff of the two answers as indented JSON: Hayhooks' (-) against ours (+)."""
    lines = difflib.unified_diff(
        json.dumps(want, indent=1, sort_keys=True).splitlines(),
        json.dumps(got, indent=1, sort_keys=True).splitlines(),
        "hayhooks",
        "ours",
        lineterm="",
        n=2,
    )
    shown = list(itertools.islice(lines, limit))
    return "\n" + "\n".join(shown)


REFUSED = [e.name for e in EXAMPLES if "startup_refused" in expected(e.name)]


@pytest.mark.parametrize("name", REFUSED)
def test_refuses_what_hayhooks_refuses(served, name):
    """Hayhooks (durable mode off) will not start with a durable wrapper; here it is not served, and says why.

    Not failing the whole cold start is this project's rule for any pipeline that cannot load.
    """
    example = BY_NAME[name]
    registry = served.handler(example).registry
    [pipeline] = example.pipelines
    assert pipeline not in registry.loaded
    assert names_durable_mode(expected(name)["startup_refused"])
    assert names_durable_mode(registry.failure_detail(pipeline) or "")


def names_durable_mode(reason: str) -> bool:
    """The reason says what is missing: the durable mode (not merely the pipeline's name, durable_…)."""
    return "HAYHOOKS_DURABLE_MODE" in reason


def test_every_fixture_belongs_to_a_case():
    assert sorted(p.stem for p in EXPECTED.glob("*.json")) == sorted(BY_NAME)


def test_the_import_rule():
    source = (
        "from hayhooks import BasePipelineWrapper, log\n"
        "from hayhooks.open_webui import create_status_event\n"
        "from hayhooks.server.tracing import trace_operation\n"
        "from hayhooks.server.utils.base_pipeline_wrapper import BasePipelineWrapper\n"
        "    from hayhooks import (\n        log,\n    )\n"
        "import hayhooks_plus\n"
    )
    assert sdist.apply_import_rule(source) == (
        "from core import BasePipelineWrapper, log\n"
        "from core.open_webui import create_status_event\n"
        "from core.tracing import trace_operation\n"
        "from core.utils.base_pipeline_wrapper import BasePipelineWrapper\n"
        "    from core import (\n        log,\n    )\n"
        "import hayhooks_plus\n"
    )


def test_every_edit_applies_once(tmp_path):
    """An edit whose text moved would leave an example calling the internet: `deploy` refuses instead."""
    for example in EXAMPLES:
        sdist.deploy(
            example.pipelines, tmp_path / example.name, edits=EDITS, web="http://127.0.0.1:9", import_rule=True
        )
    edited = set(EDITS)
    deployed_sources = {
        f"{folder}/{p.relative_to(sdist.examples_dir() / folder).as_posix()}"
        for example in EXAMPLES
        for folder in example.pipelines.values()
        for p in (sdist.examples_dir() / folder).rglob("*.py")
    }
    assert edited <= deployed_sources
    with pytest.raises(sdist.EditDidNotApply):
        sdist.apply_edits("x.py", "nothing here", {"x.py": [("time.sleep(3)", "")]}, web="")


# Examples whose Hayhooks imports reach every kind of module the rule maps: `hayhooks` itself (also from a
# sibling module: agent_codex/weather.py), hayhooks.open_webui, hayhooks.events, hayhooks.chainlit_events,
# hayhooks.server.tracing and hayhooks.durable.
UNTOUCHED = [
    "agent_codex",
    "chainlit_weather_agent",
    "open_webui_agent_on_tool_calls",
    "custom_tracing",
    "shared_code_between_wrappers",
    "durable_execution",
]


@pytest.fixture(scope="module")
def untouched(tmp_path_factory) -> dict:
    result = tmp_path_factory.mktemp("untouched") / "result.json"
    command = [sys.executable, "-m", "tests.hayhooks_examples.untouched", str(result), *UNTOUCHED]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    return json.loads(result.read_text())


@pytest.mark.parametrize("name", UNTOUCHED)
def test_answers_as_hayhooks_with_imports_untouched_and_hayhooks_not_installed(untouched, name):
    fixture = expected(name)
    if "startup_refused" in fixture:
        [pipeline] = BY_NAME[name].pipelines
        assert names_durable_mode(untouched[name]["failed"].get(pipeline) or "")
        return
    got = {e["label"]: e for e in untouched[name]["exchanges"]}
    for recorded in fixture["exchanges"]:
        ours_answer = dict(as_hayhooks(recorded["request"], got[recorded["label"]]["answer"]))
        if recorded["request"]["path"] == "/status":
            assert ours_answer["body"]["hayhooks_imports"] == dict.fromkeys(BY_NAME[name].pipelines, "core")
            ours_answer["body"] = only_hayhooks_keys(ours_answer["body"], recorded["answer"]["body"])
        assert ours_answer == recorded["answer"], f"{recorded['label']}: {json_diff(recorded['answer'], ours_answer)}"
