"""One Secrets Manager secret or SSM parameter, read at cold start without importing an AWS SDK.

The template's default reads the API-key secret in every cold start; through Powertools and boto3 that
cost ~0.5 s (importing them, making a botocore session and client). On Lambda it is read instead:

1. through the AWS Parameters and Secrets Lambda Extension's local HTTP port, when the function has the
   extension (its layer in /opt/extensions, or PARAMETERS_SECRETS_EXTENSION_HTTP_PORT set): no signing,
   and the extension caches;
2. else, or when the extension does not answer yet (Lambda starts the runtime's init before extensions
   finish theirs), with one SigV4-signed HTTPS request to the service's JSON API (core/sigv4.py), as
   the SDKs send it: AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL move it.

Off Lambda (make run, tests, scripts) a botocore client reads it, so profiles, SSO and the rest of the
AWS configuration work as they do everywhere else; botocore is imported only then.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from core.http_opener import opener_for

EXTENSIONS_DIR = Path("/opt/extensions")
EXTENSION_PORT = 2773  # the extension's documented default
TIMEOUT = 5.0  # seconds; a cold start that cannot read its keys fails anyway


class AwsReadError(Exception):
    """A read that AWS (or the way to it) refused; str() is `Code: message`, naming the resource only."""


def read_secret(secret_id: str, environ: Mapping[str, str] | None = None) -> str:
    """A Secrets Manager secret's SecretString (its binary form decoded as UTF-8)."""
    reply = _read(
        environ,
        service="secretsmanager",
        extension_path=f"/secretsmanager/get?secretId={quote(secret_id, safe='')}",
        target="secretsmanager.GetSecretValue",
        body={"SecretId": secret_id},
        endpoint_variable="AWS_ENDPOINT_URL_SECRETS_MANAGER",
        botocore_call=lambda client: client.get_secret_value(SecretId=secret_id),
    )
    if isinstance(reply.get("SecretString"), str):
        return reply["SecretString"]
    binary = reply.get("SecretBinary")
    if isinstance(binary, bytes):
        return binary.decode()
    if isinstance(binary, str):  # the JSON APIs send it base64-encoded
        import base64

        return base64.b64decode(binary).decode()
    raise AwsReadError("EmptySecret: the secret has no value")


def read_parameter(name: str, environ: Mapping[str, str] | None = None) -> str:
    """An SSM parameter's value, SecureStrings decrypted."""
    reply = _read(
        environ,
        service="ssm",
        extension_path=f"/systemsmanager/parameters/get?name={quote(name, safe='')}&withDecryption=true",
        target="AmazonSSM.GetParameter",
        body={"Name": name, "WithDecryption": True},
        endpoint_variable="AWS_ENDPOINT_URL_SSM",
        botocore_call=lambda client: client.get_parameter(Name=name, WithDecryption=True),
    )
    value = (reply.get("Parameter") or {}).get("Value")
    if not isinstance(value, str):
        raise AwsReadError("EmptyParameter: the parameter has no value")
    return value


def _read(
    environ: Mapping[str, str] | None,
    *,
    service: str,
    extension_path: str,
    target: str,
    body: dict[str, Any],
    endpoint_variable: str,
    botocore_call: Any,
) -> dict[str, Any]:
    env = os.environ if environ is None else environ
    if not env.get("AWS_LAMBDA_FUNCTION_NAME"):
        return _with_botocore(env, service, botocore_call)
    if (port := _extension_port(env)) is not None and (reply := _from_extension(env, port, extension_path)):
        return reply
    return _signed_call(env, service, target, body, endpoint_variable)


def _extension_port(env: Mapping[str, str]) -> int | None:
    configured = env.get("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", "").strip()
    if configured.isdigit():
        return int(configured)
    try:
        names = [entry.name.lower() for entry in EXTENSIONS_DIR.iterdir()]
    except OSError:
        return None
    return EXTENSION_PORT if any("parametersandsecrets" in name for name in names) else None


def _from_extension(env: Mapping[str, str], port: int, path: str) -> dict[str, Any] | None:
    """The extension's answer (the API's own JSON), or None when it cannot give one (not ready, not there,
    overloaded): the caller then asks the service itself."""
    request = urllib.request.Request(f"http://localhost:{port}{path}")
    request.add_header("X-Aws-Parameters-Secrets-Token", env.get("AWS_SESSION_TOKEN", ""))
    try:
        # no proxy: the extension is on this machine's loopback, whatever HTTP_PROXY says
        with opener_for(request.full_url, proxies={}).open(request, timeout=TIMEOUT) as reply:
            return json.load(reply)
    except (OSError, ValueError):  # URLError and HTTPError are OSErrors
        return None


def _signed_call(
    env: Mapping[str, str], service: str, target: str, body: dict[str, Any], endpoint_variable: str
) -> dict[str, Any]:
    from core.sigv4 import LambdaCredentials, sign

    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if not region:
        raise AwsReadError("NoRegion: neither AWS_REGION nor AWS_DEFAULT_REGION is set")
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    base = (env.get(endpoint_variable) or env.get("AWS_ENDPOINT_URL") or f"https://{service}.{region}.{suffix}").rstrip(
        "/"
    )
    url = base + "/"
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target}
    try:
        credentials = LambdaCredentials(env).get()
    except (OSError, RuntimeError, ValueError, KeyError) as exc:
        raise AwsReadError(f"NoCredentials: {exc}") from None
    headers.update(sign("POST", url, headers, data, credentials=credentials, region=region, service=service))
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with opener_for(url).open(request, timeout=TIMEOUT) as reply:
            return json.load(reply)
    except urllib.error.HTTPError as error:
        raise AwsReadError(_error_text(error)) from None
    except (OSError, ValueError) as exc:
        raise AwsReadError(f"{type(exc).__name__}: {exc}") from None


def _error_text(error: urllib.error.HTTPError) -> str:
    """`Code: message` from an AWS JSON error body (`__type` may be namespaced: `ns#Code`)."""
    try:
        data = json.loads(error.read() or b"{}")
    except ValueError:
        data = {}
    code = str(data.get("__type") or data.get("code") or f"HTTP{error.code}").rsplit("#", 1)[-1]
    message = data.get("message") or data.get("Message") or ""
    return f"{code}: {message}".strip().rstrip(":")


def _with_botocore(env: Mapping[str, str], service: str, call: Any) -> dict[str, Any]:
    # botocore reads the rest of its configuration (credentials, AWS_ENDPOINT_URL_*) itself
    import botocore.exceptions
    import botocore.session

    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None
    try:
        client = botocore.session.get_session().create_client(service, region_name=region)
        return call(client)
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        raise AwsReadError(f"{error.get('Code')}: {error.get('Message', '')}".strip()) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise AwsReadError(f"{type(exc).__name__}: {exc}") from None
