"""Which upstream response headers a REST answer passes on: an explicit allowlist, nothing else.

Passed: where a created or moved thing is (`Location`), when to come back (`Retry-After`), the
rate-limit state (`RateLimit`, `RateLimit-Policy`, `RateLimit-*`, `X-RateLimit-*`, `X-Rate-Limit-*`)
and the deprecation notices (`Deprecation`, `Sunset`): they describe the call, so they stay true
whatever the output mapping makes of the body. `Content-Disposition` (a download's file name) only
with a body passed on as it came.

Never: hop-by-hop headers and `Set-Cookie` (not on the list), nor a listed header the upstream's
`Connection` names as hop-by-hop. Left out on purpose: caching headers (`Cache-Control`, `ETag`,
`Last-Modified`: the facade's answer may be mapped, and its callers authenticate differently) and
`Link`/`Content-Location` (upstream URLs a facade caller cannot follow).
"""

from __future__ import annotations

from collections.abc import Mapping

_NAMES = frozenset({"location", "retry-after", "ratelimit", "deprecation", "sunset"})
_PREFIXES = ("ratelimit-", "x-ratelimit-", "x-rate-limit-")
_AS_IS_NAMES = frozenset({*_NAMES, "content-disposition"})

Headers = list[tuple[bytes, bytes]]


def passed_headers(upstream: Mapping[str, str], *, body_as_is: bool = False) -> Headers:
    """The allowlisted headers of an upstream answer, as ASGI pairs (repeated headers kept)."""
    if not upstream:
        return []
    names = _AS_IS_NAMES if body_as_is else _NAMES
    passed: Headers = []
    hop_by_hop: set[str] | None = None
    for name, value in upstream.items():
        lowered = name.lower()
        if lowered in names or lowered.startswith(_PREFIXES):
            if hop_by_hop is None:
                hop_by_hop = _connection_tokens(upstream)
            if lowered not in hop_by_hop:
                passed.append((lowered.encode("latin-1"), value.encode("latin-1", "replace")))
    return passed


def _connection_tokens(upstream: Mapping[str, str]) -> set[str]:
    value = upstream.get("connection") or upstream.get("Connection") or ""
    return {token.strip().lower() for token in value.split(",") if token.strip()}
