"""template.yaml's streaming Function URL: the exec wrapper, RESPONSE_STREAM, auth following AuthMode."""

import pytest

from tests.cold import ROOT
from tests.infra.test_template import conditions_for, resolve, translate


@pytest.mark.parametrize(
    ("mode", "auth"), [("api-key", "NONE"), ("jwt", "AWS_IAM"), ("iam", "AWS_IAM"), ("none", "NONE")]
)
def test_a_streaming_function_url_follows_the_auth_mode(mode, auth):
    resources = translate(AuthMode=mode)["Resources"]
    conditions = conditions_for(mode) | {"StreamingUrlIam": mode in ("iam", "jwt")}
    url = resolve(resources["PipelinesFunctionUrl"]["Properties"], conditions)
    assert url["InvokeMode"] == "RESPONSE_STREAM"
    assert url["AuthType"] == auth
    assert url["TargetFunctionArn"] == {"Ref": "PipelinesFunctionAliaslive"}
    env = resolve(resources["PipelinesFunction"]["Properties"]["Environment"]["Variables"], conditions)
    wrapper = env["AWS_LAMBDA_EXEC_WRAPPER"]
    assert wrapper == "/var/task/handler/runtime-loop"
    assert (ROOT / wrapper.removeprefix("/var/task/")).stat().st_mode & 0o111  # executable, as Lambda requires
