"""`UpstreamClient` on aiohttp: one pooled keep-alive session per consumes namespace.

aiohttp keeps the connect timeout; the read and total timeouts are ours (`deadlines.py`), kept
without a timer per request.
"""

from __future__ import annotations

import asyncio
import errno
import functools

import aiohttp
from yarl import URL

from naftiko_runtime.consumer.client import (
    DEFAULT_MAX_BODY_BYTES,
    Timeouts,
    UpstreamRequest,
    UpstreamResponse,
    UpstreamTimeout,
    UpstreamTooLarge,
    UpstreamUnreachable,
)
from naftiko_runtime.consumer.deadlines import Deadlines, Limit
from naftiko_runtime.consumer.network import DIRECT, Route

_READ_CHUNK = 64 * 1024


class AiohttpClient:
    """One pooled keep-alive session for one consumes namespace."""

    def __init__(
        self,
        timeouts: Timeouts | None = None,
        limit: int = 100,
        max_body: int | None = DEFAULT_MAX_BODY_BYTES,
        route: Route = DIRECT,
    ) -> None:
        timeouts = timeouts or Timeouts()
        # Proxy and TLS settings of this namespace (`network.py`), decided once.
        self._route = route
        self._timeouts = timeouts
        self._limit = limit
        # Answers above this many bytes are refused without being read (None: no limit).
        self._max_body = max_body
        self._session: aiohttp.ClientSession | None = None
        self._timeout = _client_timeout(timeouts)
        self._deadlines = Deadlines(timeouts)

    def _open(self) -> aiohttp.ClientSession:
        # Created lazily so the session binds to the loop that serves requests.
        route = self._route
        tls = True if route.tls is None else route.tls
        connector = aiohttp.TCPConnector(limit=self._limit, ttl_dns_cache=300, ssl=tls)
        proxy_auth = aiohttp.BasicAuth(route.proxy_user, route.proxy_password) if route.proxy_user else None
        self._session = aiohttp.ClientSession(
            connector=connector,
            proxy=route.proxy,
            proxy_auth=proxy_auth,
            timeout=self._timeout,
            auto_decompress=True,
            skip_auto_headers=("User-Agent",),
            # URLs arrive encoded by us; aiohttp must not re-quote or normalise them.
            requote_redirect_url=False,
            # One session serves every caller: a cookie one upstream answer sets must not ride along
            # on other callers' requests (a caller's own Cookie header still passes where declared).
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        return self._session

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        session = self._session or self._open()
        own = request.timeouts
        timeouts = own or self._timeouts
        attempt = self._deadlines.watch(own)
        try:
            async with session.request(
                request.method,
                _url(request.url),
                headers=request.headers,
                data=request.body,
                allow_redirects=False,
                timeout=self._timeout if own is None else _client_timeout(own),
            ) as response:
                if attempt is not None:
                    attempt.reading(response.content)
                limit = self._max_body
                if limit is None or _within(response, limit):
                    body = await response.read()
                else:
                    body = await _read_counted(response, limit)
                return UpstreamResponse(
                    status=response.status,
                    headers=response.headers,
                    body=body,
                )
        except asyncio.CancelledError:
            expired = attempt.timed_out() if attempt is not None else None
            if expired is None:
                raise
            raise UpstreamTimeout(_describe_limit(expired, timeouts)) from None
        except TimeoutError as exc:  # aiohttp's: connecting (its only timeout) took too long
            connecting = isinstance(exc, aiohttp.ConnectionTimeoutError)
            message = f"no connection within {timeouts.connect:g} s" if connecting else "no answer in time"
            raise UpstreamTimeout(message, sent=not connecting) from None
        except aiohttp.ClientConnectorError as exc:
            # No connection was made: the upstream never saw the request.
            raise UpstreamUnreachable(_describe_connector_error(exc), sent=False) from None
        except aiohttp.ClientError as exc:
            # Never str(exc): aiohttp's messages carry the URL, which can hold a query API key.
            raise UpstreamUnreachable(_describe_failure(exc)) from None
        finally:
            if attempt is not None:
                self._deadlines.done(attempt)

    async def close(self) -> None:
        self._deadlines.close()
        if self._session is not None:
            await self._session.close()
            self._session = None


@functools.lru_cache(maxsize=4096)
def _url(text: str) -> URL:
    # Most calls repeat a URL; parsing it once saves yarl's work on the request path.
    return URL(text, encoded=True)


def _describe_limit(limit: Limit, timeouts: Timeouts) -> str:
    if limit == "read":
        return f"no answer within {timeouts.read:g} s"
    return f"no complete answer within {timeouts.total:g} s"


def _describe_failure(exc: aiohttp.ClientError) -> str:
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "the connection broke before the whole answer arrived"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the upstream closed the connection without answering"
    if isinstance(exc, ConnectionResetError) or getattr(exc, "errno", None) == errno.ECONNRESET:
        return "the upstream reset the connection"
    return f"connection failed ({type(exc).__name__})"


@functools.lru_cache(maxsize=64)
def _client_timeout(timeouts: Timeouts) -> aiohttp.ClientTimeout:
    """aiohttp's part: the connect timeout only (read and total: `Deadlines`)."""
    return aiohttp.ClientTimeout(total=None, sock_connect=timeouts.connect)


def _within(response: aiohttp.ClientResponse, limit: int) -> bool:
    """Whether the answer declares a length within `limit` that is its length as read (not compressed)."""
    length = response.content_length
    return length is not None and length <= limit and "Content-Encoding" not in response.headers


async def _read_counted(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """An answer not known to fit: `UpstreamTooLarge` as soon as it is known to exceed `limit` bytes."""
    length = response.content_length
    if length is not None and length > limit and "Content-Encoding" not in response.headers:
        response.close()  # drop the connection instead of draining the answer
        raise UpstreamTooLarge(_too_large(limit, length))
    # Unknown length, or compressed: count what decompression yields.
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(_READ_CHUNK):
        size += len(chunk)
        if size > limit:
            response.close()
            raise UpstreamTooLarge(_too_large(limit, None))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int, length: int | None) -> str:
    declared = f" ({length} bytes declared)" if length is not None else ""
    return f"the answer exceeds the {limit}-byte limit{declared}; raise --max-upstream-body-bytes to accept it"


def _describe_connector_error(exc: aiohttp.ClientConnectorError) -> str:
    """Why no connection was made: TLS verification and proxies named, never a URL."""
    where = f"{exc.host}:{exc.port}"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        error = exc.certificate_error
        reason = getattr(error, "verify_message", None) or getattr(error, "reason", None) or type(error).__name__
        return (
            f"TLS verification of {where} failed ({reason}); trust its certificate authority with --ca-file "
            "or SSL_CERT_FILE, or (never in production) --insecure-upstream NAMESPACE"
        )
    if isinstance(exc, aiohttp.ClientConnectorSSLError):
        return f"TLS handshake with {where} failed ({getattr(exc.os_error, 'reason', None) or 'no common protocol'})"
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return f"cannot connect to the proxy {where} (HTTPS_PROXY / HTTP_PROXY)"
    return f"cannot connect to {where}"
