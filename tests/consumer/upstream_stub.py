"""A real upstream for in-process tests: aiohttp.web on 127.0.0.1:<free port>, in the test's own loop.

It records every request exactly as it arrived on the socket (raw path, query, headers, body,
the client's port) and answers what the test scripted. `hold()` makes it keep requests
waiting until `stop()`, which is how read timeouts are provoked without sleeping; `trickle()`
sends an answer's body in parts, as a slow upstream does.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from aiohttp import web
from multidict import CIMultiDict


@dataclass(frozen=True)
class Received:
    method: str
    raw_path: str  # still percent-encoded, no query string
    query_string: str
    headers: CIMultiDict[str]
    body: bytes
    client_port: int

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query_string, keep_blank_values=True)

    @property
    def segments(self) -> list[str]:
        """The path split on `/` first, then each segment percent-decoded on its own."""
        return [unquote(segment) for segment in self.raw_path.split("/")[1:]]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b'{"ok": true}'
    content_type: str | None = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


class StubUpstream:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._answer = Answer()
        self._held = False
        self._trickle: tuple[int, float | None] | None = None
        self._release = asyncio.Event()
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def last(self) -> Received:
        assert self.requests, "the upstream received no request"
        return self.requests[-1]

    def answer(
        self,
        status: int = 200,
        *,
        json_body: Any = None,
        body: bytes | None = None,
        content_type: str | None = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        """What every following request is answered with (at once: `trickle()` is undone)."""
        self._trickle = None
        raw = body if body is not None else json.dumps({"ok": True} if json_body is None else json_body).encode()
        self._answer = Answer(status, raw, content_type, tuple((headers or {}).items()))

    async def arrivals(self, count: int) -> None:
        """Return once `count` requests have arrived."""
        async with self._arrived:
            await self._arrived.wait_for(lambda: len(self.requests) >= count)

    def hold(self) -> None:
        """Keep every following request waiting for its answer until `stop()`."""
        self._held = True

    def trickle(self, parts: int, every: float | None) -> None:
        """Answer every following request's headers at once, then its body in `parts` parts, one
        each `every` seconds; `every=None`: the first part, then nothing more until `stop()`."""
        self._trickle = (parts, every)

    async def start(self) -> StubUpstream:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        path, _, query = request.raw_path.partition("?")
        self.requests.append(
            Received(
                method=request.method,
                raw_path=path,
                query_string=query,
                headers=CIMultiDict(request.headers),
                body=await request.read(),
                client_port=peer[1] if peer else 0,
            )
        )
        async with self._arrived:
            self._arrived.notify_all()
        if self._held:
            await self._release.wait()
        answer = self._answer
        headers = CIMultiDict(answer.headers)
        if answer.content_type:
            headers["Content-Type"] = answer.content_type
        if self._trickle is not None:
            return await self._trickled(request, answer, headers, *self._trickle)
        return web.Response(status=answer.status, body=answer.body or None, headers=headers)

    async def _trickled(
        self, request: web.Request, answer: Answer, headers: CIMultiDict[str], parts: int, every: float | None
    ) -> web.StreamResponse:
        response = web.StreamResponse(status=answer.status, headers=headers)
        await response.prepare(request)
        for index in range(parts):
            if index:
                if every is None:
                    await self._release.wait()
                    break
                await asyncio.sleep(every)
            await response.write(answer.body)
        await response.write_eof()
        return response
