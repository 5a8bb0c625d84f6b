"""Pipelines written on the fly for attack tests, and a Lambda handler cold-started on them.

Each attack test writes the few wrappers it needs into its own folder (no shared fixture changes the
pipeline counts other tests rely on).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from handler.entry import LambdaHandler
from tests.conftest import fixture_settings

HEADER = "from core import BasePipelineWrapper\n\n\n"


def write_pipelines(root: Path, **sources: str) -> Path:
    """`name=source`: each becomes `root/name/pipeline_wrapper.py` (the import line is added)."""
    for name, source in sources.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "pipeline_wrapper.py").write_text(HEADER + textwrap.dedent(source))
    return root


def hostile_handler(root: Path, **settings) -> LambdaHandler:
    return LambdaHandler(fixture_settings(pipelines_dir=root, **settings))
