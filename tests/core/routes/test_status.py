"""`GET /status` and `GET /status/{name}` (core/routes/status.py) through the Lambda handler, per event source."""


def test_status_lists_loaded_and_failed_pipelines(build, invoke):
    reply = invoke(build("GET", "/status"))
    assert reply.status == 200
    body = reply.json()
    assert body["status"] == "Up!"
    assert {"echo", "echo_async", "relative", "openai", "yaml_echo", "duck_typed", "hayhooks_style"} <= set(
        body["pipelines"]
    )
    failed = {f["name"]: f for f in body["failed"]}
    assert set(failed) == {
        "broken_import",
        "broken_setup",
        "no_run",
        "no_return",
        "bad_component",
        "no_io",
        "not_yaml",
        "arbitrary_type",
        "leaky_setup",
    }
    assert not set(failed) & set(body["pipelines"])
    assert all("traceback" not in f for f in failed.values())


def test_status_of_one_pipeline(build, invoke):
    assert invoke(build("GET", "/status/echo")).json() == {
        "status": "Up!",
        "pipeline": "echo",
        "source": "package",
        "version": None,
        "state": "loaded",
    }
    missing = invoke(build("GET", "/status/nope"))
    assert missing.status == 404
    assert missing.json() == {"detail": "Pipeline 'nope' not found"}


def test_status_keeps_hayhooks_2_1_keys(invoke):
    from infra.lambda_events import http_v2

    body = invoke(http_v2("GET", "/status")).json()
    assert body["durable_mode"] is False
    assert body["durable"] == {"healthy": True, "deployments": {}}
    assert body["capabilities"] == {"execution_enumeration": False}
    deployments = {d["name"]: d for d in body["deployments"]}
    assert set(deployments) == set(body["pipelines"])
    assert deployments["echo"]["capabilities"] == ["run_api", "mcp_eligible"]  # /mcp lists it, as Hayhooks would
    assert deployments["echo"]["state"] == "Loaded"
    assert deployments["echo"]["description"] == "Echo the text back."
    # a multipart run endpoint is not Hayhooks' file_upload (a wrapper with run_file_upload, for /v1/files)
    assert deployments["upload"]["capabilities"] == ["run_api", "mcp_eligible"]
    assert deployments["chat_only"]["capabilities"] == ["chat_completion"]
    assert deployments["yaml_echo"]["type"] == "pipeline"
    # Hayhooks sends the durable-only keys as null (not absent) for a request-bound pipeline
    assert {k: deployments["echo"][k] for k in ("revision", "health", "store_scope")} == dict.fromkeys(
        ("revision", "health", "store_scope")
    )
