"""Optional API-key authentication in the app (Hayhooks has none built in).

On when keys are configured: `HAYHOOKS_API_KEYS` (comma-separated, e.g. resolved from SSM through
`HAYHOOKS_SECRETS`) and/or `HAYHOOKS_API_KEYS_SECRET` (a Secrets Manager secret holding a key, a
comma-separated list, a JSON list, or `{"api_keys": [...]}`; the template's default `AuthMode=api-key`
creates one with a generated key). A request sends its key as `x-api-key: <key>` or
`Authorization: Bearer <key>`; each key is compared in constant time. Otherwise: 401 with a JSON body.

CORS preflights pass (they never carry credentials: the CORS layer answers them first). `/status` can be
left open for health checks with `HAYHOOKS_AUTH_PUBLIC_STATUS=true`, and `/docs` with
`HAYHOOKS_AUTH_PUBLIC_DOCS=true`.
"""

from __future__ import annotations

import hmac
import json
import os

from starlette.types import ASGIApp, Receive, Scope, Send

UNAUTHORIZED = b'{"detail": "Missing or invalid API key: send it as x-api-key or Authorization: Bearer <key>"}'
_DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"})


class AuthError(Exception):
    pass


def load_api_keys(environ: dict[str, str] | None = None) -> tuple[bytes, ...]:
    """The configured keys (empty: authentication off). Reads the secret once, at cold start."""
    env = os.environ if environ is None else environ
    keys = [k.strip() for k in env.get("HAYHOOKS_API_KEYS", "").split(",") if k.strip()]
    secret_id = env.get("HAYHOOKS_API_KEYS_SECRET", "").strip()
    if secret_id:
        from aws_lambda_powertools.utilities import parameters

        try:
            value = parameters.get_secret(secret_id, force_fetch=True)
        except Exception as exc:
            raise AuthError(
                f"HAYHOOKS_API_KEYS_SECRET: cannot read Secrets Manager secret '{secret_id}': {type(exc).__name__}"
            ) from None
        keys.extend(_keys_from(value.decode() if isinstance(value, bytes) else str(value)))
    return tuple(k.encode() for k in keys)


def _keys_from(value: str) -> list[str]:
    value = value.strip()
    if value.startswith(("[", "{")):
        data = json.loads(value)
        data = data.get("api_keys", []) if isinstance(data, dict) else data
        return [str(k).strip() for k in data if str(k).strip()]
    return [k.strip() for k in value.split(",") if k.strip()]


def _presented_keys(headers: list[tuple[bytes, bytes]]) -> list[bytes]:
    """Every key the request carries: a stray x-api-key must not hide a valid Bearer token."""
    keys = []
    for name, value in headers:
        if name == b"x-api-key":
            keys.append(value.strip())
        elif name == b"authorization" and value[:7].lower() == b"bearer ":
            keys.append(value[7:].strip())
    return keys


class ApiKeyMiddleware:
    def __init__(self, app: ASGIApp, keys: tuple[bytes, ...], *, public_status: bool, public_docs: bool) -> None:
        self.app = app
        self.keys = keys
        self.public_status = public_status
        self.public_docs = public_docs

    def _is_public(self, scope: Scope) -> bool:
        root = scope.get("root_path", "")
        path = scope["path"][len(root) :] if root and scope["path"].startswith(root) else scope["path"]
        if self.public_docs and path in _DOCS_PATHS:
            return True
        # GET only: POST /status/run is the pipeline named "status", not a health check
        parts = path.strip("/").split("/")
        return self.public_status and scope["method"] == "GET" and parts[0] == "status" and len(parts) <= 2

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.keys or self._is_public(scope) or scope.get("haystack_lambda.warmup"):
            await self.app(scope, receive, send)
            return
        # compare every presented key against every key, always: the time taken says nothing about which
        # key almost matched
        presented = _presented_keys(scope["headers"])
        valid = sum(hmac.compare_digest(p, key) for p in presented for key in self.keys) > 0
        if valid:
            await self.app(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"www-authenticate", b'Bearer realm="haystack-lambda"'),
                    (b"content-length", str(len(UNAUTHORIZED)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": UNAUTHORIZED})
