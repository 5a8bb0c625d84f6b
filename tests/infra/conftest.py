from __future__ import annotations

import os
from pathlib import Path

import pytest

from infra.emulator import ARCH
from tests.conftest import DEPLOYED


@pytest.fixture(scope="session")
def artifact(tmp_path_factory) -> Path:
    """The artifact the emulator tests run: $LAMBDA_ARTIFACT (make release-check passes sam build's output),
    else one infra/build.py builds from tests/fixtures/deployed for this machine's architecture, once."""
    given = os.environ.get("LAMBDA_ARTIFACT")
    if given:
        return Path(given)
    from infra.build import build

    target = tmp_path_factory.mktemp("artifact")
    build(target, ARCH, DEPLOYED)
    return target
