"""Serving below a path prefix (`HAYHOOKS_ROOT_PATH`, or an API Gateway stage).

Sets the ASGI `root_path`, so routes match below it and `/docs` links to `<root>/openapi.json`, and accepts
requests with or without the prefix in the path: API Gateway sometimes keeps a base path in the path it
sends and sometimes strips it, and `make run` should answer the same URLs as the deployed function.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send


class RootPathMiddleware:
    def __init__(self, app: ASGIApp, root: str = "", resolve: Callable[[Scope], str] | None = None) -> None:
        self.app = app
        self.root = root
        self.resolve = resolve  # per-request prefix (the stage), used when no fixed root is set

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            root = self.root or (self.resolve(scope) if self.resolve else "")
            if root:
                scope["root_path"] = root
                if scope["path"] != root and not scope["path"].startswith(root + "/"):
                    scope["path"] = root + scope["path"]
        await self.app(scope, receive, send)


def route_path(scope: Scope) -> str:
    """The path the router matches: below `root_path` (a stage or HAYHOOKS_ROOT_PATH), as Starlette does."""
    path, root = scope["path"], scope.get("root_path", "")
    if root and path.startswith(root + "/"):
        return path[len(root) :]
    return path
