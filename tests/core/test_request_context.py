"""core/request_context.py: what a request's layers tell each other, in a module that imports none of ours."""

import ast
import asyncio
from pathlib import Path
from types import SimpleNamespace

from starlette.requests import Request

from core.request_context import (
    INIT_WARM_UP_KEY,
    current_pipeline,
    is_init_warm_up,
    lambda_request_id,
    name_pipeline,
    pipeline_of,
)

SOURCE = Path(__file__).resolve().parents[2] / "core" / "request_context.py"


def test_it_is_a_leaf():
    imported = [
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(ast.parse(SOURCE.read_text()))
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    ]
    assert imported and not [name for name in imported if name.split(".")[0] in ("core", "handler")]


def test_naming_the_pipeline_is_seen_by_the_request_state_and_the_context():
    async def request_names_it() -> tuple:
        scope = {"type": "http", "method": "POST", "path": "/x/run", "headers": []}
        name_pipeline(scope, "search")
        return pipeline_of(scope), Request(scope).state.pipeline, current_pipeline.get()

    assert asyncio.run(request_names_it()) == ("search", "search", "search")
    assert current_pipeline.get() is None  # a context variable: the request's task only
    assert pipeline_of({}) is None


def test_warm_up_requests_are_marked_in_their_scope():
    assert (
        is_init_warm_up({INIT_WARM_UP_KEY: True})
        and not is_init_warm_up({})
        and not is_init_warm_up({INIT_WARM_UP_KEY: False})
    )


def test_lambda_request_id():
    assert lambda_request_id({"aws.context": SimpleNamespace(aws_request_id="abc")}) == "abc"
    assert lambda_request_id({}) is None
