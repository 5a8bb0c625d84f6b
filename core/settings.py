"""Settings read from the environment, with Hayhooks' names and defaults.

Everything is read once, at cold start. An invalid value raises `SettingsError` naming the variable,
so a misconfigured function fails its init with a message instead of serving half-configured.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from core.secrets import SecretRef, parse_secrets

_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f", ""}
_LOG_LEVELS = {
    "TRACE": "DEBUG",
    "DEBUG": "DEBUG",
    "INFO": "INFO",
    "SUCCESS": "INFO",
    "WARNING": "WARNING",
    "ERROR": "ERROR",
    "CRITICAL": "CRITICAL",
}

# Hayhooks settings that only mean something for a long-running server. `make run` uses HOST and PORT;
# on Lambda they are ignored with one notice (see `lambda_only_notice`).
SERVER_ONLY_VARIABLES = ("HAYHOOKS_HOST", "HAYHOOKS_PORT", "HAYHOOKS_WORKERS", "HAYHOOKS_DEPLOY_CONCURRENCY")


class SettingsError(ValueError):
    """A `HAYHOOKS_*` variable holds a value this service cannot use."""


@dataclass(frozen=True)
class CorsSettings:
    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ("*",)
    allow_headers: tuple[str, ...] = ("*",)
    allow_credentials: bool = False
    allow_origin_regex: str | None = None
    expose_headers: tuple[str, ...] = ()
    max_age: int = 600

    @property
    def enabled(self) -> bool:
        """CORS is closed until origins (or an origin regex) are configured."""
        return bool(self.allow_origins or self.allow_origin_regex)


@dataclass(frozen=True)
class Settings:
    pipelines_dir: Path = field(default_factory=lambda: Path.cwd() / "pipelines")
    additional_python_path: tuple[str, ...] = ()
    root_path: str = ""
    show_tracebacks: bool = False
    cors: CorsSettings = field(default_factory=CorsSettings)
    startup_deploy_strategy: Literal["parallel", "sequential", "lazy"] = "parallel"
    startup_deploy_workers: int = 4
    log_level: str = "INFO"
    host: str = "127.0.0.1"
    port: int = 3000
    pipelines_s3_uri: str = ""
    pipelines_s3_timeout: float = 6.0
    pipelines_s3_max_mb: int = 200
    pipelines_s3_concurrency: int = 16
    pipelines_strict: bool = False
    max_request_bytes: int = 6 * 1024 * 1024
    secrets: tuple[SecretRef, ...] = ()
    max_header_bytes: int = 16 * 1024
    max_json_depth: int = 64
    timeout_margin_ms: int = 500
    auth_public_status: bool = False
    auth_public_docs: bool = False
    init_warm_up: Literal["auto", "on", "off"] = "auto"  # core/warmup.py: auto = under SnapStart and provisioned
    app: str = ""  # HAYHOOKS_APP: "module:attribute" of an app built with create_app() (core/app_factory.py)
    # HAYHOOKS_DURABLE_MODE: durable wrappers get Hayhooks' durable routes, run by the durable worker function
    durable_mode: bool = False

    def __post_init__(self) -> None:
        # absolute now: a wrapper's os.chdir() must not move the folder pipelines still to load are read from
        object.__setattr__(self, "pipelines_dir", Path(self.pipelines_dir).absolute())
        if self.cors.allow_credentials:
            _check_credentialed_origins(self.cors)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = _Env(os.environ if environ is None else environ)
        return cls(
            pipelines_dir=Path(env.str("HAYHOOKS_PIPELINES_DIR", str(Path.cwd() / "pipelines"))),
            additional_python_path=tuple(
                p for p in env.str("HAYHOOKS_ADDITIONAL_PYTHON_PATH", "").split(os.pathsep) if p
            ),
            root_path=env.root_path("HAYHOOKS_ROOT_PATH"),
            show_tracebacks=env.bool("HAYHOOKS_SHOW_TRACEBACKS", False),
            cors=CorsSettings(
                allow_origins=env.list("HAYHOOKS_CORS_ALLOW_ORIGINS", ()),
                allow_methods=env.list("HAYHOOKS_CORS_ALLOW_METHODS", ("*",)),
                allow_headers=env.list("HAYHOOKS_CORS_ALLOW_HEADERS", ("*",)),
                allow_credentials=env.bool("HAYHOOKS_CORS_ALLOW_CREDENTIALS", False),
                allow_origin_regex=env.str("HAYHOOKS_CORS_ALLOW_ORIGIN_REGEX", "") or None,
                expose_headers=env.list("HAYHOOKS_CORS_EXPOSE_HEADERS", ()),
                max_age=env.int("HAYHOOKS_CORS_MAX_AGE", 600, minimum=0),
            ),
            startup_deploy_strategy=env.choice(
                "HAYHOOKS_STARTUP_DEPLOY_STRATEGY", "parallel", ("parallel", "sequential", "lazy")
            ),
            startup_deploy_workers=env.int("HAYHOOKS_STARTUP_DEPLOY_WORKERS", 4, minimum=1, maximum=32),
            log_level=env.log_level(),
            host=env.str("HAYHOOKS_HOST", "127.0.0.1"),
            port=env.int("HAYHOOKS_PORT", 3000, minimum=1, maximum=65535),
            pipelines_s3_uri=env.s3_uri("HAYHOOKS_PIPELINES_S3_URI"),
            pipelines_s3_timeout=env.float("HAYHOOKS_PIPELINES_S3_TIMEOUT", 6.0, minimum=0.5, maximum=9.0),
            pipelines_s3_max_mb=env.int("HAYHOOKS_PIPELINES_S3_MAX_MB", 200, minimum=1, maximum=10240),
            pipelines_s3_concurrency=env.int("HAYHOOKS_PIPELINES_S3_CONCURRENCY", 16, minimum=1, maximum=64),
            pipelines_strict=env.bool("HAYHOOKS_PIPELINES_STRICT", False),
            max_request_bytes=env.int("HAYHOOKS_MAX_REQUEST_BYTES", 6 * 1024 * 1024, minimum=1024),
            secrets=env.secrets("HAYHOOKS_SECRETS"),
            max_header_bytes=env.int("HAYHOOKS_MAX_HEADER_BYTES", 16 * 1024, minimum=1024),
            max_json_depth=env.int("HAYHOOKS_MAX_JSON_DEPTH", 64, minimum=2, maximum=1000),
            timeout_margin_ms=env.int("HAYHOOKS_TIMEOUT_MARGIN_MS", 500, minimum=0, maximum=10_000),
            auth_public_status=env.bool("HAYHOOKS_AUTH_PUBLIC_STATUS", False),
            auth_public_docs=env.bool("HAYHOOKS_AUTH_PUBLIC_DOCS", False),
            init_warm_up=env.choice("HAYHOOKS_INIT_WARM_UP", "auto", ("auto", "on", "off")),  # type: ignore[arg-type]
            app=env.app_reference("HAYHOOKS_APP"),
            durable_mode=env.bool("HAYHOOKS_DURABLE_MODE", False),
        )


# origins no configuration meant to trust with credentials: a sandboxed page's "null", and a stranger's
_UNTRUSTED_ORIGINS = ("null", "https://attacker.invalid", "http://localhost.attacker.invalid:8080")


def _check_credentialed_origins(cors: CorsSettings) -> None:
    """Credentials go only to origins that were listed: `*`, `null`, or a regex that matches any origin
    would let any website send requests with the users' credentials."""
    import re

    why = "that lets any website send requests with your users' credentials; list the origins instead"
    if "*" in cors.allow_origins or "null" in cors.allow_origins:
        origin = "*" if "*" in cors.allow_origins else "null"
        raise SettingsError(
            f"HAYHOOKS_CORS_ALLOW_CREDENTIALS=true cannot be combined with HAYHOOKS_CORS_ALLOW_ORIGINS={origin}: {why}"
        )
    if cors.allow_origin_regex:
        try:
            pattern = re.compile(cors.allow_origin_regex)
        except re.error as exc:
            raise SettingsError(f"HAYHOOKS_CORS_ALLOW_ORIGIN_REGEX is not a valid regular expression: {exc}") from None
        if matched := [o for o in _UNTRUSTED_ORIGINS if pattern.fullmatch(o)]:
            raise SettingsError(
                "HAYHOOKS_CORS_ALLOW_CREDENTIALS=true cannot be combined with a HAYHOOKS_CORS_ALLOW_ORIGIN_REGEX "
                f"that matches {matched[0]!r}: {why}, or anchor the regex to your domains"
            )


