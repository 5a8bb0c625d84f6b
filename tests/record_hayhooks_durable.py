"""Record Hayhooks 2.1.0's answers to the durable scenario (tests/durable_parity.py), in durable mode with its
in-memory store, for tests/core/routes/test_durable_parity.py. Not run by the test suite; re-record with:

    /work/main/.venv-hayhooks/bin/python tests/record_hayhooks_durable.py   # or .venv-hayhooks/bin/python

The fixture wrappers (tests/fixtures/durable_wrappers/wrappers.py) are served as Hayhooks pipeline folders,
their `from core import` read as `from hayhooks import`.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRAPPERS = ROOT / "tests" / "fixtures" / "durable_wrappers" / "wrappers.py"
OUTPUT = ROOT / "tests" / "fixtures" / "durable_parity" / "hayhooks-2.1.0.json"
PIPELINES = {"steps": "ThreeSteps", "approval": "NeedsApproval", "flaky": "FailsOnce", "fails": "AlwaysFails"}


def write_pipelines(folder: Path) -> None:
    source = WRAPPERS.read_text().replace("from core import", "from hayhooks import")
    for name, cls in PIPELINES.items():
        (folder / name).mkdir()
        (folder / name / "pipeline_wrapper.py").write_text(f"{source}\n\nPipelineWrapper = {cls}\n")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        write_pipelines(Path(tmp))
        os.environ.update(
            HAYHOOKS_DURABLE_MODE="true",
            HAYHOOKS_DURABLE_STORE="memory",
            HAYHOOKS_PIPELINES_DIR=tmp,
            HAYHOOKS_DURABLE_POLL_INTERVAL_SECONDS="0.05",
            HAYHOOKS_TRACING_ENABLED="false",
            HAYSTACK_TELEMETRY_ENABLED="False",
        )
        sys.path.insert(0, str(ROOT))
        from fastapi.testclient import TestClient
        from hayhooks.server.app import create_app

        from tests.durable_parity import Recorder, run_scenario

        with TestClient(create_app()) as client:
            recording = run_scenario(Recorder(client))
    from importlib.metadata import version

    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps({"hayhooks": version("hayhooks"), "exchanges": recording}, indent=1) + "\n")
    print(f"recorded {len(recording)} exchanges to {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
