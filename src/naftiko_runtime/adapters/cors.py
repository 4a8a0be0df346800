"""CORS for REST ports (`--cors-origin`): which browser origins may read the answers, preflights included.

Credentials mode is never allowed: callers authenticate with an `Authorization` header or a key,
which a preflight admits like any other request header, so `*` stays a valid answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass

from naftiko_runtime.adapters.asgi import Message, Scope, Send

ANY = "*"
PREFLIGHT_MAX_AGE = b"600"
# Headers a browser script may always read (Fetch's CORS-safelisted response headers).
_SAFELISTED = frozenset(
    {b"cache-control", b"content-language", b"content-length", b"content-type", b"expires", b"last-modified", b"pragma"}
)
# `Vary: Origin` itself comes with every answer (`wrap`).
_VARY_PREFLIGHT = b"Access-Control-Request-Method, Access-Control-Request-Headers"


class CorsOriginError(ValueError):
    pass


def cors_origin(value: str) -> str:
    """A `--cors-origin` value checked and normalised: `*`, or `SCHEME://HOST[:PORT]` as browsers send it."""
    origin = value.strip().lower()
    if origin == ANY:
        return origin
    scheme, sep, rest = origin.partition("://")
    if scheme in ("http", "https") and sep and rest and not any(c in rest for c in "/?#@ *"):
        return origin
    raise CorsOriginError(f"--cors-origin expects * or SCHEME://HOST[:PORT] (no path), got {value!r}")


@dataclass(frozen=True, slots=True)
class CorsPolicy:
    origins: frozenset[bytes]
    any_origin: bool

    @classmethod
    def of(cls, origins: Sequence[str]) -> CorsPolicy | None:
        """The policy for checked `--cors-origin` values; None (no CORS headers at all) without any."""
        if not origins:
            return None
        return cls(frozenset(o.encode("latin-1") for o in origins if o != ANY), ANY in origins)

    def allowed(self, origin: bytes | None) -> bytes | None:
        """The `Access-Control-Allow-Origin` value for a request from `origin`, None when it is not allowed."""
        if origin is None:
            return None
        if self.any_origin:
            return b"*"
        return origin if origin.lower() in self.origins else None

    def wrap(self, scope: Scope, send: Send) -> Send:
        """`send` adding the CORS answer headers to the response this request gets, whatever it is."""
        allow = self.allowed(_header(scope, b"origin"))
        if allow is None and self.any_origin:
            return send
        extra = [] if self.any_origin else [(b"vary", b"Origin")]

        def send_with_cors(message: Message) -> Awaitable[None]:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                added = list(extra)
                if allow is not None:
                    added.append((b"access-control-allow-origin", allow))
                    exposed = [name for name, _ in headers if name.lower() not in _SAFELISTED]
                    if exposed:
                        added.append((b"access-control-expose-headers", b", ".join(dict.fromkeys(exposed))))
                message = {**message, "headers": [*headers, *added]}
            return send(message)

        return send_with_cors

    @staticmethod
    def is_preflight(scope: Scope) -> bool:
        """Whether the request is a browser's CORS preflight (answered here, whatever the path declares)."""
        return scope["method"] == "OPTIONS" and _header(scope, b"access-control-request-method") is not None

    def preflight(self, scope: Scope, methods: bytes) -> list[tuple[bytes, bytes]] | None:
        """The headers answering a CORS preflight for a path allowing `methods`; None when it is no preflight."""
        if not self.is_preflight(scope):
            return None
        if self.allowed(_header(scope, b"origin")) is None:
            return []
        headers = [
            (b"access-control-allow-methods", methods),
            (b"access-control-max-age", PREFLIGHT_MAX_AGE),
            (b"vary", _VARY_PREFLIGHT),
        ]
        requested = _header(scope, b"access-control-request-headers")
        if requested:
            # The route reads only the headers it declares; which others a browser may send is not ours to narrow.
            headers.append((b"access-control-allow-headers", requested))
        return headers


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None
