"""`POST /v1/files`: Hayhooks 2.1.0's answers and errors, the Lambda size limit, auth, and uploaded ids
reaching the wrapper through Responses `input_file` items and chat `file` parts."""

import json
import logging
import sys
from pathlib import Path

import httpx
import openai
import pytest
from fastapi.testclient import TestClient

from core.app import create_app
from core.loader import load_registry
from core.openai.files import max_upload_bytes
from core.settings import Settings
from handler.entry import LambdaHandler
from infra.lambda_events import BUILDERS, Context, http_v2, parse
from tests.cold import clean_env
from tests.lambda_transport import LambdaTransport
from tests.make_run import make_run_server

FIXTURES = Path(__file__).parents[2] / "fixtures" / "file_upload"
LAMBDA_PAYLOAD_LIMIT = 6_291_456  # what Lambda accepts per synchronous invocation (request event)


def app_client(pipelines_dir: Path = FIXTURES, *, api_keys: tuple[bytes, ...] = (), **settings) -> TestClient:
    config = Settings(pipelines_dir=pipelines_dir, **settings)
    return TestClient(create_app(config, load_registry(config), api_keys=api_keys), raise_server_exceptions=False)


def write_wrapper(root: Path, name: str, body: str) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "pipeline_wrapper.py").write_text(
        "import asyncio\nimport time\n\nfrom fastapi import HTTPException\n\nfrom core import BasePipelineWrapper\n\n\n"
        "class PipelineWrapper(BasePipelineWrapper):\n    def setup(self) -> None:\n        pass\n\n"
        "    def run_api(self) -> str:\n        return 'x'\n\n" + body
    )


@pytest.fixture(scope="module")
def client():
    return app_client()


@pytest.fixture(scope="module")
def fixture_handler_files():
    return LambdaHandler(Settings(pipelines_dir=FIXTURES))


@pytest.fixture(scope="module")
def server_url():
    with make_run_server(clean_env(HAYHOOKS_PIPELINES_DIR=str(FIXTURES), LOG="WARNING")) as url:
        yield url


@pytest.fixture(params=["lambda", "make-run"])
def sdk(request, fixture_handler_files):
    if request.param == "lambda":
        http = httpx.Client(transport=LambdaTransport(fixture_handler_files), base_url="https://api.example")
        return openai.OpenAI(base_url="https://api.example/v1", api_key="unused", http_client=http, max_retries=0)
    url = request.getfixturevalue("server_url")
    return openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)


def test_sdk_upload_then_refer_to_it_from_responses_and_chat(sdk):
    uploaded = sdk.files.create(file=("notes.txt", b"the meeting is at noon", "text/plain"), purpose="user_data")
    assert uploaded.id.startswith("file-keeper")  # `keeper`: the first by name with run_file_upload
    assert (uploaded.object, uploaded.bytes, uploaded.filename, uploaded.purpose, uploaded.status) == (
        "file",
        22,
        "notes.txt",
        "user_data",
        "processed",
    )
    assert uploaded.model_extra == {"content_type": "text/plain"}  # the wrapper's extra key, kept

    item = {
        "role": "user",
        "content": [
            {"type": "input_text", "text": "When is the meeting?"},
            {"type": "input_file", "file_id": uploaded.id},
        ],
    }
    response = sdk.responses.create(model="keeper", input=[item])
    seen = json.loads(response.output_text)
    assert seen["files"] == {uploaded.id: "the meeting is at noon"}
    assert seen["input_items"] == [item]  # as sent: Hayhooks passes the items through untouched

    completion = sdk.chat.completions.create(
        model="keeper",
        messages=[{"role": "user", "content": [{"type": "file", "file": {"file_id": uploaded.id}}]}],
    )
    assert completion.choices[0].message.content == "the meeting is at noon"


def test_binary_upload_arrives_byte_identical_through_the_handler(fixture_handler_files):
    content = bytes(range(256)) * 64
    http = httpx.Client(transport=LambdaTransport(fixture_handler_files), base_url="https://api.example")
    reply = http.post(
        "/files", files={"file": ("blob.bin", content, "application/octet-stream")}, data={"purpose": "assistants"}
    )
    assert reply.status_code == 200, reply.text
    stored = _keeper_store(fixture_handler_files)[reply.json()["id"]]
    assert stored == {
        "filename": "blob.bin",
        "content_type": "application/octet-stream",
        "content": content,
        "purpose": "assistants",
    }


