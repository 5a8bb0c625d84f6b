"""Finding a pipeline for a request (core/routes/lookup.py): loaded, failed to load (503), unknown (404)."""

from pathlib import Path

import pytest
from starlette.exceptions import HTTPException  # FastAPI answers it as its own; the lean front without FastAPI

from core.registry import FailedPipeline, LoadedPipeline, Registry
from core.routes.lookup import loaded_or_raise


@pytest.fixture
def registry():
    registry = Registry()
    registry.loaded["good"] = LoadedPipeline("good", "wrapper", Path("good"), object(), None, 1.0)
    registry.failed["bad"] = FailedPipeline("bad", "wrapper", Path("bad"), "setup", "setup() raised KeyError: 'k'")
    return registry


def test_a_loaded_pipeline_is_returned(registry):
    assert loaded_or_raise(registry, "good", "nope") is registry.loaded["good"]


def test_a_failed_pipeline_is_a_503_with_its_reason_and_an_unknown_one_a_404(registry):
    with pytest.raises(HTTPException) as failed:
        loaded_or_raise(registry, "bad", "Pipeline 'bad' not found")
    assert (failed.value.status_code, failed.value.detail) == (
        503,
        "Pipeline 'bad' failed to load: setup() raised KeyError: 'k'",
    )
    with pytest.raises(HTTPException) as unknown:
        loaded_or_raise(registry, "other", "Pipeline 'other' not found")
    assert (unknown.value.status_code, unknown.value.detail) == (404, "Pipeline 'other' not found")
