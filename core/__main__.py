"""`python -m core`: serve the pipelines folder with uvicorn, the same app Lambda runs (`make run`)."""

from __future__ import annotations

import uvicorn

from core.root_path import RootPathMiddleware
from core.service import build_service
from core.settings import Settings
from core.warmup import warm_up


def main() -> None:
    settings = Settings.from_env()
    if settings.app:  # the user's app from create_app(), as the Lambda handler serves it
        from core.app_factory import load_user_app

        app = load_user_app(settings, sync_inline=False)
    else:
        app, _ = build_service(settings)
    # the prefix as on Lambda (with or without it in the path), not uvicorn's root_path: that one only
    # labels URLs, and requests under the prefix were 404s
    served = RootPathMiddleware(app, settings.root_path)
    if settings.init_warm_up != "off":  # a server's start-up is paid before anyone calls it (core/warmup.py)
        warm_up(app, served)
    uvicorn.run(served, host=settings.host, port=settings.port, log_level=settings.log_level.lower())


if __name__ == "__main__":
    main()
