"""Optional API-key authentication in the app (Hayhooks has none built in).

On when keys are configured: `HAYHOOKS_API_KEYS` (comma-separated, e.g. resolved from SSM through
`HAYHOOKS_SECRETS`) and/or `HAYHOOKS_API_KEYS_SECRET` (a Secrets Manager secret holding a key, a
comma-separated list, a JSON list, or `{"api_keys": [...]}`; the template's default `AuthMode=api-key`
creates one with a generated key). A request sends its key as `x-api-key: <key>` or
`Authorization: Bearer <key>`; each key is compared in constant time. Otherwise: 401 with a JSON body.
Keys are at least 16 characters; a setting that yields no usable key fails the cold start (fail closed).

CORS preflights pass (they never carry credentials: the CORS layer answers them first). `/status` can be
left open for health checks with `HAYHOOKS_AUTH_PUBLIC_STATUS=true`, and `/docs` with
`HAYHOOKS_AUTH_PUBLIC_DOCS=true`.
"""

from __future__ import annotations

import hmac
import json
import os
import threading

from starlette.types import ASGIApp, Receive, Scope, Send

from core.error_reply import error_response
from core.request_context import INIT_WARM_UP_KEY
from core.root_path import route_path

UNAUTHORIZED = "Missing or invalid API key: send it as x-api-key or Authorization: Bearer <key>"
_DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"})


class AuthError(Exception):
    pass


MIN_KEY_LENGTH = 16


def load_api_keys(environ: dict[str, str] | None = None) -> tuple[bytes, ...]:
    """The configured keys (empty: authentication off). Reads the secret once, at cold start.

    Fails closed: a setting that is there but yields no usable key raises `AuthError` naming it (the cold
    start fails) instead of leaving the function open; the message never quotes a key.
    """
    return ApiKeysRead(environ, background=False).result()


class ApiKeysRead:
    """`load_api_keys()` in two steps: the secret's read starts when this is made (in a thread), the keys
    are taken with `result()`, which reads `HAYHOOKS_API_KEYS` then (HAYHOOKS_SECRETS may have set it).

    The read is a network round trip (over HTTPS also loading the CA bundle, which releases the GIL):
    started before the cold start imports Haystack, it is over by the time the keys are needed instead of
    adding its wait to the cold start.
    """

    def __init__(self, environ: dict[str, str] | None = None, *, background: bool = True) -> None:
        self._environ = environ
        env = os.environ if environ is None else environ
        self._secret_id = env.get("HAYHOOKS_API_KEYS_SECRET", "").strip()
        self._secret_keys: list[str] = []
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._inline = bool(self._secret_id) and not background  # read in result(), after the listed keys
        if self._secret_id and background:
            # imported here, not in the thread: a module two threads import at once may be seen half made
            import core.aws_reads  # noqa: F401

            self._thread = threading.Thread(target=self._read_secret, name="api-keys-read", daemon=True)
            self._thread.start()

    def _read_secret(self) -> None:
        from core.aws_reads import AwsReadError, read_secret

        where = f"Secrets Manager secret '{self._secret_id}' "
        try:
            try:
                text = read_secret(self._secret_id)
            except AwsReadError as exc:
                raise AuthError(f"HAYHOOKS_API_KEYS_SECRET: cannot read {where.strip()}: {exc}") from None
            self._secret_keys = _checked("HAYHOOKS_API_KEYS_SECRET", where, _keys_from(text, where))
        except BaseException as exc:  # handed to the caller of result()
            self._error = exc

    def result(self) -> tuple[bytes, ...]:
        env = os.environ if self._environ is None else self._environ
        keys: list[str] = []
        if listed := env.get("HAYHOOKS_API_KEYS", ""):
            keys.extend(_checked("HAYHOOKS_API_KEYS", "", _comma_separated(listed)))
        if self._inline:
            self._read_secret()
        elif self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        keys.extend(self._secret_keys)
        return tuple(k.encode() for k in keys)


def _comma_separated(value: str) -> list[str]:
    return [k.strip() for k in value.split(",") if k.strip()]


def _keys_from(value: str, where: str) -> list[str]:
    """A secret's keys: a comma-separated string, a JSON list of strings, or `{"api_keys": [...]}`."""
    value = value.strip()
    if not value.startswith(("[", "{")):
        return _comma_separated(value)
    try:
        data = json.loads(value)
    except ValueError:
        raise AuthError(f"HAYHOOKS_API_KEYS_SECRET: {where}is not valid JSON") from None
    if isinstance(data, dict):
        if set(data) != {"api_keys"}:
            raise AuthError(
                f"HAYHOOKS_API_KEYS_SECRET: {where}is a JSON object; a JSON object must have one key, 'api_keys' "
                f"(got {', '.join(repr(str(k)[:40]) for k in list(data)[:5]) or 'none'})"
            )
        data = data["api_keys"]
    if not isinstance(data, list) or not all(isinstance(k, str) for k in data):
        raise AuthError(f"HAYHOOKS_API_KEYS_SECRET: {where}'api_keys' must be a list of strings")
    return [k.strip() for k in data if k.strip()]


def _checked(setting: str, where: str, keys: list[str]) -> list[str]:
    if not keys:
        raise AuthError(f"{setting}: {where}holds no API key, so every request would be let in")
    for position, key in enumerate(keys, 1):
        if len(key) < MIN_KEY_LENGTH or not key.isascii() or not key.isprintable() or " " in key:
            raise AuthError(
                f"{setting}: {where}key #{position} is not usable: keys must be at least {MIN_KEY_LENGTH} "
                "characters of printable ASCII without spaces"
            )
    return keys


def _presented_keys(headers: list[tuple[bytes, bytes]]) -> list[bytes] | None:
    """Every key the request carries (a stray x-api-key must not hide a valid Bearer token), or None when
    it sends two of one header: API Gateway joins repeated headers into one value and ALB passes them
    apart, so accepting either would make the answer depend on the front door."""
    keys = []
    seen: set[bytes] = set()
    for name, value in headers:
        if name == b"x-api-key" or (name == b"authorization" and value[:7].lower() == b"bearer "):
            if name in seen:
                return None
            seen.add(name)
            keys.append(value.strip() if name == b"x-api-key" else value[7:].strip())
    return keys


class ApiKeyMiddleware:
    def __init__(self, app: ASGIApp, keys: tuple[bytes, ...], *, public_status: bool, public_docs: bool) -> None:
        self.app = app
        self.keys = keys
        self.public_status = public_status
        self.public_docs = public_docs

    def _is_public(self, scope: Scope) -> bool:
        path = route_path(scope)
        if self.public_docs and path in _DOCS_PATHS:
            return True
        # GET and HEAD only: POST /status/run is the pipeline named "status", not a health check
        parts = path.strip("/").split("/")
        return self.public_status and scope["method"] in ("GET", "HEAD") and parts[0] == "status" and len(parts) <= 2

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.keys or self._is_public(scope) or scope.get(INIT_WARM_UP_KEY):
            await self.app(scope, receive, send)
            return
        # compare every presented key against every key, always: the time taken says nothing about which
        # key almost matched
        presented = _presented_keys(scope["headers"]) or ()
        valid = sum(hmac.compare_digest(p, key) for p in presented for key in self.keys) > 0
        if valid:
            await self.app(scope, receive, send)
            return
        challenge = {"www-authenticate": 'Bearer realm="haystack-lambda"'}
        await error_response(401, UNAUTHORIZED, challenge)(scope, receive, send)
