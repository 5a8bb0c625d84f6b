"""Secrets and parameters read without an AWS SDK on Lambda: a moto server over HTTP stands in for AWS,
a handler of our own on loopback for the Parameters and Secrets extension."""

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import boto3
import pytest
from moto.server import ThreadedMotoServer

from core.aws_reads import AwsReadError, read_parameter, read_secret
from tests.conftest import ROOT

ON_LAMBDA = {
    "AWS_LAMBDA_FUNCTION_NAME": "reads-test",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "session-token-from-lambda",
}


@pytest.fixture(scope="module")
def aws():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    clients = {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    secrets = boto3.client("secretsmanager", endpoint_url=url, **clients)
    ssm = boto3.client("ssm", endpoint_url=url, **clients)
    secrets.create_secret(Name="prod/api-keys", SecretString="key-from-secrets-manager-0123")
    ssm.put_parameter(Name="/prod/openai", Value="sk-from-ssm-0123456", Type="SecureString")
    yield {**ON_LAMBDA, "AWS_ENDPOINT_URL": url}
    server.stop()


def test_signed_reads_on_lambda(aws):
    assert read_secret("prod/api-keys", aws) == "key-from-secrets-manager-0123"
    assert read_parameter("/prod/openai", aws) == "sk-from-ssm-0123456"


def test_errors_name_the_code_and_the_resource(aws):
    with pytest.raises(AwsReadError, match=r"^ResourceNotFoundException: Secrets Manager can't find"):
        read_secret("prod/missing", aws)
    with pytest.raises(AwsReadError, match=r"^ParameterNotFound: "):
        read_parameter("/prod/missing", aws)
    with pytest.raises(AwsReadError, match=r"^NoRegion: "):
        read_secret("prod/api-keys", {k: v for k, v in aws.items() if k != "AWS_REGION"})


class _Extension(BaseHTTPRequestHandler):
    """The Parameters and Secrets extension's local API, as documented: the session token in a header."""

    ready = True
    seen: ClassVar[list] = []

    def do_GET(self):
        self.seen.append((self.path, self.headers.get("X-Aws-Parameters-Secrets-Token")))
        if not self.ready:
            body, status = b"not ready to serve traffic, please wait", 400
        elif self.path.startswith("/secretsmanager/get?secretId=prod%2Fapi-keys"):
            body, status = json.dumps({"Name": "prod/api-keys", "SecretString": "key-from-the-extension-01"}), 200
        elif self.path == "/systemsmanager/parameters/get?name=%2Fprod%2Fopenai&withDecryption=true":
            body, status = json.dumps({"Parameter": {"Name": "/prod/openai", "Value": "sk-via-extension-01"}}), 200
        else:
            body, status = b"unexpected", 404
        body = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def extension():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Extension)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Extension.seen.clear()
    _Extension.ready = True
    yield server.server_port
    server.shutdown()
    server.server_close()


def test_through_the_extension_when_the_function_has_it(aws, extension):
    env = {**aws, "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(extension)}
    assert read_secret("prod/api-keys", env) == "key-from-the-extension-01"
    assert read_parameter("/prod/openai", env) == "sk-via-extension-01"
    assert [token for _, token in _Extension.seen] == ["session-token-from-lambda"] * 2


def test_an_extension_not_ready_yet_falls_back_to_the_service(aws, extension):
    _Extension.ready = False
    env = {**aws, "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(extension)}
    assert read_secret("prod/api-keys", env) == "key-from-secrets-manager-0123"  # moto's, not the extension's
    assert len(_Extension.seen) == 1


COLD_START = """
import json, sys
import handler
from core.app_services import services_of
print(json.dumps({"keys": len(services_of(handler.lambda_handler.app).api_keys),
                  "sdks": sorted(m for m in ("boto3", "botocore", "aws_lambda_powertools") if m in sys.modules)}))
"""


def test_a_cold_start_reading_the_api_key_secret_imports_no_aws_sdk(aws):
    env = {
        **aws,
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "HAYSTACK_TELEMETRY_ENABLED": "False",
        "OTEL_SDK_DISABLED": "true",
        "HAYHOOKS_PIPELINES_DIR": str(ROOT / "tests" / "fixtures" / "warm_up"),
        "HAYHOOKS_API_KEYS_SECRET": "prod/api-keys",
    }
    proc = subprocess.run([sys.executable, "-c", COLD_START], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"keys": 1, "sdks": []}
