"""A minimal hand-written Starlette proxy: GET /v1/{path} to the upstream, with aiohttp (or httpx).

`--client httpx` runs the same proxy on httpx 0.28 to re-measure the choice of upstream client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from common import parser, serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

Fetch = Callable[[str], Awaitable[tuple[int, bytes]]]


@asynccontextmanager
async def aiohttp_fetch(headers: dict[str, str]) -> AsyncIterator[Fetch]:
    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:

        async def fetch(url: str) -> tuple[int, bytes]:
            async with session.get(url, headers=headers) as response:
                return response.status, await response.read()

        yield fetch


@asynccontextmanager
async def httpx_fetch(headers: dict[str, str]) -> AsyncIterator[Fetch]:
    import httpx

    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(limits=limits) as client:

        async def fetch(url: str) -> tuple[int, bytes]:
            response = await client.get(url, headers=headers)
            return response.status_code, response.content

        yield fetch


CLIENTS = {"aiohttp": aiohttp_fetch, "httpx": httpx_fetch}


def build(upstream: str, api_key: str, client: str) -> Starlette:
    headers = {"Authorization": f"Bearer {api_key}"}
    fetcher: list[Fetch] = []

    async def proxy(request: Request) -> Response:
        url = f"{upstream}/{request.path_params['path']}"
        if request.url.query:
            url += "?" + request.url.query
        status, body = await fetcher[0](url)
        return Response(body, status_code=status, media_type="application/json")

    async def health(_request: Request) -> Response:
        return PlainTextResponse("ok")

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with CLIENTS[client](headers) as fetch:
            fetcher.append(fetch)
            yield

    return Starlette(
        routes=[Route("/healthz", health), Route("/v1/{path:path}", proxy)],
        lifespan=lifespan,
    )


if __name__ == "__main__":
    options = parser(__doc__ or "")
    options.add_argument("--client", choices=sorted(CLIENTS), default="aiohttp")
    args = options.parse_args()
    serve(build(args.upstream, args.api_key, args.client), args.port)
