"""The HTTP+SSE transport of revision 2024-11-05, for clients that predate Streamable HTTP.

A client opens `GET /sse`, is told where to post its messages (`/messages/?session_id=...`) and
reads every answer from that stream. Each stream is a session of its own, held by this process.
"""

from __future__ import annotations

from typing import Any

from mcp.server.lowlevel import Server
from mcp.server.sse import SseServerTransport

from naftiko_runtime.adapters.asgi import Receive, Scope, Send, problem, send_problem

SSE_PATH = "/sse"
MESSAGES_PATH = "/messages/"
SSE_PATHS = frozenset({SSE_PATH, MESSAGES_PATH})


class LegacySse:
    """`GET /sse` and `POST /messages/` for one MCP server."""

    def __init__(self, server: Server[Any]) -> None:
        self._server = server
        self._transport = SseServerTransport(MESSAGES_PATH)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == MESSAGES_PATH:
            await self._transport.handle_post_message(scope, receive, send)
        elif scope["method"] != "GET":
            detail = f"{SSE_PATH} opens an event stream with GET; messages are posted to {MESSAGES_PATH}"
            await send_problem(send, problem(405, "Method Not Allowed", detail), [(b"allow", b"GET")])
        else:
            async with self._transport.connect_sse(scope, receive, send) as (read, write):
                await self._server.run(read, write, self._server.create_initialization_options())
