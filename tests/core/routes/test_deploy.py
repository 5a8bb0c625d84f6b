"""Hayhooks' runtime deploy routes (core/routes/deploy.py): refused, and the served pipelines stay."""

import pytest


@pytest.mark.parametrize("path", ["/deploy_files", "/deploy-yaml", "/undeploy/echo"])
def test_runtime_deploy_is_refused(build, invoke, path):
    reply = invoke(build("POST", path, body={"name": "x", "files": {}}))
    assert reply.status == 405
    assert "Runtime deploy is disabled" in reply.json()["detail"]
    status = invoke(build("GET", "/status")).json()
    assert "echo" in status["pipelines"]