def _keeper_store(handler: LambdaHandler) -> dict:
    wrapper = handler.registry.get("keeper").wrapper
    return sys.modules[type(wrapper).__module__].STORE


# Recorded from Hayhooks 2.1.0 (its files router, fastapi-openai-compat 1.4.0) for the same requests
MISSING_FILE = {"type": "missing", "loc": ["body", "file"], "msg": "Field required", "input": None}
MISSING_PURPOSE = {"type": "missing", "loc": ["body", "purpose"], "msg": "Field required", "input": None}
HAYHOOKS_ERRORS = [
    ({}, 422, {"detail": [MISSING_FILE, MISSING_PURPOSE]}),
    ({"json": {"purpose": "x"}}, 422, {"detail": [MISSING_FILE, MISSING_PURPOSE]}),
    ({"data": {"purpose": "user_data"}, "files": {"x": ("a", b"1")}}, 422, {"detail": [MISSING_FILE]}),
    ({"files": {"file": ("a.txt", b"hello", "text/plain")}}, 422, {"detail": [MISSING_PURPOSE]}),
    ({"data": {"purpose": "", "file": ""}}, 422, {"detail": [MISSING_FILE, MISSING_PURPOSE]}),
    (
        {"data": {"file": "notafile", "purpose": "p"}},
        422,
        {
            "detail": [
                {
                    "type": "value_error",
                    "loc": ["body", "file"],
                    "msg": "Value error, Expected UploadFile, received: <class 'str'>",
                    "input": "notafile",
                    "ctx": {"error": {}},
                }
            ]
        },
    ),
    (
        {"content": b"--xx\r\n", "headers": {"content-type": "multipart/form-data"}},
        400,
        {"detail": "Missing boundary in multipart."},
    ),
]


@pytest.mark.parametrize(("request_kwargs", "status", "body"), HAYHOOKS_ERRORS)
def test_errors_are_hayhooks_own(client, request_kwargs, status, body):
    for path in ("/v1/files", "/files"):
        reply = client.post(path, **request_kwargs)
        assert (reply.status_code, reply.json()) == (status, body)


def test_purpose_sent_as_a_file_is_a_422_naming_it(client):
    reply = client.post(
        "/v1/files", files={"file": ("a.txt", b"hello"), "purpose": ("p.txt", b"user_data", "text/plain")}
    )
    assert reply.status_code == 422
    (error,) = reply.json()["detail"]
    assert (error["type"], error["loc"], error["msg"]) == (
        "string_type",
        ["body", "purpose"],
        "Input should be a valid string",
    )
    assert error["input"] == {"filename": "p.txt", "size": 9}


def test_the_last_file_part_wins_as_in_hayhooks(client):
    files = [("file", ("a.txt", b"A")), ("file", ("b.txt", b"BB"))]
    reply = client.post("/v1/files", data={"purpose": "user_data"}, files=files)
    assert (reply.status_code, reply.json()["filename"], reply.json()["bytes"]) == (200, "b.txt", 2)


def test_without_an_implementing_wrapper_the_upload_is_refused_with_a_501(tmp_path, caplog):
    """Hayhooks answers 200 with an id nothing keeps; here the client is told the file was not kept."""
    write_wrapper(tmp_path, "plain", "")
    with caplog.at_level(logging.WARNING, logger="core.openai"):
        reply = app_client(tmp_path).post("/v1/files", data={"purpose": "user_data"}, files={"file": ("n.txt", b"abc")})
    assert reply.status_code == 501
    assert reply.json()["detail"].startswith("No pipeline implements run_file_upload: the file was not kept.")
    assert "No pipeline implements run_file_upload: upload 'n.txt' refused with 501" in caplog.text


