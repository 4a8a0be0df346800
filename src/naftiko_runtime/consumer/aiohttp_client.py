"""`UpstreamClient` on aiohttp: one pooled keep-alive session per consumes namespace."""

from __future__ import annotations

import functools

import aiohttp
from yarl import URL

from naftiko_runtime.consumer.client import (
    Timeouts,
    UpstreamRequest,
    UpstreamResponse,
    UpstreamTimeout,
    UpstreamUnreachable,
)


class AiohttpClient:
    """One pooled keep-alive session for one consumes namespace."""

    def __init__(self, timeouts: Timeouts | None = None, limit: int = 100) -> None:
        timeouts = timeouts or Timeouts()
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
                _url(request.url),
                headers=request.headers,
                data=request.body,
                allow_redirects=False,
            ) as response:
                body = await response.read()
                return UpstreamResponse(
                    status=response.status,
                    headers=response.headers,
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


@functools.lru_cache(maxsize=4096)
def _url(text: str) -> URL:
    # Most calls repeat a URL; parsing it once saves yarl's work on the request path.
    return URL(text, encoded=True)


def _describe_timeout(exc: BaseException, timeouts: Timeouts) -> str:
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return f"no connection within {timeouts.connect:g} s"
    return f"no answer within {timeouts.read:g} s"
