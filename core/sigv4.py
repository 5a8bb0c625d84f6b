"""AWS Signature Version 4 for the few requests the function makes itself at cold start and per invocation:
spans to X-Ray's OTLP endpoint (handler/span_export.py) and the API-key secret (core/aws_reads.py).

Written here, with hashlib and hmac, so that neither loads botocore (a large share of a cold start) just
to sign one kind of request. Credentials come from where Lambda puts them: the environment, or the
container credentials endpoint when the environment has none (SnapStart).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from core.http_opener import opener_for

ALGORITHM = "AWS4-HMAC-SHA256"
# headers signed when present: what identifies the request and its body, nothing a proxy may rewrite
_SIGNED = ("content-encoding", "content-type", "host", "x-amz-date", "x-amz-security-token")


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    token: str | None = None
    expires_at: float | None = None  # epoch seconds; None: as long as the process lives


def sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    credentials: Credentials,
    region: str,
    service: str,
    now: datetime | None = None,
) -> dict[str, str]:
    """The headers to add to the request: X-Amz-Date, X-Amz-Security-Token (if any) and Authorization."""
    moment = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    parts = urlsplit(url)
    added = {"X-Amz-Date": moment}
    if credentials.token:
        added["X-Amz-Security-Token"] = credentials.token
    present = {k.lower(): " ".join(str(v).split()) for k, v in {**headers, **added}.items()}
    present.setdefault("host", parts.netloc)
    names = sorted(name for name in present if name in _SIGNED)
    if parts.query:
        raise ValueError("signing a URL with a query string is not supported (no request signed here has one)")
    canonical = "\n".join(
        [
            method.upper(),
            quote(parts.path or "/", safe="/~"),
            "",
            "".join(f"{name}:{present[name]}\n" for name in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{moment[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, moment, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + credentials.secret_key).encode()
    for part in (moment[:8], region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    added["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, SignedHeaders={';'.join(names)}, "
        f"Signature={signature}"
    )
    return added


class LambdaCredentials:
    """The function's role credentials: the environment's, else the container endpoint's (cached until
    five minutes before they expire)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ
        self._cached: Credentials | None = None

    def get(self) -> Credentials:
        env = self._environ
        if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
            return Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env.get("AWS_SESSION_TOKEN"))
        cached = self._cached
        if cached is None or (cached.expires_at is not None and cached.expires_at - time.time() < 300):
            self._cached = cached = self._from_container_endpoint()
        return cached

    def _from_container_endpoint(self) -> Credentials:
        url = self._environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        if not url:
            raise RuntimeError("no AWS credentials: neither AWS_ACCESS_KEY_ID nor AWS_CONTAINER_CREDENTIALS_FULL_URI")
        request = urllib.request.Request(url)
        if token := self._environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN"):
            request.add_header("Authorization", token)
        with opener_for(url).open(request, timeout=2) as reply:  # Lambda's own local endpoint
            body = json.load(reply)
        expires = body.get("Expiration")
        return Credentials(
            body["AccessKeyId"],
            body["SecretAccessKey"],
            body.get("Token"),
            datetime.fromisoformat(expires.replace("Z", "+00:00")).timestamp() if expires else None,
        )
