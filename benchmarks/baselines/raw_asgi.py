"""The floor: a bare ASGI callable proxying GET requests to the upstream with aiohttp."""

from __future__ import annotations

from typing import Any

import aiohttp
from common import parser, serve

Message = dict[str, Any]


class Proxy:
    def __init__(self, upstream: str, api_key: str) -> None:
        self._upstream = upstream.removesuffix("/v1")
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._session: aiohttp.ClientSession | None = None

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["path"] == "/healthz":
            await _answer(send, 200, b"ok")
            return
        assert self._session is not None
        url = self._upstream + scope["raw_path"].decode("latin-1")
        if scope["query_string"]:
            url += "?" + scope["query_string"].decode("latin-1")
        async with self._session.get(url, headers=self._headers) as response:
            body = await response.read()
            await _answer(send, response.status, body)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        await receive()
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await self._session.close()
        await send({"type": "lifespan.shutdown.complete"})


async def _answer(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    args = parser(__doc__ or "").parse_args()
    serve(Proxy(args.upstream, args.api_key), args.port)