def test_async_variants_are_awaited(tmp_path):
    write_wrapper(
        tmp_path,
        "a_async",
        "    async def run_file_upload_async(self, filename, content_type, content, purpose) -> dict:\n"
        "        await asyncio.sleep(0)\n"
        "        return {'id': 'file-async', 'bytes': len(content), 'created_at': 1, 'purpose': purpose}\n\n"
        "    def run_file_upload(self, filename, content_type, content, purpose) -> dict:\n"
        "        raise AssertionError('the async method wins')\n",
    )
    write_wrapper(
        tmp_path,
        "b_coroutine",
        "    async def run_file_upload(self, filename, content_type, content, purpose) -> dict:\n"
        "        return {'id': 'file-coroutine', 'bytes': len(content), 'created_at': 1, 'purpose': purpose}\n",
    )
    reply = app_client(tmp_path).post("/v1/files", data={"purpose": "p"}, files={"file": ("x", b"12")})
    assert reply.json() == {
        "id": "file-async",
        "object": "file",
        "bytes": 2,
        "created_at": 1,
        "filename": None,
        "purpose": "p",
        "status": "processed",
    }
    (tmp_path / "a_async" / "pipeline_wrapper.py").unlink()
    (tmp_path / "a_async").rmdir()
    reply = app_client(tmp_path).post("/v1/files", data={"purpose": "p"}, files={"file": ("x", b"12")})
    assert reply.json()["id"] == "file-coroutine"


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ("raise ValueError('disk full, api_key=sk-abcdefgh12345')", 500, "File upload failed: disk full, api_key=***"),
        ("raise HTTPException(status_code=409, detail='duplicate')", 409, "duplicate"),
        ("return ['not', 'a', 'file object']", 500, "run_file_upload returned an unsupported type"),
        ("import sys; sys.exit(2)", 500, "File upload failed: 2"),
    ],
)
def test_wrapper_failures_are_hayhooks_answers(tmp_path, body, status, detail):
    write_wrapper(
        tmp_path, "up", f"    def run_file_upload(self, filename, content_type, content, purpose):\n        {body}\n"
    )
    reply = app_client(tmp_path).post("/v1/files", data={"purpose": "p"}, files={"file": ("x", b"1")})
    assert (reply.status_code, reply.json()) == (status, {"detail": detail})


def test_an_invalid_file_object_is_a_500_saying_what_is_wrong(tmp_path):
    write_wrapper(
        tmp_path,
        "up",
        "    def run_file_upload(self, filename, content_type, content, purpose):\n        return {'id': 'f'}\n",
    )
    reply = app_client(tmp_path).post("/v1/files", data={"purpose": "p"}, files={"file": ("x", b"1")})
    assert reply.status_code == 500
    detail = reply.json()["detail"]
    assert detail.startswith("File upload failed: 3 validation errors for FileObject")
    assert "bytes\n  Field required" in detail and "created_at\n  Field required" in detail


def test_the_deadline_applies(tmp_path):
    write_wrapper(
        tmp_path,
        "up",
        "    async def run_file_upload_async(self, filename, content_type, content, purpose):\n"
        "        await asyncio.sleep(5)\n",
    )
    handler = LambdaHandler(Settings(pipelines_dir=tmp_path, timeout_margin_ms=500))
    request = httpx.Request("POST", "https://x/v1/files", data={"purpose": "p"}, files={"file": ("x", b"1")})
    headers = {"content-type": request.headers["content-type"]}
    event = http_v2("POST", "/v1/files", body=request.read(), binary=True, headers=headers)
    reply = parse(handler(event, Context(remaining_ms=700)))
    assert reply.status == 504
    assert reply.json()["detail"].startswith("Pipeline 'up' did not finish within the time this invocation had left")


def test_size_limit_is_what_fits_lambdas_payload_after_base64(client):
    limit = max_upload_bytes(Settings())
    assert limit == 4_686_848
    headers = {f"x-h{i}": "v" * 150 for i in range(100)}  # close to the 16 KiB header limit
    for size, status in ((limit, 200), (limit + 1, 413)):
        request = httpx.Request(
            "POST", "https://x/v1/files", data={"purpose": "user_data"}, files={"file": ("big.bin", b"\0" * size)}
        )
        body = request.read()
        if status == 200:  # a file at the limit still reaches the function from every event source
            for build in BUILDERS.values():
                event = build("POST", "/v1/files", body=body, binary=True, headers=headers)
                assert len(json.dumps(event)) <= LAMBDA_PAYLOAD_LIMIT
        reply = client.post("/v1/files", content=body, headers={"content-type": request.headers["content-type"]})
        assert reply.status_code == status
    assert reply.json() == {
        "detail": f"File too large: {limit + 1} bytes; /v1/files takes files of at most {limit} bytes. On Lambda "
        "an upload arrives base64-encoded (a third larger) with its headers inside the request payload limit "
        "(HAYHOOKS_MAX_REQUEST_BYTES, 6 MB); Lambda refuses a larger one before the function runs"
    }


