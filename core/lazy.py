"""The lazy startup strategy's request side: a pending pipeline is loaded by the first request that runs it.

`HAYHOOKS_STARTUP_DEPLOY_STRATEGY=lazy` finds pipelines at cold start without importing them. The first
`POST /{name}/run` (this middleware) or OpenAI-compatible call naming the pipeline (`ensure_loaded` in the
dispatch) loads it; the app's listener adds its route, and the request then routes as usual. Loading
happens in a worker thread, as at cold start, so a `setup()` may start event loops of its own
(`asyncio.run`), and under `make run` other requests keep being served. The middleware sits after
authentication: an unauthenticated request never starts a load. Status requests never load anything.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from core.registry import Registry


async def ensure_loaded(registry: Registry, name: str) -> None:
    """Load `name` if it is pending; returns once it is loaded or failed (or was never pending)."""
    if name in registry.pending:
        await run_in_threadpool(registry.load_pending, name)


class LazyLoadMiddleware:
    def __init__(self, app: ASGIApp, registry: Registry) -> None:
        self.app = app
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and self.registry.pending:
            parts = _route_path(scope).strip("/").split("/")
            if len(parts) == 2 and parts[1] == "run":
                await ensure_loaded(self.registry, parts[0])
        await self.app(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path the router matches: below `root_path` (a stage or HAYHOOKS_ROOT_PATH), as Starlette does."""
    path, root = scope["path"], scope.get("root_path", "")
    if root and path.startswith(root + "/"):
        return path[len(root) :]
    return path
