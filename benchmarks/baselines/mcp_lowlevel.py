"""A minimal hand-written MCP server on the SDK's low-level `Server`: one tool calling the upstream.

`check-api-key` GETs the upstream with aiohttp and returns its JSON as text and structured
content. Streamable HTTP at /mcp, stateless with JSON responses (the transport naftiko is
measured in), with the SDK's defaults otherwise.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import mcp_types as types
from common import parser, serve
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

TOOL = types.Tool(
    name="check-api-key",
    description="Check API key",
    input_schema={"type": "object", "properties": {}},
    annotations=types.ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True),
)


def build(upstream: str, api_key: str) -> Server[dict[str, Any]]:
    url = f"{upstream}/check-api-key"
    headers = {"Authorization": f"Bearer {api_key}"}

    @asynccontextmanager
    async def lifespan(_server: Server[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:
            yield {"http": session}

    async def list_tools(
        _ctx: ServerRequestContext[dict[str, Any]], _params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[TOOL])

    async def call_tool(
        ctx: ServerRequestContext[dict[str, Any]], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        if params.name != TOOL.name:
            raise MCPError(types.INVALID_PARAMS, f"unknown tool: {params.name}")
        session: aiohttp.ClientSession = ctx.lifespan_context["http"]
        async with session.get(url, headers=headers) as response:
            body = await response.read()
        text = body.decode()
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=text)],
            structured_content=json.loads(body),
            is_error=response.status >= 400,
        )

    return Server("bench-lowlevel", lifespan=lifespan, on_list_tools=list_tools, on_call_tool=call_tool)


async def health(_request: Request) -> Response:
    return PlainTextResponse("ok")


if __name__ == "__main__":
    args = parser(__doc__ or "").parse_args()
    server = build(args.upstream, args.api_key)
    app = server.streamable_http_app(
        stateless_http=True, json_response=True, custom_starlette_routes=[Route("/healthz", health)]
    )
    serve(app, args.port)
