"""Event streams a shutdown ends, instead of waiting them out.

An MCP client holds a `GET /mcp` stream (server notifications) or a `GET /sse` stream (the
2024-11-05 transport) open for as long as it is connected: the server's graceful period would
always run to its end. These requests run inside a cancel scope that `close` cancels; the
response is then ended properly (an empty last chunk), so the client sees the stream close,
not a broken connection. Other requests pass through untouched.
"""

from __future__ import annotations

from collections.abc import Collection

import anyio

from naftiko_runtime.adapters.asgi import ASGIApp, Message, Receive, Scope, Send, problem, send_problem


class OpenStreams:
    def __init__(self) -> None:
        self._open: dict[anyio.CancelScope, str] = {}
        self.closing = False

    def close(self, paths: Collection[str] | None = None) -> None:
        """End the streams open on `paths` (all when None); from now on such streams are refused."""
        self.closing = True
        for scope, path in list(self._open.items()):
            if paths is None or path in paths:
                scope.cancel()

    def track(self, app: ASGIApp, paths: Collection[str]) -> ASGIApp:
        """`app`, with its GET requests on `paths` closable by `close`."""
        wanted = frozenset(paths)

        async def tracked(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] not in wanted:
                await app(scope, receive, send)
                return
            if self.closing:
                await send_problem(send, problem(503, "Service Unavailable", "the server is shutting down"))
                return
            await self._run(app, scope, receive, send)

        return tracked

    async def _run(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        started = finished = False

        async def watched(message: Message) -> None:
            nonlocal started, finished
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                finished = True
            await send(message)

        with anyio.CancelScope() as cancel:
            self._open[cancel] = scope["path"]
            try:
                await app(scope, receive, watched)
            finally:
                del self._open[cancel]
        if not cancel.cancelled_caught or finished:
            return
        if started:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        else:
            await send_problem(send, problem(503, "Service Unavailable", "the server is shutting down"))
