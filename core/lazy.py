"""The lazy startup strategy's request side: a pending pipeline is loaded by the first request for it.

`HAYHOOKS_STARTUP_DEPLOY_STRATEGY=lazy` finds pipelines at cold start without importing them (see
`Registry.get`). OpenAI-compatible calls and `/status/{name}` load through the registry lookup; this
middleware covers `POST /{name}/run`, whose route cannot exist before the pipeline's models do: it loads
the pipeline, the app's listener adds the route, and the request then routes as usual. It sits after
authentication, so an unauthenticated request never starts a load.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from core.registry import Registry


class LazyLoadMiddleware:
    def __init__(self, app: ASGIApp, registry: Registry, *, inline: bool) -> None:
        self.app = app
        self.registry = registry
        self.inline = inline  # Lambda: one request at a time, load on the loop; a server: in a thread

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.registry.pending:
            parts = _route_path(scope).strip("/").split("/")
            if len(parts) == 2 and parts[1] == "run" and parts[0] in self.registry.pending:
                if self.inline:
                    self.registry.load_pending(parts[0])
                else:
                    await run_in_threadpool(self.registry.load_pending, parts[0])
        await self.app(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path the router matches: below `root_path` (a stage or HAYHOOKS_ROOT_PATH), as Starlette does."""
    path, root = scope["path"], scope.get("root_path", "")
    if root and path.startswith(root + "/"):
        return path[len(root) :]
    return path
