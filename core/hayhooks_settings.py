"""`settings` as Hayhooks' `hayhooks.settings.settings` offers it: its attribute names, our values.

The settings this project reads (core/settings.py) are given under Hayhooks' names and types
(`pipelines_dir` and `additional_python_path` as strings, CORS lists as lists, ...). Hayhooks settings
this project has no use for are read from their `HAYHOOKS_*` variable with Hayhooks' default, so code
that reads them gets what it would under Hayhooks. One differs on purpose: `cors_allow_origins` defaults
to none (CORS is closed until configured).

Built on first use from the settings the service runs with (read from the environment at cold start,
like Hayhooks' own object), or from the environment when no service was built in this process.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from core.settings import Settings, SettingsError, _Env, in_use

# Hayhooks settings with no counterpart here: name -> Hayhooks 2.1.0's default
_HAYHOOKS_ONLY: dict[str, Any] = {
    "graceful_shutdown_timeout": 5,
    "use_https": False,
    "mcp_host": "localhost",
    "mcp_port": 1417,
    "a2a_host": "localhost",
    "a2a_port": 1418,
    "a2a_external_url": "",
    "a2a_v0_3_compat": True,
    "disable_ssl": False,
    "files_to_ignore_patterns": ["*.pyc", "*.pyo", "*.pyd", "__pycache__", "*.so", "*.egg", "*.egg-info"],
    "streaming_components": "",
    "deploy_concurrency": "serialized",
    "monitoring_enabled": True,
    "durable_release_running_on_shutdown": False,
    "durable_store": "redis",
    "durable_redis_url": "redis://localhost:6379/0",
    "durable_redis_key_prefix": "hayhooks:durable",
    "durable_redis_max_viewers": 100,
    "durable_terminal_ttl_seconds": 604_800,
    "durable_max_nonterminal_executions": 1_000,
    "durable_max_payload_bytes": 1_000_000,
    "durable_max_progress_events": 100,
    "durable_max_progress_event_bytes": 8_192,
    "durable_max_stream_chunks": 100,
    "durable_max_stream_chunk_bytes": 64_000,
    "durable_worker_concurrency": 1,
    "durable_poll_interval_seconds": 5.0,
    "durable_maintenance_interval_seconds": 5.0,
    "durable_shutdown_grace_seconds": 5.0,
    "durable_lease_duration_ms": 30_000,
    "durable_lease_commit_safety_ms": 1_500,
    "durable_max_run_attempts": 3,
    "durable_max_application_retries": 2,
    "durable_retry_base_delay_seconds": 1.0,
    "durable_retry_max_delay_seconds": 60.0,
    "intercepted_loggers": ["uvicorn", "uvicorn.error", "uvicorn.access", "fastapi"],
    "access_log_excluded_path_prefixes": ["/traces"],
    "tracing_excluded_spans": ["send", "receive"],
    "tracing_enabled": True,
    "tracing_token": None,
    "tracing_default_limit": 25,
    "tracing_max_limit": 100,
    "tracing_buffer_capacity": 200,
    "tracing_include_haystack_spans": True,
    "tracing_slow_component_ms": 1000,
    "tracing_include_payload_values": False,
    "chainlit_enabled": False,
    "chainlit_path": "/chat",
    "chainlit_app": "",
    "chainlit_default_model": "",
    "chainlit_request_timeout": 120.0,
    "chainlit_custom_elements_dir": "",
}


class HayhooksSettings:
    """Read-only attributes with Hayhooks' names; see the module docstring for where each value comes from."""

    def __init__(self, ours: Settings, environ: Mapping[str, str]) -> None:
        cors = ours.cors
        values: dict[str, Any] = {
            "root_path": ours.root_path,
            "pipelines_dir": str(ours.pipelines_dir),
            "additional_python_path": os.pathsep.join(ours.additional_python_path),
            "host": ours.host,
            "port": ours.port,
            "show_tracebacks": ours.show_tracebacks,
            "startup_deploy_strategy": ours.startup_deploy_strategy,
            "startup_deploy_workers": ours.startup_deploy_workers,
            "durable_mode": ours.durable_mode,
            "cors_allow_origins": list(cors.allow_origins),
            "cors_allow_methods": list(cors.allow_methods),
            "cors_allow_headers": list(cors.allow_headers),
            "cors_allow_credentials": cors.allow_credentials,
            "cors_allow_origin_regex": cors.allow_origin_regex,
            "cors_expose_headers": list(cors.expose_headers),
            "cors_max_age": cors.max_age,
        }
        env = _Env(environ)
        for name, default in _HAYHOOKS_ONLY.items():
            values[name] = _read(env, f"HAYHOOKS_{name.upper()}", default)
        self.__dict__.update(values)

    @property
    def chainlit_base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        base = f"{'https' if self.use_https else 'http'}://{host}:{self.port}"
        return f"{base}/{self.root_path.strip('/')}" if self.root_path else base

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"settings are read from HAYHOOKS_* variables at cold start; '{name}' cannot be set")

    def __repr__(self) -> str:
        return f"HayhooksSettings(pipelines_dir={self.pipelines_dir!r}, root_path={self.root_path!r})"


def _read(env: _Env, variable: str, default: Any) -> Any:
    if isinstance(default, bool):
        return env.bool(variable, default)
    if isinstance(default, int):
        return env.int(variable, default)
    if isinstance(default, float):
        raw = env.str(variable, "")
        try:
            return float(raw) if raw else default
        except ValueError:
            raise SettingsError(f"{variable} must be a number, got {raw!r}") from None
    if isinstance(default, list):
        return list(env.list(variable, tuple(default)))
    value = env.str(variable, "" if default is None else default)
    return value or default


_built: tuple[Settings, HayhooksSettings] | None = None


def _current() -> HayhooksSettings:
    global _built
    ours = in_use()
    if _built is None or (ours is not None and _built[0] is not ours):
        ours = ours or Settings.from_env()
        _built = (ours, HayhooksSettings(ours, os.environ))
    return _built[1]


def __getattr__(name: str) -> Any:
    if name == "settings":
        return _current()
    raise AttributeError(f"module 'core.hayhooks_settings' has no attribute {name!r}")