def server_only_variables_set(environ: Mapping[str, str] | None = None) -> list[str]:
    """The server-only variables that are set: on Lambda they have no effect."""
    env = os.environ if environ is None else environ
    return [name for name in SERVER_ONLY_VARIABLES if name in env]


class _Env:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def str(self, name: str, default: str) -> str:
        return self._environ.get(name, default).strip()

    def bool(self, name: str, default: bool) -> bool:
        if name not in self._environ:
            return default
        value = self._environ[name].strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise SettingsError(f"{name} must be true or false, got {self._environ[name]!r}")

    def int(self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
        raw = self._environ.get(name, "").strip()
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            bounds = f"from {minimum}" + (f" to {maximum}" if maximum is not None else "")
            raise SettingsError(f"{name} must be an integer {bounds}, got {value}")
        return value

    def float(self, name: str, default: float, *, minimum: float, maximum: float) -> float:
        raw = self._environ.get(name, "").strip()
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from None
        if not minimum <= value <= maximum:
            raise SettingsError(f"{name} must be from {minimum:g} to {maximum:g}, got {value:g}")
        return value

    def secrets(self, name: str) -> tuple[SecretRef, ...]:
        try:
            return parse_secrets(self._environ.get(name, ""), name)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None

    def s3_uri(self, name: str) -> str:
        raw = self._environ.get(name, "").strip()
        if raw:
            from core.sources.s3_uri import parse_s3_uri

            try:
                parse_s3_uri(raw)
            except ValueError as exc:
                raise SettingsError(f"{name} {exc}") from None
        return raw

    def list(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        """A JSON array (as Hayhooks' pydantic settings read it) or a comma-separated list."""
        raw = self._environ.get(name, "").strip()
        if not raw:
            return default
        if raw.startswith("["):
            try:
                items = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise SettingsError(f"{name} is not a valid JSON array: {exc.msg}") from None
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise SettingsError(f"{name} must be a JSON array of strings, got {raw!r}")
            return tuple(i.strip() for i in items if i.strip())
        return tuple(i.strip() for i in raw.split(",") if i.strip())

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self._environ.get(name, default).strip().lower() or default
        if value not in choices:
            raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {self._environ[name]!r}")
        return value

    def app_reference(self, name: str) -> str:
        """`module:attribute`, as uvicorn takes an app (`app:app`, `my_project.server:hayhooks`)."""
        value = self._environ.get(name, "").strip()
        if value and not re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", value):
            raise SettingsError(f"{name} must be module:attribute, such as app:app, got {value!r}")
        return value

    def root_path(self, name: str) -> str:
        value = self._environ.get(name, "").strip()
        if not value or value == "/":
            return ""
        if any(ch.isspace() for ch in value) or "?" in value or "#" in value:
            raise SettingsError(f"{name} must be a URL path such as /prod, got {value!r}")
        return "/" + value.strip("/")

    def log_level(self) -> str:
        for name in ("HAYHOOKS_LOG_LEVEL", "LOG"):
            raw = self._environ.get(name, "").strip()
            if raw:
                level = _LOG_LEVELS.get(raw.upper())
                if level is None:
                    raise SettingsError(f"{name} must be one of {', '.join(_LOG_LEVELS)}, got {raw!r}")
                return level
        return "INFO"


_in_use: Settings | None = None  # what the running service was built with (core/service.py)


def set_in_use(settings: Settings) -> None:
    global _in_use
    _in_use = settings


def in_use() -> Settings | None:
    return _in_use


def __getattr__(name: str) -> object:
    """`settings`: Hayhooks' settings object (`from hayhooks.settings import settings`), built on first use."""
    if name == "settings":
        from core.hayhooks_settings import settings

        return settings
    raise AttributeError(f"module 'core.settings' has no attribute {name!r}")
