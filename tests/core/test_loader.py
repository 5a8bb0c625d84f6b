import logging
import sys
from pathlib import Path

import pytest

from core.loader import PACKAGE_ROOT, discover, load_registry, module_name_for
from core.settings import SettingsError
from handler.entry import LambdaHandler
from infra.lambda_events import Context, assert_still_serving, http_v2, parse
from tests.conftest import FIXTURE_PIPELINES, fixture_settings


def _summary(registry):
    return sorted(registry.loaded), {name: (f.stage, f.reason) for name, f in registry.failed.items()}


def test_parallel_and_sequential_load_the_same(tmp_path):
    parallel = load_registry(fixture_settings(startup_deploy_strategy="parallel", startup_deploy_workers=8))
    sequential = load_registry(fixture_settings(startup_deploy_strategy="sequential"))
    assert _summary(parallel) == _summary(sequential)
    assert len(parallel.loaded) >= 10 and len(parallel.failed) == 9


def test_registry_order_is_by_name():
    registry = load_registry(fixture_settings())
    assert list(registry.loaded) == sorted(registry.loaded)


def test_failure_reasons_name_pipeline_object_and_cause():
    failed = load_registry(fixture_settings()).failed
    assert failed["broken_import"].reason == (
        "importing broken_import/pipeline_wrapper.py raised ModuleNotFoundError: "
        "No module named 'a_module_that_does_not_exist' (at pipeline_wrapper.py, line 3)"
    )
    assert failed["broken_setup"].stage == "setup"
    assert failed["no_run"].reason.startswith("no_run/pipeline_wrapper.py: class 'PipelineWrapper' implements none of")
    assert failed["no_return"].reason == (
        "no_return/pipeline_wrapper.py: Pipeline wrapper is missing a return type for 'run_api' method"
    )
    assert failed["bad_component"].reason == (
        "bad_component.yml: Failed to load pipeline from YAML: component 'thing' (type not_allowed_module.Thing): "
        "Refusing to deserialize a class from module 'not_allowed_module': the module is not on the trusted-module "
        "allowlist. To trust it, add 'not_allowed_module' to HAYSTACK_DESERIALIZATION_ALLOWLIST in the function's "
        "environment (comma-separated module names or patterns, e.g. 'not_allowed_module,other_module.*')."
    )
    assert failed["arbitrary_type"].stage == "model"
    assert failed["arbitrary_type"].reason.startswith(
        "arbitrary_type/pipeline_wrapper.py: cannot build a request model from run_api(): "
    )
    assert failed["leaky_setup"].reason == (
        "PipelineWrapper.setup() raised ConnectionError: could not connect to "
        "postgresql://***@db.internal:5432/docs (at pipeline_wrapper.py, line 6)"
    )
    assert failed["no_io"].reason == "no_io.yml: YAML pipeline must declare at least one of 'inputs' or 'outputs'."
    assert failed["not_yaml"].reason.startswith("not_yaml.yml: not valid YAML: expected ',' or ']'")
    for failure in failed.values():
        assert "\n" not in failure.reason
        assert failure.traceback and failure.traceback.startswith("Traceback")


def test_pipelines_load_as_private_packages_without_touching_sys_path():
    before = list(sys.path)
    registry = load_registry(fixture_settings(additional_python_path=()))
    assert sys.path == before
    module = type(registry.get("relative").wrapper).__module__
    assert module == f"{module_name_for('relative')}.pipeline_wrapper"
    assert module.startswith(f"{PACKAGE_ROOT}.relative_")
    assert sys.modules["openai"].__file__ != str(FIXTURE_PIPELINES / "openai" / "__init__.py")


def test_loading_changes_no_file(tmp_path):
    def snapshot(root: Path):
        return {
            p.relative_to(root): (p.stat().st_mtime_ns, p.read_bytes())
            for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }

    before = snapshot(FIXTURE_PIPELINES)
    load_registry(fixture_settings())
    assert snapshot(FIXTURE_PIPELINES) == before


