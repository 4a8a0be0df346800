"""`--metrics-port`: one more socket on the same server, whose connections get the metrics app."""

from __future__ import annotations

from naftiko_runtime.adapters.asgi import ASGIApp, Receive, Scope, Send


class OnPort:
    """Connections arriving on `port` go to `app`; everything else (the lifespan too) to `rest`."""

    def __init__(self, port: int, app: ASGIApp, rest: ASGIApp) -> None:
        self._port = port
        self._app = app
        self._rest = rest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server")
        if scope["type"] == "http" and server is not None and server[1] == self._port:
            await self._app(scope, receive, send)
        else:
            await self._rest(scope, receive, send)