def test_over_the_size_limit_through_the_handler_is_a_json_413(fixture_handler_files):
    limit = max_upload_bytes(Settings())
    http = httpx.Client(transport=LambdaTransport(fixture_handler_files), base_url="https://x")
    reply = http.post("/v1/files", data={"purpose": "p"}, files={"file": ("big.bin", b"\1" * (limit + 1))})
    assert reply.status_code == 413 and reply.json()["detail"].startswith(f"File too large: {limit + 1} bytes")
    body_limit = http.post("/v1/files", data={"purpose": "p"}, files={"file": ("huge.bin", b"\1" * 6_300_000)})
    assert body_limit.status_code == 413 and body_limit.json()["detail"].startswith("Request body too large")


def test_behind_the_api_key_like_every_route(tmp_path):
    keyed = app_client(api_keys=(b"s3cret",))
    for path in ("/v1/files", "/files"):
        reply = keyed.post(path, data={"purpose": "p"}, files={"file": ("x", b"1")})
        assert reply.status_code == 401
    reply = keyed.post("/v1/files", data={"purpose": "p"}, files={"file": ("x", b"1")}, headers={"x-api-key": "s3cret"})
    assert reply.status_code == 200 and reply.json()["id"].startswith("file-keeper")


def test_lazy_strategy_loads_pipelines_until_one_takes_uploads():
    client = app_client(startup_deploy_strategy="lazy")
    assert set(client.get("/status").json()["states"].values()) == {"pending"}
    reply = client.post("/v1/files", data={"purpose": "p"}, files={"file": ("x", b"1")})
    assert reply.json()["id"].startswith("file-keeper")
    assert client.get("/status").json()["states"] == {"a_plain": "loaded", "keeper": "loaded", "zz_keeper": "pending"}


def test_status_capability_and_contract(tmp_path, client):
    deployments = {d["name"]: d["capabilities"] for d in client.get("/status").json()["deployments"]}
    assert deployments == {
        "a_plain": ["run_api", "mcp_eligible"],
        "keeper": ["chat_completion", "responses", "file_upload"],
        "zz_keeper": ["run_api", "file_upload", "mcp_eligible"],
    }
    only_upload = tmp_path / "only_upload"
    only_upload.mkdir()
    (only_upload / "pipeline_wrapper.py").write_text(
        "class PipelineWrapper:\n    def setup(self) -> None:\n        pass\n\n"
        "    def run_file_upload(self, filename, content_type, content, purpose) -> dict:\n        return {}\n"
    )
    failed = load_registry(Settings(pipelines_dir=tmp_path)).failed["only_upload"]
    assert failed.stage == "contract"  # as in Hayhooks: run_file_upload is not a run method


def test_openapi_documents_the_multipart_body(client):
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/v1/files"]["post"]
    form = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["file", "purpose"] and form["properties"]["file"]["format"] == "binary"
    assert {"200", "413", "422", "500"} <= set(operation["responses"])
    assert "/files" not in schema["paths"]


def test_lambda_events_of_every_source_reach_the_wrapper(fixture_handler_files):
    request = httpx.Request("POST", "https://x/v1/files", data={"purpose": "p"}, files={"file": ("e.txt", b"event")})
    for name, build in BUILDERS.items():
        event = build(
            "POST",
            "/v1/files",
            body=request.read(),
            binary=True,
            headers={"content-type": request.headers["content-type"]},
        )
        reply = parse(fixture_handler_files(event, Context()))
        assert reply.status == 200, (name, reply.body)
        assert reply.json()["filename"] == "e.txt"
