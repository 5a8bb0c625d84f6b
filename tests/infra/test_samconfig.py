"""samconfig.toml's local sections: `sam local start-api` / `invoke` with no flags get a function that starts
without AWS resources (no API-key secret, no X-Ray daemon), with authentication off and said so."""

import shlex
import tomllib

import pytest

from infra.template_env import function_defaults
from tests.conftest import ROOT


@pytest.mark.parametrize("command", ["local_start_api", "local_invoke"])
def test_local_sections_turn_off_what_needs_aws(command):
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    overrides = dict(
        item.split("=", 1) for item in shlex.split(config["default"][command]["parameters"]["parameter_overrides"])
    )
    assert overrides == {"AuthMode": "none", "Tracing": "off"}
    env, active_tracing = function_defaults(ROOT / "template.yaml", {}, overrides=overrides)
    assert "HAYHOOKS_API_KEYS_SECRET" not in env  # no !Ref to a secret SAM local cannot create
    assert env["HAYHOOKS_AUTH_MODE"] == "none"  # the app's cold-start WARNING (core/service.py)
    assert env["OTEL_SDK_DISABLED"] == "true" and active_tracing is False
    # the deploy keeps the template's defaults: nothing local leaks into sam deploy
    assert "parameter_overrides" not in config["default"]["deploy"]["parameters"]
