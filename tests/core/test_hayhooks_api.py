"""Point 1 of issue 13: every public name of Hayhooks 2.1.0 from `core`, and its helper modules by one rule."""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType

import pytest

import core
from core.hayhooks_alias import DEEP_PATHS, core_modules_for
from tests.core.test_hayhooks_alias import run_python

# hayhooks.__all__ of Hayhooks 2.1.0, written out (hayhooks itself is not imported by these tests)
HAYHOOKS_ALL = [
    "AsyncPipeline",
    "BasePipelineWrapper",
    "DurableContext",
    "Pipeline",
    "PipelineEvent",
    "SSEStream",
    "YAMLPipelineWrapper",
    "async_streaming_generator",
    "chat_messages_from_openai_response",
    "coerce_pipeline_inputs",
    "current_durable_context",
    "durable_streaming_callback",
    "create_app",
    "default_on_pipeline_end",
    "default_on_tool_call_end",
    "default_on_tool_call_start",
    "get_input_files",
    "get_last_user_input_text",
    "get_last_user_message",
    "is_user_message",
    "log",
    "run_app",
    "streaming_generator",
]

# the helper modules wrappers import, where Hayhooks has them -> where the rule puts them
HELPER_MODULES = {
    "hayhooks.open_webui": "core.open_webui",
    "hayhooks.events": "core.events",
    "hayhooks.chainlit_events": "core.chainlit_events",
    "hayhooks.callbacks": "core.callbacks",
    "hayhooks.server.tracing": "core.tracing",
    "hayhooks.testing": "core.testing",
    "hayhooks.server.logger": "core.logger",
    "hayhooks.settings": "core.settings",
}


def test_core_exports_exactly_hayhooks_public_names():
    assert sorted(core.__all__) == sorted(HAYHOOKS_ALL)


@pytest.mark.parametrize("name", HAYHOOKS_ALL)
def test_every_hayhooks_name_is_importable_from_core(name):
    namespace: dict = {}
    exec(f"from core import {name}", namespace)
    value = namespace[name]
    assert value is getattr(core, name)
    assert not isinstance(value, ModuleType)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(ImportError, match="cannot import name 'serve'"):
        exec("from core import serve", {})


@pytest.mark.parametrize(("hayhooks_module", "core_module"), HELPER_MODULES.items())
def test_helper_modules_follow_the_rule(hayhooks_module, core_module):
    assert core_modules_for(hayhooks_module) == (core_module,)
    assert isinstance(importlib.import_module(core_module), ModuleType)


def test_the_rule_for_the_package_and_the_deep_paths():
    assert core_modules_for("hayhooks") == ("core",)
    assert core_modules_for("hayhooks.server.whatever") == ("core.whatever",)
    assert core_modules_for("hayhooks_other") is None and core_modules_for("core.app") is None
    for name, targets in DEEP_PATHS.items():
        for target in targets:
            importlib.import_module(target)  # every deep path points at a module that exists
        assert core_modules_for(name) == targets


def test_helper_modules_and_names_through_the_hayhooks_alias():
    """`import hayhooks.X` gives the same objects as `core.X`, for every public name of each helper module."""
    out = run_python(
        f"""
        import importlib
        from core import hayhooks_alias
        hayhooks_alias.install()
        import core, hayhooks
        report = {{"names": [n for n in {HAYHOOKS_ALL!r} if getattr(hayhooks, n) is not getattr(core, n)]}}
        for alias_name, core_name in {HELPER_MODULES!r}.items():
            alias, target = importlib.import_module(alias_name), importlib.import_module(core_name)
            public = [n for n in dir(target) if not n.startswith("_")
                      and not isinstance(getattr(target, n), type(core))]
            report[alias_name] = [len(public), [n for n in public if getattr(alias, n) is not getattr(target, n)]]
        for deep in {list(DEEP_PATHS)!r}:
            importlib.import_module(deep)
        from hayhooks.server.utils.base_pipeline_wrapper import BasePipelineWrapper
        from hayhooks.server.pipelines.sse import SSEStream
        from hayhooks.server.app import create_app
        report["deep"] = [BasePipelineWrapper is core.BasePipelineWrapper, SSEStream is core.SSEStream,
                          create_app is core.create_app]
        report["star"] = sorted(n for n in {HAYHOOKS_ALL!r} if n not in hayhooks.__all__)
        print(json.dumps(report))
    """
    )
    report = out["result"]
    assert report.pop("names") == []
    assert report.pop("deep") == [True, True, True]
    assert report.pop("star") == []
    for module, (count, different) in report.items():
        assert count > 0, f"{module} has no public names"
        assert different == [], f"{module}: {different}"


def test_pipeline_and_async_pipeline_are_haystacks_pipeline_that_runs_async():
    import haystack

    assert core.Pipeline is core.AsyncPipeline is haystack.Pipeline
    assert inspect.iscoroutinefunction(core.AsyncPipeline.run_async)


def test_durable_names_behave_as_hayhooks_with_durable_mode_off():
    assert core.current_durable_context() is None
    assert core.durable_streaming_callback({"text": "chunk"}) is None  # dropped: no execution to forward to
    with pytest.raises(RuntimeError, match="durable execution is not available"):
        core.DurableContext()


def test_yaml_pipeline_wrapper_is_the_loaders():
    from core.yaml_pipeline import YAMLPipelineWrapper

    assert core.YAMLPipelineWrapper is YAMLPipelineWrapper
