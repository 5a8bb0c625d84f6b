import os
from pathlib import Path

import pytest

os.environ["HAYSTACK_TELEMETRY_ENABLED"] = "False"

from core.settings import Settings
from handler.entry import LambdaHandler
from infra.lambda_events import BUILDERS, Context, parse

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_PIPELINES = Path(__file__).parent / "fixtures" / "pipelines"
FIXTURE_PYTHON_PATH = Path(__file__).parent / "fixtures" / "python_path"
# Copies of the examples this project ships in pipelines/: that folder is the user's, tests never read it.
EXAMPLES = Path(__file__).parent / "fixtures" / "examples"
# the examples and a pipeline whose dependency only its requirements.txt brings: what release-check builds
DEPLOYED = Path(__file__).parent / "fixtures" / "deployed"
# the examples, as /status lists them
EXAMPLE_PIPELINES = ["bedrock_chat", "chat_with_docs", "file_stats", "greeting", "prompt_builder", "search_docs"]


def fixture_settings(**overrides) -> Settings:
    values = {"pipelines_dir": FIXTURE_PIPELINES, "additional_python_path": (str(FIXTURE_PYTHON_PATH),)}
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def fixture_handler() -> LambdaHandler:
    """The handler cold-started on tests/fixtures/pipelines: good and deliberately broken pipelines."""
    return LambdaHandler(fixture_settings())


@pytest.fixture(scope="session")
def traceback_handler() -> LambdaHandler:
    return LambdaHandler(fixture_settings(show_tracebacks=True))


@pytest.fixture
def invoke(fixture_handler):
    def _invoke(event, handler=None, context=None):
        return parse((handler or fixture_handler)(event, context or Context()))

    return _invoke


SOURCES = list(BUILDERS)


@pytest.fixture(params=SOURCES)
def build(request):
    """An event builder per Lambda event source (infra/lambda_events.py): a test using it runs once for each."""
    return BUILDERS[request.param]
