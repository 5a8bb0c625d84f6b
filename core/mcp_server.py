"""MCP over streamable HTTP at `/mcp`, stateless, with the official SDK: imported by the first MCP request.

Stateless because on Lambda any request may be the first an execution environment sees, and the next
request of the same client may reach another one: no session id, `tools/list` and `tools/call` work with or
without a prior `initialize` (and without a handshake at all for the 2026-07-28 protocol). Every POST is
answered with one JSON body (`json_response`): API Gateway delivers a response whole anyway. GET (a stream
of server-initiated messages) and DELETE (ending a session) have nothing to serve here: 405.

The SDK's `StreamableHTTPSessionManager.run()` may be entered once per manager, and only from a lifespan,
which Mangum would run per invocation (here it is off). So each request gets its own manager, entered
around that one request: a few objects and a task group, and nothing that outlives the request.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp_types import (
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    PaginatedRequestParams,
    TextContent,
    Tool,
)
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from core import mcp_tools
from core.app_services import services_of
from core.registry import Registry

SERVER_NAME = "haystack-lambda"

# the HTTP request the MCP message arrived in: the SDK runs the handlers in tasks it starts, which inherit it
_http_request: ContextVar[Request] = ContextVar("mcp_http_request")


class McpServer:
    """The ASGI app behind `/mcp`: one SDK `Server` for the life of the environment, a transport per request."""

    def __init__(self, app: Any) -> None:
        services = services_of(app)
        self.registry: Registry = services.registry
        self.max_body = services.settings.max_request_bytes
        # a manager and a transport per request: the SDK logs their start and end at INFO, three lines per
        # MCP request (in CloudWatch on Lambda) that say nothing the access log does not
        for name in ("mcp.server.streamable_http_manager", "mcp.server.streamable_http"):
            logging.getLogger(name).setLevel(logging.WARNING)
        self.server: Server[Any] = Server(
            SERVER_NAME,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            get_tool_input_schema=lambda name: mcp_tools.tool_schema(self.registry, name),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] in ("GET", "DELETE"):
            detail = "This MCP endpoint is stateless: POST each JSON-RPC message (no session, no GET stream)"
            await JSONResponse({"detail": detail}, status_code=405, headers={"Allow": "POST"})(scope, receive, send)
            return
        token = _http_request.set(Request(scope, receive))
        try:
            manager = StreamableHTTPSessionManager(
                self.server, json_response=True, stateless=True, max_request_body_size=self.max_body
            )
            async with manager.run():
                await manager.handle_request(scope, receive, send)
        finally:
            _http_request.reset(token)

    async def _list_tools(self, ctx: Any, params: PaginatedRequestParams | None) -> ListToolsResult:
        tools = await mcp_tools.list_tools(self.registry)
        return ListToolsResult(
            tools=[Tool(name=t["name"], description=t["description"], input_schema=t["inputSchema"]) for t in tools]
        )

    async def _call_tool(self, ctx: Any, params: CallToolRequestParams) -> CallToolResult:
        answer = await mcp_tools.call_tool(_http_request.get(), params.name, params.arguments)
        return CallToolResult(content=[TextContent(type="text", text=answer.text)], is_error=answer.is_error)
