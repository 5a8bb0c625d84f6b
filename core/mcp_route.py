"""`/mcp`: the route is added at cold start; the MCP SDK is imported by the first request that reaches it.

A function that never receives an MCP request never imports the SDK (core/mcp_server.py), so its cold
start is what it was without MCP. Auth, limits and CORS are the app's middleware, as for every route.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

MCP_PATH = "/mcp"


class McpEndpoint:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.server: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.server is None:  # two first requests at once (make run) may both build one: either will do
            from core.mcp_server import McpServer

            self.server = McpServer(self.app)
        await self.server(scope, receive, send)


def add_mcp_route(app: Any) -> None:
    app.router.routes.append(Route(MCP_PATH, McpEndpoint(app), include_in_schema=False))
