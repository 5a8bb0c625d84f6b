"""The registry on its own (core/registry.py): states, loading a pending pipeline once, and a fault while adding
one recorded as that pipeline's failure (with secrets masked)."""

from pathlib import Path
from types import SimpleNamespace

from core.registry import FailedPipeline, LoadedPipeline, Registry


def _loaded(name: str) -> LoadedPipeline:
    return LoadedPipeline(name, "wrapper", Path(name), wrapper=object(), run=None, load_ms=1.0)


def _failed(name: str, traceback: str | None = None) -> FailedPipeline:
    return FailedPipeline(name, "wrapper", Path(name), "setup", f"{name} failed", traceback)


def _candidate(name: str) -> SimpleNamespace:
    return SimpleNamespace(name=name, kind="wrapper", path=Path(name), source="package", version=None)


def _registry(load=None) -> Registry:
    registry = Registry(load=load or (lambda candidate: _loaded(candidate.name)))
    registry.loaded["b_loaded"] = _loaded("b_loaded")
    registry.failed["c_failed"] = _failed("c_failed")
    registry.pending["a_pending"] = _candidate("a_pending")
    return registry


def test_states_list_every_pipeline_by_name_and_names_only_the_loaded_ones():
    registry = _registry()
    assert list(registry.states().items()) == [("a_pending", "pending"), ("b_loaded", "loaded"), ("c_failed", "failed")]
    assert registry.names() == ["b_loaded"]
    assert registry.get("a_pending") is None and "a_pending" in registry.pending  # get never loads


def test_load_pending_loads_once_and_listeners_run_before_it_leaves_pending():
    calls, seen = [], []
    registry = _registry(load=lambda candidate: calls.append(candidate.name) or _loaded(candidate.name))
    registry.on_load.append(lambda result: seen.append((result.name, result.name in registry.pending)))
    registry.load_pending("a_pending")
    registry.load_pending("a_pending")  # already loaded: nothing to do
    registry.load_pending("unknown")
    assert calls == ["a_pending"]
    assert seen == [("a_pending", True)]  # its route exists before a request can find it no longer pending
    assert registry.states()["a_pending"] == "loaded" and registry.get("a_pending") is not None


def test_a_pending_pipeline_that_fails_to_load_answers_with_its_reason():
    registry = _registry(load=lambda candidate: _failed(candidate.name))
    registry.load_pending("a_pending")
    assert registry.states()["a_pending"] == "failed"
    assert registry.failure_detail("a_pending") == "Pipeline 'a_pending' failed to load: a_pending failed"
    assert registry.failure_detail("b_loaded") is None


def test_a_listener_fault_becomes_the_pipelines_load_failure_with_secrets_masked():
    registry = _registry()
    results = []

    def add_route(result):
        results.append(type(result).__name__)
        if isinstance(result, LoadedPipeline):
            raise RuntimeError("route for postgresql://admin:hunter2-secret@db:5432/x could not be built")

    registry.on_load.append(add_route)
    registry.load_pending("a_pending")
    failed = registry.failed["a_pending"]
    assert "a_pending" not in registry.loaded and not registry.pending
    assert results == ["LoadedPipeline", "FailedPipeline"]  # told again: now it failed
    assert failed.stage == "load" and failed.reason.startswith("adding it failed: RuntimeError: route for ")
    assert "hunter2-secret" not in failed.reason and "hunter2-secret" not in (failed.traceback or "")


def test_failed_pipeline_status_shows_the_traceback_only_when_asked():
    failed = _failed("x", traceback="Traceback (most recent call last): ...")
    assert "traceback" not in failed.as_status(show_tracebacks=False)
    assert failed.as_status(show_tracebacks=True)["traceback"].startswith("Traceback")
    assert failed.as_status(show_tracebacks=False) == {
        "name": "x",
        "kind": "wrapper",
        "stage": "setup",
        "reason": "x failed",
        "source": "package",
    }