def test_missing_pipelines_dir_names_the_variable(tmp_path):
    with pytest.raises(SettingsError, match=r"HAYHOOKS_PIPELINES_DIR: '.*/nope' is not a directory"):
        load_registry(fixture_settings(pipelines_dir=tmp_path / "nope"))


def test_empty_dir_loads_nothing(tmp_path):
    registry = load_registry(fixture_settings(pipelines_dir=tmp_path))
    assert registry.loaded == {} and registry.failed == {}


def test_discover_rules(tmp_path):
    for folder in ("good", ".hidden", "__pycache__", "_private", "has space", "dup"):
        (tmp_path / folder).mkdir()
    (tmp_path / "dup.yml").write_text("components: {}")
    (tmp_path / "other.yaml").write_text("components: {}")
    (tmp_path / "notes.txt").write_text("ignored")
    candidates, rejected = discover(tmp_path)
    assert [(c.name, c.kind) for c in candidates] == [("dup", "wrapper"), ("good", "wrapper"), ("other", "yaml")]
    assert {r.name: r.reason for r in rejected} == {
        "dup": "name 'dup' is already used by dup",
        "has space": "'has space' cannot be a URL path segment: use letters, digits, '-', '_' or '.'",
    }


def test_import_error_in_parallel_loading_is_retried_alone():
    import_race = FIXTURE_PIPELINES.parent / "import_race"
    sys.modules.pop("_import_race_state", None)
    sequential = load_registry(fixture_settings(pipelines_dir=import_race, startup_deploy_strategy="sequential"))
    assert sequential.failed["first_import_fails"].stage == "setup"  # no retry when loading one at a time

    sys.modules.pop("_import_race_state", None)
    parallel = load_registry(fixture_settings(pipelines_dir=import_race, startup_deploy_workers=2))
    assert sorted(parallel.loaded) == ["first_import_fails", "steady"] and not parallel.failed
    assert parallel.get("first_import_fails").wrapper.run_api() == 2


def test_similar_names_get_their_own_modules(tmp_path):
    """'my-pipe', 'my_pipe' and 'my.pipe' sanitise alike; each must still run its own code."""
    for name in ("my-pipe", "my_pipe", "my.pipe"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "helper.py").write_text(f"NAME = {name!r}\n")
        (folder / "pipeline_wrapper.py").write_text(
            "from .helper import NAME\n\n\nclass PipelineWrapper:\n    def setup(self) -> None:\n        pass\n\n"
            "    def run_api(self) -> str:\n        return NAME\n"
        )
    for strategy in ("parallel", "sequential"):
        registry = load_registry(fixture_settings(pipelines_dir=tmp_path, startup_deploy_strategy=strategy))
        assert {name: p.wrapper.run_api() for name, p in registry.loaded.items()} == {
            "my-pipe": "my-pipe",
            "my.pipe": "my.pipe",
            "my_pipe": "my_pipe",
        }


def test_additional_python_path_never_shadows_installed_packages(tmp_path):
    fake = tmp_path / "extra" / "yaml"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise RuntimeError('shadowed')\n")
    load_registry(fixture_settings(pipelines_dir=tmp_path, additional_python_path=(str(tmp_path / "extra"),)))
    assert sys.path.index(str(tmp_path / "extra")) > sys.path.index(
        str(Path(__import__("yaml").__file__).parent.parent)
    )


def test_warm_up_hooks_run_once_at_load(tmp_path):
    """The wrapper's own `warm_up()` failing fails the pipeline (only `pipeline.warm_up()` is forgiven)."""
    registry = load_registry(fixture_settings())
    assert registry.get("echo").wrapper.warmed == 1
    broken = tmp_path / "cold_feet"
    broken.mkdir()
    (broken / "pipeline_wrapper.py").write_text(
        "class PipelineWrapper:\n    def setup(self) -> None:\n        pass\n\n"
        "    def warm_up(self) -> None:\n        raise OSError('model file missing')\n\n"
        "    def run_api(self) -> str:\n        return 'x'\n"
    )
    failed = load_registry(fixture_settings(pipelines_dir=tmp_path)).failed["cold_feet"]
    assert failed.stage == "setup"
    assert (
        failed.reason == "PipelineWrapper.warm_up() raised OSError: model file missing (at pipeline_wrapper.py, line 6)"
    )


