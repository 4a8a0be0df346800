"""REST `forward` resources: relay requests under a path to a consumes namespace as they are.

Only the incoming headers listed in `trustedHeaders` travel on; the namespace's own fixed
parameters and authentication are added, as for any call. The last placeholder of the
resource path takes the rest of the request path; the upstream answer comes back unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from naftiko_runtime.adapters.inbound_auth import InboundAuth
from naftiko_runtime.consumer.client import UpstreamClient, UpstreamRequest
from naftiko_runtime.consumer.operation import UpstreamOperation
from naftiko_runtime.spec.dialects import PathLiteral, split_path

if TYPE_CHECKING:
    from naftiko_runtime.engine import Action

# Hop-by-hop and framing headers are the transport's business, never forwarded.
_NEVER = frozenset({"host", "connection", "keep-alive", "transfer-encoding", "content-length", "upgrade", "te"})


@dataclass(slots=True)
class Forward:
    path: str
    pattern: re.Pattern[str]
    target: UpstreamOperation
    trusted: frozenset[str]
    client: UpstreamClient | None = None
    inbound_auth: InboundAuth | None = None
    # The route its relays count as for logs, metrics and traces (`* PATH`; never served itself).
    action: Action | None = None

    def request(
        self, method: str, tail: str, query: bytes, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> UpstreamRequest:
        """The upstream request for an incoming one; `tail` is the raw (encoded) rest of the path."""
        base = self.target.build_request({})
        url = base.url.split("?", 1)[0].rstrip("/") + "/" + tail.lstrip("/")
        fixed_query = base.url.split("?", 1)[1] if "?" in base.url else ""
        joined = "&".join(part for part in (fixed_query, query.decode("latin-1")) if part)
        if joined:
            url += "?" + joined
        relayed = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in headers
            if name.decode("latin-1").lower() in self.trusted and name.decode("latin-1").lower() not in _NEVER
        ]
        fixed = [(name, value) for name, value in base.headers if name.lower() not in ("accept", "content-type")]
        content_type = next((v.decode("latin-1") for n, v in headers if n == b"content-type"), None)
        extra = [("Content-Type", content_type)] if content_type and body else []
        return UpstreamRequest(method, url, (*relayed, *fixed, *extra), body or None)


def compile_forward(path: str, target: UpstreamOperation, trusted: list[str]) -> Forward:
    pieces = []
    parts = split_path(path)
    placeholders = [index for index, part in enumerate(parts) if not isinstance(part, PathLiteral)]
    for index, part in enumerate(parts):
        if isinstance(part, PathLiteral):
            pieces.append(re.escape(part.text.rstrip("/") if index == len(parts) - 1 else part.text))
        elif placeholders and index == placeholders[-1]:
            pieces.append("(?P<tail>.+)")
        else:
            pieces.append("[^/]+")
    if not placeholders:
        pieces.append("(?:/(?P<tail>.*))?")
    return Forward(path, re.compile("^" + "".join(pieces) + "$"), target, frozenset(h.lower() for h in trusted))
