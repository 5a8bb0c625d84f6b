"""The cold-start path in one call: settings → loader → registry → app."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from core.auth import ApiKeysRead
from core.loader import load_registry
from core.logs import configure_logging
from core.redact import remember_secret_values, secret_values
from core.registry import Registry
from core.secrets import resolve as resolve_secrets
from core.settings import Settings, set_in_use

if TYPE_CHECKING:
    from fastapi import FastAPI

    from core.front import LeanFront

logger = logging.getLogger("core.service")


def build_service(
    settings: Settings | None = None,
    *,
    sync_inline: bool = False,
    lean_front: bool = False,
    api_keys_read: ApiKeysRead | None = None,
) -> tuple[FastAPI | LeanFront, Registry]:
    """The app and its registry; no request has gone through the app yet (the init warm-up, when it runs,
    is the Lambda handler's: handler/entry.py, core/warmup.py).

    `lean_front`: the app is core/front.py's, which imports FastAPI only for a request that needs it (the
    Lambda handler's); otherwise the FastAPI app itself (`make run`, Hayhooks' `create_app()`).
    `api_keys_read`: the keys' read, when the caller started it earlier (the Lambda handler does, before
    its imports)."""
    # Haystack's telemetry imports posthog and calls home at exit: off unless the user turns it on.
    os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
    settings = settings or Settings.from_env()
    set_in_use(settings)  # what Hayhooks' `settings` object shows (core/hayhooks_settings.py)
    configure_logging(settings.log_level)
    resolve_secrets(settings.secrets)  # before any pipeline's setup() reads its keys
    keys_read = api_keys_read or ApiKeysRead()  # the secret's round trip overlaps Haystack's import
    api_keys: tuple[bytes, ...] = ()

    def before_loading() -> None:
        nonlocal api_keys
        api_keys = keys_read.result()
        # before any pipeline loads: a setup() error quoting one of these is masked in /status and the logs
        variables = [ref.variable for ref in settings.secrets]
        remember_secret_values(secret_values(os.environ, secret_variables=variables, api_keys=api_keys), only=True)

    registry = load_registry(settings, before_loading=before_loading)
    for failed in registry.failed.values():
        logger.error("Pipeline '%s' failed to load (%s): %s", failed.name, failed.stage, failed.reason)
    if registry.pending:
        logger.info(
            "Lazy strategy: %d pipeline(s) load on first use: %s", len(registry.pending), ", ".join(registry.pending)
        )
    logger.info(
        "Loaded %d pipeline(s) in %.0f ms: %s%s",
        len(registry.loaded),
        registry.init_ms,
        ", ".join(registry.names()) or "none",
        f"; {len(registry.failed)} failed: {', '.join(registry.failed)}" if registry.failed else "",
        extra={
            "cold_start_summary": True,
            "pipelines_loaded": registry.names(),
            "pipelines_failed": list(registry.failed),
            "pipelines_pending": list(registry.pending),
            "sources": [{"kind": s.kind, "uri": s.uri, "version": s.version, "ok": s.ok} for s in registry.sources],
            "init_ms": round(registry.init_ms, 1),
        },
    )
    served = {p.name: p.hayhooks_imports for p in registry.loaded_pipelines() if p.hayhooks_imports}
    if served:
        logger.info(
            "Hayhooks imports (`from hayhooks … import`) served by %s for: %s",
            " and ".join(sorted(set(served.values()))),
            ", ".join(served),
            extra={"hayhooks_imports": served},
        )
    if not api_keys:
        _log_unauthenticated()
    if lean_front:
        from core.app_services import AppServices
        from core.front import LeanFront

        front = LeanFront(AppServices(settings, registry, sync_inline=sync_inline, api_keys=api_keys))
        if any(p.durable for p in registry.loaded_pipelines()):
            # durable mode (opt-in) is served by FastAPI routes: built now, so a missing worker fails the init
            _ = front.full_app
        return front, registry
    from core.app import create_app

    return create_app(settings, registry, sync_inline=sync_inline, api_keys=api_keys), registry


def _log_unauthenticated() -> None:
    """The app checks no key: INFO when the gateway authenticates (AuthMode=jwt/iam) or outside the template,
    a WARNING when the template says nobody does (AuthMode=none, which samconfig.toml's local sections and
    `make start-api` set for `sam local`, where the API-key secret does not exist)."""
    if os.environ.get("HAYHOOKS_AUTH_MODE", "").strip().lower() != "none":
        logger.info("No API keys configured: requests are not authenticated by the app")
    elif os.environ.get("AWS_SAM_LOCAL") == "true":
        logger.warning(
            "AuthMode=none under sam local: requests are not authenticated; "
            "deployed, the default AuthMode=api-key checks a key"
        )
    else:
        logger.warning("AuthMode=none: requests are not authenticated: anyone who reaches the API can run pipelines")
