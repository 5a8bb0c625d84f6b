"""Tests mirror the modules: `core/x/y.py` is tested in `tests/core/x/test_y.py` (the same for `handler/`).

A module without such a file must be listed below with where it is tested instead, and why that is enough.
The list must stay true: an entry for a module that now has its own test file, or no longer exists, fails too.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "handler")

# module -> where it is tested instead (and why it has no file of its own)
TESTED_ELSEWHERE = {
    # `python -m core`: a file cannot sensibly be named test___main__.py
    "core/__main__.py": "tests/core/test_main.py (make run, in a subprocess)",
    "core/access_log.py": "tests/handler/test_request_logs.py (the access line), tests/handler/test_metrics.py "
    "(the same record, observed for the per-pipeline metrics)",
    "core/bounded_validation.py": "tests/handler/test_attacks.py (validation stops at a list's first wrong item)",
    # Hayhooks' helper modules: compared as a group with Hayhooks 2.1.0's (names, signatures, results)
    "core/callbacks.py": "tests/core/test_events.py",
    "core/chainlit_events.py": "tests/core/test_events.py",
    "core/open_webui.py": "tests/core/test_events.py",
    "core/durable.py": "tests/core/test_hayhooks_alias.py (the names), tests/core/routes/test_status.py "
    "(durable mode off, as /status says) and tests/core/test_durable_attempt.py (the context in an attempt)",
    # Hayhooks' helper functions, tested together against what Hayhooks does
    "core/hayhooks_settings.py": "tests/core/test_hayhooks_helpers.py",
    "core/messages.py": "tests/core/test_hayhooks_helpers.py",
    "core/pipeline_inputs.py": "tests/core/test_hayhooks_helpers.py",
    "core/registry_view.py": "tests/core/test_hayhooks_helpers.py",
    "core/tracing.py": "tests/core/test_hayhooks_helpers.py",
    "core/haystack_compat.py": "tests/core/test_hayhooks_api.py (two re-exports: every Hayhooks name from core)",
    "core/testing.py": "tests/core/test_hayhooks_api.py (`hayhooks.testing`'s one component, by name)",
    "core/mcp_route.py": "tests/core/test_mcp_server.py and tests/handler/test_mcp_lambda.py (/mcp end to end)",
    "core/run_spec.py": "tests/core/test_invocation.py (build_run_spec), tests/core/routes/test_run.py (request "
    "validation) and tests/core/test_app.py::test_openapi_and_docs (the request model's schema)",
    "core/no_pydantic_v1.py": "tests/test_import_graph.py (pydantic.v1 is never imported)",
    # shared by the FastAPI app and the lean front: tested through both, answer for answer
    "core/run_call.py": "tests/core/routes/test_run.py and tests/core/test_front.py",
    "core/status_report.py": "tests/core/routes/test_status.py and tests/core/test_front.py",
    "core/service_middleware.py": "tests/core/test_front.py and tests/core/test_auth.py",
    "core/sigv4.py": "tests/handler/test_tracing.py (signatures equal to botocore's)",
    # the S3 pipeline source is one feature over five small modules: tested as one, against a fake S3
    "core/sources/archive.py": "tests/core/sources/test_s3.py",
    "core/sources/child.py": "tests/core/sources/test_s3.py",
    "core/sources/collect.py": "tests/core/sources/test_s3.py",
    "core/sources/manifest.py": "tests/core/sources/test_s3.py",
    "core/sources/s3_uri.py": "tests/core/sources/test_s3.py",
    "core/stdout_lines.py": "tests/handler/test_attacks.py::test_wrapper_output_cannot_merge_into_or_forge_our_lines",
    # tracing is one feature: spans made, sampled, exported (JSON or protobuf), continuing the caller's trace
    "handler/haystack_spans.py": "tests/handler/test_tracing.py",
    "handler/otlp_protobuf.py": "tests/handler/test_tracing.py",
    "handler/span_export.py": "tests/handler/test_tracing.py",
    "handler/trace_context.py": "tests/handler/test_tracing.py",
    "handler/invocation_log.py": "tests/handler/test_request_logs.py (both request ids on every line)",
    "handler/runtime_stream.py": "tests/handler/test_runtime_loop.py (the streaming loop answers through it)",
}


def _modules() -> list[str]:
    return sorted(
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if path.name != "__init__.py"
    )


def _mirror(module: str) -> Path:
    path = Path(module)
    return ROOT / "tests" / path.parent / f"test_{path.name}"


def test_every_module_has_its_own_test_file_or_says_where_it_is_tested():
    modules = _modules()
    assert len(modules) > 50, "core/ and handler/ were not found"
    missing = [module for module in modules if not _mirror(module).exists() and module not in TESTED_ELSEWHERE]
    assert missing == [], "add tests/<package>/.../test_<module>.py, or list the module in TESTED_ELSEWHERE"


def test_the_list_of_modules_tested_elsewhere_is_current():
    modules = set(_modules())
    gone = sorted(set(TESTED_ELSEWHERE) - modules)
    mirrored = sorted(module for module in TESTED_ELSEWHERE if module in modules and _mirror(module).exists())
    assert (gone, mirrored) == ([], []), "remove these entries: the module is gone, or has its own test file now"


def test_the_places_named_exist():
    for module, where in TESTED_ELSEWHERE.items():
        named = [word.split("::")[0] for word in where.split() if word.startswith("tests/")]
        assert named, module
        assert all((ROOT / path).is_file() for path in named), (module, where)
