"""The authorization server as a resource server sees it: its metadata, its signing keys, its introspection.

Metadata is discovered from the issuer URI at the well-known locations, in the order the MCP
authorization spec gives clients (RFC 8414 first, then OpenID Connect discovery). Keys are kept
for `ttl` seconds, and fetched again early (at most every `min_refresh` seconds) when a token
names a key the cache lacks, so a rotation is picked up without letting forged key ids hammer
the server. A failed fetch is remembered for `retry_after` seconds; meanwhile keys already held
keep serving. Every request is bounded by `timeout`. Nothing here logs or returns a token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

logger = logging.getLogger("naftiko.oauth")

MAX_DOCUMENT = 1024 * 1024
_JSON = {"accept": "application/json"}


class Unavailable(Exception):
    """The authorization server could not be asked; the message says what failed and where."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class KeySet:
    """One fetched JWK Set; parsed keys are memoised per algorithm for as long as this set is current."""

    def __init__(self, keys: tuple[Mapping[str, Any], ...]) -> None:
        self.keys = keys
        self.kids = frozenset(str(key["kid"]) for key in keys if "kid" in key)
        self.parsed: dict[tuple[int, str], Any] = {}


class AuthorizationServer:
    def __init__(
        self,
        issuer: str,
        *,
        ttl: float = 300.0,
        min_refresh: float = 30.0,
        retry_after: float = 5.0,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer
        self._ttl = ttl
        self._min_refresh = min_refresh
        self._retry_after = retry_after
        self._timeout = timeout
        self._clock = clock
        self._metadata: Mapping[str, Any] | None = None
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._failure: tuple[float, str] | None = None
        self._lock = asyncio.Lock()

    async def keys(self, kid: str | None) -> KeySet:
        """The current key set; fetched when stale, or early when `kid` is not in it."""
        if self._keys is not None and self._fresh() and (kid is None or kid in self._keys.kids):
            return self._keys
        async with self._lock:  # one fetch at a time; the others then find its result
            held = self._keys
            if held is not None and self._fresh():
                early = self._clock() - self._fetched_at < self._min_refresh
                if kid is None or kid in held.kids or early:
                    return held
            if self._failure is not None and self._clock() - self._failure[0] < self._retry_after:
                if held is None:
                    raise Unavailable(self._failure[1])
                return held
            try:
                metadata = await self._discovered()
                jwks_uri = metadata.get("jwks_uri")
                if not isinstance(jwks_uri, str) or not jwks_uri:
                    raise Unavailable(f"the metadata of {_shown(self.issuer)} names no jwks_uri")
                document = await self._fetch("GET", jwks_uri)
                keys = document.get("keys") if isinstance(document, dict) else None
                if not isinstance(keys, list):
                    raise Unavailable(f"{_shown(jwks_uri)} is not a JWK Set (no 'keys' list)")
            except Unavailable as exc:
                self._remember(exc)
                if held is None:
                    raise
                return held  # stale keys serve while the server cannot be reached
            self._keys = KeySet(tuple(key for key in keys if isinstance(key, dict)))
            self._fetched_at = self._clock()
            self._failure = None
            return self._keys

    async def introspect(self, token: str) -> Mapping[str, Any]:
        """The RFC 7662 answer about `token` (sent in the body, as the RFC asks; never logged)."""
        metadata = self._metadata
        if metadata is None:
            async with self._lock:
                if self._failure is not None and self._clock() - self._failure[0] < self._retry_after:
                    raise Unavailable(self._failure[1])
                try:
                    metadata = await self._discovered()
                except Unavailable as exc:
                    self._remember(exc)
                    raise
        endpoint = metadata.get("introspection_endpoint")
        if not isinstance(endpoint, str) or not endpoint:
            raise Unavailable(f"the metadata of {_shown(self.issuer)} names no introspection_endpoint")
        answer = await self._fetch("POST", endpoint, {"token": token, "token_type_hint": "access_token"})
        if not isinstance(answer, dict):
            raise Unavailable(f"{_shown(endpoint)} did not answer a JSON object")
        return answer

    def _fresh(self) -> bool:
        return self._clock() - self._fetched_at < self._ttl

    def _remember(self, exc: Unavailable) -> None:
        self._failure = (self._clock(), str(exc))
        logger.warning("authorization server %s: %s", _shown(self.issuer), exc)

    async def _discovered(self) -> Mapping[str, Any]:
        if self._metadata is not None:
            return self._metadata
        tried: list[str] = []
        for url in metadata_urls(self.issuer):
            try:
                document = await self._fetch("GET", url)
            except Unavailable as exc:
                if exc.status is None:
                    raise  # the server cannot be reached: the other locations cannot be either
                tried.append(f"{_shown(url)} (HTTP {exc.status})")
                continue
            if not isinstance(document, dict):
                tried.append(f"{_shown(url)} (not a JSON object)")
                continue
            named = document.get("issuer")
            if not isinstance(named, str) or named.rstrip("/") != self.issuer.rstrip("/"):
                raise Unavailable(f"the metadata at {_shown(url)} names issuer {named!r}, not {_shown(self.issuer)}")
            self._metadata = document
            return document
        raise Unavailable(f"no authorization server metadata at {', '.join(tried)}")

    async def _fetch(self, method: str, url: str, form: Mapping[str, str] | None = None) -> Any:
        if urlsplit(url).scheme not in ("http", "https"):
            raise Unavailable(f"{_shown(url)} is not an http(s) URL")
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        try:
            # A session per fetch: fetches are rare (keys are cached), and nothing is left open at shutdown.
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.request(method, url, data=form, headers=_JSON, allow_redirects=False) as response,
            ):
                if response.status != 200:
                    raise Unavailable(f"{_shown(url)} answered HTTP {response.status}", response.status)
                body = await response.content.read(MAX_DOCUMENT + 1)
        except TimeoutError:
            raise Unavailable(f"{_shown(url)} did not answer within {self._timeout:g} s") from None
        except aiohttp.ClientConnectorError:
            raise Unavailable(f"cannot connect to {_shown(url)}") from None
        except aiohttp.ClientError as exc:
            raise Unavailable(f"{_shown(url)} failed ({type(exc).__name__})") from None
        if len(body) > MAX_DOCUMENT:
            raise Unavailable(f"{_shown(url)} answered more than {MAX_DOCUMENT} bytes")
        try:
            return json.loads(body)
        except ValueError:
            raise Unavailable(f"{_shown(url)} did not answer JSON") from None


def metadata_urls(issuer: str) -> list[str]:
    """Where an issuer's metadata may be, most specific first (RFC 8414 section 3, OpenID Connect Discovery)."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")

    def at(well_known: str) -> str:
        return urlunsplit((parts.scheme, parts.netloc, well_known, "", ""))

    if not path:
        return [at("/.well-known/oauth-authorization-server"), at("/.well-known/openid-configuration")]
    return [
        at(f"/.well-known/oauth-authorization-server{path}"),
        at(f"/.well-known/openid-configuration{path}"),
        at(f"{path}/.well-known/openid-configuration"),
    ]


def _shown(url: str) -> str:
    """`url` without any user:password part or query, fit for logs and answers."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
