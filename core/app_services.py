"""`AppServices`: what an app built by `create_app` (core/app.py) serves with, in one typed object.

The middleware stack, the routes, the invocation path, MCP and the Lambda handler read the settings, the
registry and the rest through `services_of(app)` rather than through loose `app.state` attributes: one
name to grep, and types a checker can follow. Set once, when the app is built.

The object sits on `app.state.services` (Starlette's place for what an app shares), the only key this
project sets there. Hayhooks' own `app.state` keys (`pipeline_registry`, `durable_*`) are internals of
its server that neither its documentation nor its examples read, so none is mirrored here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from core.access_log import RequestRecord
    from core.registry import Registry
    from core.settings import Settings


@dataclass
class AppServices:
    settings: Settings
    registry: Registry
    # call sync wrappers on the event loop: right on Lambda only (one request at a time per environment)
    sync_inline: bool
    api_keys: tuple[bytes, ...]  # empty: the app checks no key (core/auth.py)
    # called with each request's RequestRecord (the handler's metrics and tracing on Lambda)
    request_observers: list[Callable[[RequestRecord], None]] = field(default_factory=list)
    # marks an app returned by Hayhooks' `create_app()`: the one kind HAYHOOKS_APP may name (core/app_factory.py)
    built_by_create_app: bool = False
    # /status's per-pipeline summaries, built on first use; reset when a lazy pipeline loads
    deployment_summaries: list[dict[str, Any]] | None = None


class NotAPipelineApp(TypeError):
    """The app was not built by `create_app` (core/app.py), so it has no services."""


def services_of(app: Starlette) -> AppServices:
    """The services `app` was built with."""
    services = getattr(app.state, "services", None)
    if not isinstance(services, AppServices):
        raise NotAPipelineApp(f"{type(app).__name__} was not built by core.app.create_app: it has no AppServices")
    return services


def attach(app: Starlette, services: AppServices) -> AppServices:
    app.state.services = services
    return services
