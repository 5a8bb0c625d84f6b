"""core.events, core.open_webui, core.chainlit_events, core.callbacks and core.streaming against Hayhooks 2.1.0's
modules of the same names: the same public names and signatures, and the same results from each helper
(recorded from Hayhooks by tests/fixtures/hayhooks_wire/record.py into api.json)."""

import importlib
import json
import subprocess
import sys

import pytest

from tests.hayhooks_wire import API, MODULES, helper_calls, public_api, rendered

RECORDED = json.loads(API.read_text(encoding="utf-8"))


@pytest.mark.parametrize("module", sorted(MODULES))
def test_public_names_and_signatures_are_hayhooks(module):
    assert public_api(importlib.import_module(module)) == RECORDED["names"][module]


def test_helpers_return_what_hayhooks_returns():
    ours = [
        rendered(getattr(importlib.import_module(module), name)(*args, **kwargs))
        for module, name, args, kwargs in helper_calls()
    ]
    assert ours == RECORDED["calls"]


def test_event_classes_are_pipeline_events():
    from core.chainlit_events import ChainlitEvent
    from core.events import PipelineEvent
    from core.open_webui import OpenWebUIEvent

    assert issubclass(OpenWebUIEvent, PipelineEvent) and issubclass(ChainlitEvent, PipelineEvent)
    event = OpenWebUIEvent(type="message", data={"content": "x"})
    assert event.to_dict() == event.to_event_dict() == {"type": "message", "data": {"content": "x"}}


def test_serving_a_pipeline_does_not_import_the_event_modules():
    """Cold start: the app, the OpenAI endpoints and `core.streaming` load none of them until a wrapper does."""
    code = (
        "import sys, core.app, core.streaming, core.run_body;"
        "print(sorted(m for m in sys.modules if m in {'core.events', 'core.open_webui', 'core.chainlit_events',"
        " 'core.callbacks'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