WARM_UP_FIXTURES = FIXTURE_PIPELINES.parent / "warm_up"


def test_a_failing_pipeline_warm_up_is_logged_once_and_the_pipeline_loads(monkeypatch, caplog):
    """Hayhooks never calls `pipeline.warm_up()` at deploy: a generator without its API key loads there."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with caplog.at_level(logging.WARNING, logger="core.loader"):
        registry = load_registry(fixture_settings(pipelines_dir=WARM_UP_FIXTURES))
    assert sorted(registry.loaded) == ["model_missing", "openai_chat"] and not registry.failed
    warnings = sorted(r.getMessage() for r in caplog.records if r.name == "core.loader")
    assert warnings == [
        "Pipeline 'model_missing': pipeline.warm_up() raised FileNotFoundError: model weights not found at "
        "/opt/models/tiny (at pipeline_wrapper.py, line 11); loaded anyway (Hayhooks does not warm up at deploy): "
        "its runs will answer this error until it is fixed",
        "Pipeline 'openai_chat': pipeline.warm_up() raised ValueError: None of the following authentication "
        "environment variables are set: ('OPENAI_API_KEY',); loaded anyway (Hayhooks does not warm up at deploy): "
        "its runs will answer this error until it is fixed",
    ]
    assert all(r.levelno == logging.WARNING for r in caplog.records if r.name == "core.loader")


def test_a_pipeline_whose_warm_up_failed_is_listed_and_its_runs_answer_the_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    handler = LambdaHandler(fixture_settings(pipelines_dir=WARM_UP_FIXTURES))
    status = parse(handler(http_v2("GET", "/status"), Context())).json()
    assert status["pipelines"] == ["model_missing", "openai_chat"]
    assert status["states"] == {"model_missing": "loaded", "openai_chat": "loaded"}
    for path, body, detail in (
        (
            "/openai_chat/run",
            {"question": "hi"},
            "Pipeline execution failed: None of the following authentication environment variables are set: "
            "('OPENAI_API_KEY',)",
        ),
        (
            "/model_missing/run",
            {"text": "hi"},
            "Pipeline execution failed: model weights not found at /opt/models/tiny",
        ),
    ):
        reply = parse(handler(http_v2("POST", path, body=body), Context()))
        assert (reply.status, reply.json()) == (500, {"detail": detail})


def test_sys_exit_in_a_pipeline_fails_only_that_pipeline(tmp_path):
    """`sys.exit()` raises SystemExit, which `except Exception` misses: it used to end the whole cold start."""
    for name, body in {
        "exits_at_import": "import sys\n\nsys.exit('no GPU here')\n",
        "exits_in_setup": (
            "import sys\n\n\nclass PipelineWrapper:\n    def setup(self) -> None:\n        sys.exit(3)\n\n"
            "    def run_api(self) -> str:\n        return 'never'\n"
        ),
        "fine": (
            "class PipelineWrapper:\n    def setup(self) -> None:\n        pass\n\n"
            "    def run_api(self) -> str:\n        return 'fine'\n"
        ),
    }.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "pipeline_wrapper.py").write_text(body)
    for strategy in ("parallel", "sequential"):
        registry = load_registry(fixture_settings(pipelines_dir=tmp_path, startup_deploy_strategy=strategy))
        assert registry.names() == ["fine"] and registry.get("fine").wrapper.run_api() == "fine"
        assert {name: (f.stage, f.reason) for name, f in registry.failed.items()} == {
            "exits_at_import": (
                "import",
                "importing exits_at_import/pipeline_wrapper.py raised SystemExit: no GPU here "
                "(at pipeline_wrapper.py, line 3)",
            ),
            "exits_in_setup": (
                "setup",
                "PipelineWrapper.setup() raised SystemExit: 3 (at pipeline_wrapper.py, line 6)",
            ),
        }


def test_loading_while_another_thread_imports():
    """Parallel loading: one pipeline's setup() may import modules (adding to sys.modules) while another's
    import clears its stale modules. That must never raise 'dictionary changed size during iteration'."""
    import threading
    from types import ModuleType

    from core.loader import load_candidate
    from core.registry import LoadedPipeline

    (candidate,) = [c for c in discover(FIXTURE_PIPELINES)[0] if c.name == "echo"]
    stop = threading.Event()

    def importer() -> None:  # what a setup() importing lazily does to sys.modules, as fast as it can
        n = 0
        while not stop.is_set():
            name = f"_lazy_import_{n % 1000}"
            if sys.modules.pop(name, None) is None:
                sys.modules[name] = ModuleType(name)
            n += 1

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    thread = threading.Thread(target=importer)
    thread.start()
    try:
        results = [load_candidate(candidate) for _ in range(300)]
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)
        for n in range(1000):
            sys.modules.pop(f"_lazy_import_{n}", None)
    assert all(isinstance(r, LoadedPipeline) for r in results)


def test_relative_imports_package_init_and_file_in_place(build, invoke):
    reply = invoke(build("POST", "/relative/run", body={"text": "hi"}))
    result = reply.json()["result"]
    assert result["shout"] == "HI!"
    assert result["data"] == "data next to the wrapper"
    assert result["mark"] == "from __init__" and result["init_ran"] is True
    assert result["file"].endswith("tests/fixtures/pipelines/relative/pipeline_wrapper.py")


def test_folder_named_like_a_package_does_not_shadow_it(build, invoke):
    result = invoke(build("POST", "/openai/run", body={})).json()["result"]
    assert "site-packages" in result["sdk_file"]
    assert result["client_class"] == "OpenAI"


def test_additional_python_path(build, invoke):
    assert invoke(build("POST", "/uses_python_path/run", body={"text": "x"})).json() == {"result": "x (shared)"}


BROKEN = {
    "broken_import": "importing broken_import/pipeline_wrapper.py raised ModuleNotFoundError: No module named "
    "'a_module_that_does_not_exist' (at pipeline_wrapper.py, line 3)",
    "broken_setup": "PipelineWrapper.setup() raised RuntimeError: index file missing: index.bin "
    "(at pipeline_wrapper.py, line 6)",
    "no_return": "no_return/pipeline_wrapper.py: Pipeline wrapper is missing a return type for 'run_api' method",
    "bad_component": "bad_component.yml: Failed to load pipeline from YAML: component 'thing' (type "
    "not_allowed_module.Thing): Refusing to deserialize a class from module 'not_allowed_module': the module is not "
    "on the trusted-module allowlist. To trust it, add 'not_allowed_module' to HAYSTACK_DESERIALIZATION_ALLOWLIST "
    "in the function's environment (comma-separated module names or patterns, e.g. "
    "'not_allowed_module,other_module.*').",
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_each_broken_pipeline_answers_503_with_its_reason_and_the_rest_serve(build, invoke, fixture_handler, name):
    detail = {"detail": f"Pipeline '{name}' failed to load: {BROKEN[name]}"}
    run = invoke(build("POST", f"/{name}/run", body={}))
    assert (run.status, run.json()) == (503, detail)
    status = invoke(build("GET", f"/status/{name}"))
    assert (status.status, status.json()) == (503, detail)
    listed = {f["name"]: f["reason"] for f in invoke(build("GET", "/status")).json()["failed"]}
    assert listed[name] == BROKEN[name]
    assert_still_serving(fixture_handler, build)
