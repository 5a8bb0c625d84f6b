"""Load pipeline folders and YAML files in place, at cold start.

Why in place: Lambda's package directory is read-only, and a wrapper's `__file__` must keep pointing
at its real folder so it can open files next to it. Nothing is copied and nothing is rewritten.

Each folder is imported as a private package (`_haystack_lambda_pipelines.<name>`), so relative imports
(`from .helper import x`) work and a folder named like an installed package (`openai`) never shadows it.
A broken pipeline is recorded in the registry with the stage and the reason; the others still load.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from core.deferred_modules import defer_unused_modules
from core.redact import redact
from core.registry import FailedPipeline, Kind, LoadedPipeline, Registry, set_current
from core.run_spec import ModelError, RunEndpointSpec, build_run_spec
from core.settings import Settings
from core.sources import SourceError, SourceReport
from core.sources.collect import begin
from core.wrapper import ContractError, check_wrapper_class, implements, is_durable
from core.yaml_pipeline import YAMLPipelineError, YAMLPipelineWrapper

logger = logging.getLogger("core.loader")

PACKAGE_ROOT = "_haystack_lambda_pipelines"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_YAML_SUFFIXES = (".yml", ".yaml")
# CPython's import system can hand a thread a half-initialised module when two threads import
# overlapping module graphs (Haystack's lazy `__init__`s make this common: "cannot import name
# 'ChatPromptBuilder' from 'haystack.components.builders'"). Wrapper modules are therefore imported one
# at a time (YAML pipelines, whose loading is mostly imports, too); setup() still runs in parallel, and a
# parallel attempt that fails the way an import race fails is retried alone before it is reported.
_IMPORT_LOCK = threading.Lock()
# What a pipeline's own code may raise at load without taking the others down: `sys.exit()` in a wrapper
# (a script turned into a pipeline) raises SystemExit, which `except Exception` would let end the cold start.
_PIPELINE_ERRORS = (Exception, SystemExit)


@dataclass(frozen=True)
class Candidate:
    name: str
    kind: Kind
    path: Path
    source: str = "package"
    version: str | None = None
    durable_mode: bool = False  # HAYHOOKS_DURABLE_MODE: durable wrappers load (and are checked as Hayhooks does)


class LoadFailure(Exception):
    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(reason)
        self.stage = stage
        self.reason = reason


def discover(
    pipelines_dir: Path, source: str = "package", version: str | None = None
) -> tuple[list[Candidate], list[FailedPipeline]]:
    """Folders become wrapper pipelines, top-level YAML files become YAML pipelines, sorted by name."""
    found: dict[str, Candidate] = {}
    rejected: list[FailedPipeline] = []
    for entry in sorted(pipelines_dir.iterdir()):
        if entry.name.startswith((".", "_")):
            continue  # hidden files, __pycache__, private helpers
        if entry.is_dir():
            candidate = Candidate(entry.name, "wrapper", entry, source, version)
        elif entry.is_file() and entry.suffix in _YAML_SUFFIXES:
            candidate = Candidate(entry.stem, "yaml", entry, source, version)
        else:
            continue
        problem = None
        if not _NAME.match(candidate.name):
            problem = f"'{candidate.name}' cannot be a URL path segment: use letters, digits, '-', '_' or '.'"
        elif candidate.name in found:
            problem = f"name '{candidate.name}' is already used by {found[candidate.name].path.name}"
        if problem:
            rejected.append(FailedPipeline(candidate.name, candidate.kind, entry, "discover", problem))
            continue
        found[candidate.name] = candidate
    return list(found.values()), rejected


def load_registry(
    settings: Settings, *, s3_client: Any = None, before_loading: Callable[[], None] | None = None
) -> Registry:
    """Fetch every source, then discover and load its pipelines. Never raises for a bad pipeline.

    `before_loading` runs once Haystack is imported, before any pipeline is: what it waits for (the API
    keys' read) overlaps the import.

    Raises for a bad configuration: invalid settings, a pipeline name in two sources (no silent winner),
    or any source failure when HAYHOOKS_PIPELINES_STRICT is on.
    """
    started = time.perf_counter()
    for extra in settings.additional_python_path:
        if extra not in sys.path:
            sys.path.append(extra)  # after site-packages, as Hayhooks does: never shadows an installed package

    collection = begin(settings, s3_client=s3_client)
    # Import Haystack now: it overlaps the S3 fetch running in a child process, and it keeps the loading
    # threads below from racing on Haystack's own first import.
    defer_unused_modules()  # before Haystack's first import: with telemetry off, posthog is never executed
    import haystack  # noqa: F401
    from haystack import Pipeline  # noqa: F401

    registry = Registry(sources=collection.result())
    if before_loading is not None:
        before_loading()
    candidates, rejected = _discover_all(registry.sources)
    strategy = settings.startup_deploy_strategy
    if settings.durable_mode:
        candidates = [replace(c, durable_mode=True) for c in candidates]
        if strategy == "lazy":
            # durable routes are typed by the wrapper's request model: Hayhooks' durable mode, too, fixes the
            # pipeline set at startup
            logger.info("HAYHOOKS_DURABLE_MODE loads every pipeline at cold start: the lazy strategy does not apply")
            strategy = "parallel"
    workers = min(settings.startup_deploy_workers, max(len(candidates), 1))
    if strategy == "lazy":
        # found now, loaded by the first request that names them (Registry.get)
        registry.pending = {c.name: c for c in candidates}
        registry.load = load_candidate
        results: list[LoadedPipeline | FailedPipeline] = []
    elif strategy == "parallel" and workers > 1:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pipeline-load") as pool:
            attempts = list(pool.map(_attempt, candidates))
        results = []
        for candidate, (result, import_error) in zip(candidates, attempts, strict=True):
            if import_error:
                logger.debug("Retrying '%s' alone after an import error in parallel loading", candidate.name)
                result = load_candidate(candidate)
            results.append(result)
    else:
        results = [load_candidate(c) for c in candidates]

    for result in [*results, *rejected]:
        if isinstance(result, LoadedPipeline):
            registry.loaded[result.name] = result
        else:
            registry.failed[result.name] = result
    registry.init_ms = (time.perf_counter() - started) * 1000
    set_current(registry)
    return registry


def _discover_all(reports: list[SourceReport]) -> tuple[list[Candidate], list[FailedPipeline]]:
    candidates: list[Candidate] = []
    rejected: list[FailedPipeline] = []
    owner: dict[str, str] = {}
    for report in reports:
        if report.directory is None:
            continue
        found, refused = discover(report.directory, report.kind, report.version)
        for name, reason in report.rejected.items():
            refused.append(
                FailedPipeline(
                    name,
                    "wrapper",
                    report.directory / name,
                    "source",
                    reason,
                    source=report.kind,
                    version=report.version,
                )
            )
        for name in [c.name for c in found] + [f.name for f in refused]:
            if name in owner and owner[name] != report.uri:
                raise SourceError(
                    f"pipeline '{name}' is in two sources, {owner[name]} and {report.uri}: "
                    "remove it from one of them (neither is chosen silently)"
                )
            owner[name] = report.uri
        candidates.extend(found)
        rejected.extend(refused)
    candidates.sort(key=lambda c: c.name)
    return candidates, rejected


def load_candidate(candidate: Candidate) -> LoadedPipeline | FailedPipeline:
    return _attempt(candidate)[0]


def _attempt(candidate: Candidate) -> tuple[LoadedPipeline | FailedPipeline, bool]:
    """Load one pipeline; the flag says the failure looks like an import race (worth one retry alone)."""
    started = time.perf_counter()
    hayhooks_imports = None
    try:
        if candidate.kind == "yaml":
            wrapper = YAMLPipelineWrapper(candidate.path)
            with _IMPORT_LOCK:
                _call_setup(wrapper, candidate, yaml=True)
        else:
            wrapper_cls, hayhooks_imports = _import_wrapper_class(candidate)
            try:
                wrapper = wrapper_cls()
            except _PIPELINE_ERRORS as exc:
                raise LoadFailure("setup", f"PipelineWrapper() raised {_describe(exc)}") from exc
            _call_setup(wrapper, candidate, yaml=False)
        _run_warm_up_hooks(wrapper, candidate)
        run = _run_spec(candidate, wrapper)
        durable = candidate.durable_mode and is_durable(type(wrapper))
        if durable:
            _check_durable(wrapper, candidate)
    except _PIPELINE_ERRORS as exc:
        failure = exc
        if not isinstance(exc, LoadFailure):  # a fault of the loader's own: still this pipeline's alone
            logger.exception("Unexpected error loading pipeline '%s'", candidate.name)
            failure = LoadFailure("load", f"loading raised {_describe(exc)}")
            failure.__cause__ = exc  # the import-race check below looks at the cause
        failed = FailedPipeline(
            candidate.name,
            candidate.kind,
            candidate.path,
            failure.stage,
            failure.reason,
            redact(traceback.format_exc()),
            source=candidate.source,
            version=candidate.version,
        )
        return failed, _looks_like_import_race(failure.__cause__ or failure)
    loaded = LoadedPipeline(
        candidate.name,
        candidate.kind,
        candidate.path,
        wrapper,
        run,
        (time.perf_counter() - started) * 1000,
        source=candidate.source,
        version=candidate.version,
        hayhooks_imports=hayhooks_imports,
        durable=durable,
    )
    return loaded, False


def _call_setup(wrapper: object, candidate: Candidate, *, yaml: bool) -> None:
    try:
        wrapper.setup()  # type: ignore[attr-defined]
    except YAMLPipelineError as exc:
        raise LoadFailure("yaml", f"{candidate.path.name}: {exc}") from exc
    except _PIPELINE_ERRORS as exc:
        where = candidate.path.name if yaml else "PipelineWrapper.setup()"
        raise LoadFailure(
            "yaml" if yaml else "setup", f"{where} raised {_describe(exc)}{_location(exc, candidate.path)}"
        ) from exc


def _run_warm_up_hooks(wrapper: object, candidate: Candidate) -> None:
    """First-run costs paid at cold start: Haystack's `Pipeline.warm_up()` (models, clients), then the
    wrapper's own optional `warm_up()` (e.g. one small query), so the first request costs what others do.

    A failing `pipeline.warm_up()` does not fail the pipeline: Hayhooks never calls it at deploy (a generator
    whose API key is missing loads there), and `Pipeline.run` calls it again, so each run answers the same
    error until it is fixed. The wrapper's own `warm_up()` is only ever called here; a wrapper left half set up
    by it fails to load, with the reason, rather than failing its runs in ways that hide the cause.
    """
    pipeline = getattr(wrapper, "pipeline", None)
    pipeline_warm_up = getattr(pipeline, "warm_up", None)
    if callable(pipeline_warm_up):
        try:
            pipeline_warm_up()
        except _PIPELINE_ERRORS as exc:
            logger.warning(
                "Pipeline '%s': pipeline.warm_up() raised %s%s; loaded anyway (Hayhooks does not warm up at "
                "deploy): its runs will answer this error until it is fixed",
                candidate.name,
                _describe(exc),
                _location(exc, candidate.path),
            )
    wrapper_warm_up = getattr(wrapper, "warm_up", None)
    if callable(wrapper_warm_up):
        try:
            wrapper_warm_up()
        except _PIPELINE_ERRORS as exc:
            where = "PipelineWrapper.warm_up()"
            raise LoadFailure("setup", f"{where} raised {_describe(exc)}{_location(exc, candidate.path)}") from exc


def _run_spec(candidate: Candidate, wrapper: object) -> RunEndpointSpec | None:
    name = candidate.name
    cls = type(wrapper)
    if isinstance(wrapper, YAMLPipelineWrapper) or implements(cls, "run_api_async") or implements(cls, "run_api"):
        is_async = not isinstance(wrapper, YAMLPipelineWrapper) and implements(cls, "run_api_async")
        method = getattr(wrapper, "run_api_async" if is_async else "run_api")
        try:
            return build_run_spec(name, method, is_async=is_async)
        except ModelError as exc:
            where = candidate.path.name if candidate.kind == "yaml" else f"{name}/pipeline_wrapper.py"
            raise LoadFailure("model", f"{where}: {exc}") from exc
    return None


def _check_durable(wrapper: object, candidate: Candidate) -> None:
    from core.durable_attempt import DurableRunnerError, check_durable_wrapper  # durable mode only

    try:
        check_durable_wrapper(wrapper)
    except DurableRunnerError as exc:
        raise LoadFailure("contract", f"{candidate.name}/pipeline_wrapper.py: {exc}") from exc


def _package_root() -> ModuleType:
    root = sys.modules.get(PACKAGE_ROOT)
    if root is None:
        root = ModuleType(PACKAGE_ROOT)
        root.__path__ = []  # a namespace of its own: nothing on disk is ever found through it
        sys.modules[PACKAGE_ROOT] = root
    return root


def module_name_for(pipeline_name: str) -> str:
    """A module name unique to the pipeline name ('my-pipe' and 'my_pipe' must not share one)."""
    digest = hashlib.sha1(pipeline_name.encode()).hexdigest()[:8]
    return f"{PACKAGE_ROOT}.{re.sub(r'[^0-9A-Za-z_]', '_', pipeline_name)}_{digest}"


_HAYHOOKS_IMPORT = re.compile(rb"^[ \t]*(?:from|import)[ \t]+hayhooks\b", re.MULTILINE)


def _imports_hayhooks(folder: Path) -> bool:
    """Whether a module of the folder imports `hayhooks`: read as bytes, a few µs a file, nothing imported."""
    for path in folder.rglob("*.py"):
        try:
            if _HAYHOOKS_IMPORT.search(path.read_bytes()):
                return True
        except OSError:
            continue
    return False


def _hayhooks_import_missing(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] == "hayhooks":
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _import_wrapper_class(candidate: Candidate) -> tuple[type, str | None]:
    """The wrapper class, and what served its `hayhooks` imports (None: it has none).

    A folder whose modules import `hayhooks` gets them from core (core/hayhooks_alias.py, installed only
    then). An import of `hayhooks` from elsewhere (a shared module on HAYHOOKS_ADDITIONAL_PYTHON_PATH) is
    found by the import failing: the alias is installed and the wrapper imported once more.
    """
    hayhooks_imports = None
    if _imports_hayhooks(candidate.path):
        from core import hayhooks_alias

        hayhooks_imports = hayhooks_alias.install()
    try:
        return _import_wrapper_class_once(candidate), hayhooks_imports
    except LoadFailure as failure:
        if hayhooks_imports is not None or not _hayhooks_import_missing(failure.__cause__):
            raise
    from core import hayhooks_alias

    hayhooks_imports = hayhooks_alias.install()
    return _import_wrapper_class_once(candidate), hayhooks_imports


def _import_wrapper_class_once(candidate: Candidate) -> type:
    folder = candidate.path.resolve()
    wrapper_file = folder / "pipeline_wrapper.py"
    if not wrapper_file.is_file():
        raise LoadFailure("import", f"Required file '{candidate.name}/pipeline_wrapper.py' not found")

    _package_root()
    package_name = module_name_for(candidate.name)
    # list() copies in one step under the GIL: iterating sys.modules itself races other loading threads'
    # imports ("dictionary changed size during iteration", a whole cold start lost)
    for stale in [m for m in list(sys.modules) if m == package_name or m.startswith(package_name + ".")]:
        del sys.modules[stale]  # a retry or a second load starts from the files, not from half-run modules
    init_file = folder / "__init__.py"
    registered: list[str] = []
    try:
        if init_file.is_file():
            spec = importlib.util.spec_from_file_location(
                package_name, init_file, submodule_search_locations=[str(folder)]
            )
            package = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        else:
            spec = None
            package = ModuleType(package_name)
            package.__path__ = [str(folder)]
            package.__package__ = package_name
        sys.modules[package_name] = package  # before exec, so the package's own relative imports resolve
        registered.append(package_name)
        module_name = f"{package_name}.pipeline_wrapper"
        with _IMPORT_LOCK:
            if spec is not None and spec.loader is not None:
                spec.loader.exec_module(package)
            spec = importlib.util.spec_from_file_location(module_name, wrapper_file)
            module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
            sys.modules[module_name] = module
            registered.append(module_name)
            spec.loader.exec_module(module)  # type: ignore[union-attr]
    except _PIPELINE_ERRORS as exc:
        for name in registered:
            sys.modules.pop(name, None)
        raise LoadFailure(
            "import", f"importing {candidate.name}/pipeline_wrapper.py raised {_describe(exc)}{_location(exc, folder)}"
        ) from exc

    wrapper_cls = getattr(module, "PipelineWrapper", None)
    if wrapper_cls is None:
        raise LoadFailure("contract", f"{candidate.name}/pipeline_wrapper.py does not define a 'PipelineWrapper' class")
    try:
        return check_wrapper_class(wrapper_cls, durable_mode=candidate.durable_mode)
    except ContractError as exc:
        raise LoadFailure("contract", f"{candidate.name}/pipeline_wrapper.py: {exc}") from exc


def _looks_like_import_race(exc: BaseException | None) -> bool:
    while exc is not None:
        text = str(exc)
        if isinstance(exc, ImportError) or "partially initialized module" in text or "deadlock detected" in text:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _describe(exc: BaseException) -> str:
    """'Type: first line of the message', with credentials masked: reasons are served by /status."""
    text = redact(str(exc).strip().splitlines()[0]) if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _location(exc: BaseException, root: Path) -> str:
    """' (at helper.py, line 3)': the deepest traceback frame inside the pipeline's own files."""
    root = root.resolve()
    base = root if root.is_dir() else root.parent
    where = ""
    tb = exc.__traceback__
    while tb is not None:
        filename = Path(tb.tb_frame.f_code.co_filename)
        try:
            relative = filename.resolve().relative_to(base)
            where = f" (at {relative}, line {tb.tb_lineno})"
        except (ValueError, OSError):
            pass
        tb = tb.tb_next
    if isinstance(exc, SyntaxError) and exc.filename:
        try:
            where = f" (at {Path(exc.filename).resolve().relative_to(base)}, line {exc.lineno})"
        except ValueError:
            pass
    return where
