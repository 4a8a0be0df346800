"""The upstream HTTP client seam: our own small interface, aiohttp behind it.

Everything above this module speaks `UpstreamRequest` / `UpstreamResponse`; swapping
the library (pyreqwest once stable) or putting a fake behind it (the mock upstream,
unit tests) means implementing `UpstreamClient` and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp
from yarl import URL


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds allowed to connect and to wait for each read of the answer."""

    connect: float = 5.0
    read: float = 30.0


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    """A fully built request: `url` is absolute and already percent-encoded."""

    method: str
    url: str
    headers: Sequence[tuple[str, str]] = ()
    body: bytes | None = None


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", self.headers.get("Content-Type", ""))


class UpstreamError(Exception):
    """The upstream could not be asked or did not answer; the message is safe to show."""


class UpstreamUnreachable(UpstreamError):
    pass


class UpstreamTimeout(UpstreamError):
    pass


class UpstreamClient(Protocol):
    async def send(self, request: UpstreamRequest) -> UpstreamResponse: ...

    async def close(self) -> None: ...


class AiohttpClient:
    """One pooled keep-alive session for one consumes namespace."""

    def __init__(self, timeouts: Timeouts = Timeouts(), limit: int = 100) -> None:
        self._timeouts = timeouts
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeouts.connect, sock_read=timeouts.read)

    def _open(self) -> aiohttp.ClientSession:
        # Created lazily so the session binds to the loop that serves requests.
        connector = aiohttp.TCPConnector(limit=self._limit, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            auto_decompress=True,
            skip_auto_headers=("User-Agent",),
            # URLs arrive encoded by us; aiohttp must not re-quote or normalise them.
            requote_redirect_url=False,
        )
        return self._session

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        session = self._session or self._open()
        try:
            async with session.request(
                request.method,
                URL(request.url, encoded=True),
                headers=list(request.headers),
                data=request.body,
                allow_redirects=False,
            ) as response:
                body = await response.read()
                return UpstreamResponse(
                    status=response.status,
                    headers={k.lower(): v for k, v in response.headers.items()},
                    body=body,
                )
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise UpstreamTimeout(_describe_timeout(exc, self._timeouts)) from None
        except aiohttp.ClientConnectorError as exc:
            raise UpstreamUnreachable(f"cannot connect to {exc.host}:{exc.port}") from None
        except aiohttp.ClientError as exc:
            raise UpstreamUnreachable(f"connection failed ({type(exc).__name__})") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _describe_timeout(exc: BaseException, timeouts: Timeouts) -> str:
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return f"no connection within {timeouts.connect:g} s"
    return f"no answer within {timeouts.read:g} s"
