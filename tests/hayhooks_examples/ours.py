"""This project serving an example: cold-started through the Lambda handler, asked the example's requests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from core.settings import Settings
from handler.entry import LambdaHandler
from tests.fake_openai import fake_openai
from tests.fake_web import fake_web
from tests.hayhooks_examples import sdist
from tests.hayhooks_examples.cases import EDITS, Example
from tests.hayhooks_examples.exchange import run_example
from tests.lambda_transport import LambdaTransport


@contextmanager
def fakes() -> Iterator[str]:
    """The fake model and web running, and the environment the examples' OpenAI clients read; yields the web."""
    saved = {k: os.environ.get(k) for k in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL")}
    with fake_openai() as openai_url, fake_web() as web:
        os.environ.update(OPENAI_BASE_URL=openai_url, OPENAI_API_KEY="sk-fake")
        os.environ.pop("OPENAI_MODEL", None)  # custom_tracing reads it; Hayhooks' recording ran without it
        try:
            yield web
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def cold_start(example: Example, web: str, folder: Path, *, import_rule: bool) -> LambdaHandler:
    pipelines = sdist.deploy(example.pipelines, folder, edits=EDITS, web=web, import_rule=import_rule)
    python_path = tuple(str(sdist.examples_dir() / p) for p in example.python_path)
    return LambdaHandler(Settings(pipelines_dir=pipelines, additional_python_path=python_path))


def shut_down(handler: LambdaHandler) -> None:
    """Close what a Lambda environment would drop with the process: the streams the handler's loop still
    holds (async generators of the model's SSE responses), then the loop; otherwise they are finalised at
    interpreter exit, on a closed loop, as a burst of warnings."""
    handler.loop.run_until_complete(handler.loop.shutdown_asyncgens())
    handler.loop.close()


def ask(handler: LambdaHandler, example: Example, web: str) -> list[dict]:
    with httpx.Client(transport=LambdaTransport(handler), base_url="https://lambda.test") as client:
        return run_example(client, example, web)
