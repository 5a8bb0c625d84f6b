"""Hayhooks' programmatic customization: `create_app()` and `run_app(app)`, and serving such an app.

A Hayhooks project customizes the server in a module of its own:

    from hayhooks import create_app, run_app
    app = create_app()                 # every pipeline loaded, every route registered
    app.add_middleware(MyAuth)         # the user's middleware...
    @app.get("/health") ...            # ...and routes
    if __name__ == "__main__":
        run_app(app)

Here `create_app()` builds the same app the Lambda handler and `make run` serve (core/service.py), and
leaves it open to more middleware. `HAYHOOKS_APP=module:attribute` names such a module: the handler (and
`make run`) import it and serve its app, user routes and middleware included, instead of building one.
The module is looked up on `sys.path` and in the pipelines folder (the folder that ships in the Lambda
package), so `pipelines/app.py` is `HAYHOOKS_APP=app:app`.

`run_app(app)` starts uvicorn as Hayhooks does, when the module is run as a script. Where a host serves
the app (Lambda, `make run`), it does nothing: Lambda has no server to start, and the host's is running.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from core.settings import Settings, SettingsError, set_in_use

logger = logging.getLogger("core.app_factory")


@dataclass(frozen=True)
class _Host:
    settings: Settings
    sync_inline: bool


_host: _Host | None = None  # set while a host imports the HAYHOOKS_APP module (one import at a time: cold start)


@contextmanager
def hosted(settings: Settings, *, sync_inline: bool) -> Iterator[None]:
    """`create_app()` calls inside build the app as the host would (its settings, its way of running)."""
    global _host
    previous, _host = _host, _Host(settings, sync_inline)
    try:
        yield
    finally:
        _host = previous


def create_app() -> FastAPI:
    """The app with every pipeline of the pipelines folder loaded and all of Hayhooks' routes.

    Settings come from the environment (`HAYHOOKS_*`), as in Hayhooks. Add routes and middleware to it;
    the Lambda handler serves them when `HAYHOOKS_APP` names the module that builds it.
    """
    from core.app_services import services_of
    from core.service import build_service

    host = _host or _Host(Settings.from_env(), sync_inline=False)
    app, _ = build_service(host.settings, sync_inline=host.sync_inline)
    services_of(app).built_by_create_app = True
    return app  # type: ignore[return-value]  (FastAPI's: build_service gives the lean front only when asked)


def run_app(app: FastAPI, *, host: str | None = None, port: int | None = None) -> None:
    """Serve `app` with uvicorn on HAYHOOKS_HOST:HAYHOOKS_PORT (a dev dependency: Lambda has no uvicorn)."""
    if _host is not None or os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        logger.info("run_app(): the app is served by the host (Lambda handler or make run); no server started")
        return
    import uvicorn

    settings = Settings.from_env()
    uvicorn.run(
        app,
        host=host or settings.host,
        port=port or settings.port,
        root_path=settings.root_path,
        log_level=settings.log_level.lower(),
    )


class UserAppError(SettingsError):
    """HAYHOOKS_APP names something that cannot be served; the message says what."""


def load_user_app(settings: Settings, *, sync_inline: bool) -> FastAPI:
    """Import the module `settings.app` names and return its app, built by `create_app()` for this host."""
    module_name, _, attribute = settings.app.partition(":")
    folder = str(settings.pipelines_dir)
    if folder not in sys.path:
        sys.path.append(folder)  # after site-packages: never shadows an installed package
    # the module's own `from hayhooks import create_app` must get core's, even where hayhooks is installed
    from core import hayhooks_alias

    hayhooks_alias.install()
    set_in_use(settings)  # the module may read Hayhooks' `settings` before it calls create_app()
    stale = sys.modules.pop(module_name, None)  # built for another host, or half-imported: build it for this one
    try:
        with hosted(settings, sync_inline=sync_inline):
            module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        if stale is not None:
            sys.modules[module_name] = stale
        raise UserAppError(
            f"HAYHOOKS_APP={settings.app}: no module '{module_name}' on the Python path or in {folder}"
        ) from None
    app: Any = getattr(module, attribute, None)
    if not _built_by_create_app(app):
        found = "nothing" if app is None else type(app).__name__
        raise UserAppError(
            f"HAYHOOKS_APP={settings.app}: '{attribute}' in {module_name} must be the app returned by create_app() "
            f"(from hayhooks or core), found {found}"
        )
    logger.info("Serving the app of HAYHOOKS_APP=%s (its own routes and middleware included)", settings.app)
    return app


def _built_by_create_app(app: Any) -> bool:
    from core.app_services import NotAPipelineApp, services_of

    if not isinstance(app, FastAPI):
        return False
    try:
        return services_of(app).built_by_create_app
    except NotAPipelineApp:
        return False
