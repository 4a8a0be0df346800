"""HTTP Digest authentication (RFC 7616) as a wrapper around any `UpstreamClient`.

The first request goes out bare; a 401 carrying a Digest challenge is answered once with the
computed credentials (the upstream refused the first attempt, so sending it again is safe),
and the challenge is kept so later requests authenticate up front.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from naftiko_runtime.consumer.client import UpstreamClient, UpstreamRequest, UpstreamResponse

_PARAM = re.compile(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_HASHES: dict[str, Callable[[], Any]] = {
    "MD5": hashlib.md5,
    "SHA-256": hashlib.sha256,
    "SHA-512-256": lambda: hashlib.new("sha512_256"),
}


@dataclass(slots=True)
class Challenge:
    realm: str
    nonce: str
    qop: str | None
    algorithm: str
    opaque: str | None


def parse_challenge(header: str) -> Challenge | None:
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    values = {name.lower(): quoted or bare for name, quoted, bare in _PARAM.findall(rest)}
    if "nonce" not in values:
        return None
    qops = [q.strip() for q in (values.get("qop") or "").split(",") if q.strip()]
    return Challenge(
        realm=values.get("realm", ""),
        nonce=values["nonce"],
        qop="auth" if "auth" in qops else None,
        algorithm=(values.get("algorithm") or "MD5").upper().removesuffix("-SESS"),
        opaque=values.get("opaque"),
    )


class DigestClient:
    def __init__(self, inner: UpstreamClient, username: str, password: str) -> None:
        self._inner = inner
        self._username = username
        self._password = password
        self._challenge: Challenge | None = None
        self._count = 0

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        if self._challenge is not None:
            response = await self._inner.send(self._signed(request, self._challenge))
        else:
            response = await self._inner.send(request)
        if response.status != 401:
            return response
        challenge = parse_challenge(response.headers.get("www-authenticate", ""))
        if challenge is None or challenge.algorithm not in _HASHES:
            return response
        self._challenge, self._count = challenge, 0
        return await self._inner.send(self._signed(request, challenge))

    async def close(self) -> None:
        await self._inner.close()

    def _signed(self, request: UpstreamRequest, challenge: Challenge) -> UpstreamRequest:
        self._count += 1
        digest = _HASHES[challenge.algorithm]

        def h(text: str) -> str:
            hasher = digest()
            hasher.update(text.encode())
            return str(hasher.hexdigest())

        parts = urlsplit(request.url)
        uri = parts.path + (f"?{parts.query}" if parts.query else "")
        ha1 = h(f"{self._username}:{challenge.realm}:{self._password}")
        ha2 = h(f"{request.method}:{uri}")
        nc, cnonce = f"{self._count:08x}", secrets.token_hex(8)
        if challenge.qop:
            response = h(f"{ha1}:{challenge.nonce}:{nc}:{cnonce}:{challenge.qop}:{ha2}")
        else:
            response = h(f"{ha1}:{challenge.nonce}:{ha2}")
        fields = [
            f'username="{self._username}"',
            f'realm="{challenge.realm}"',
            f'nonce="{challenge.nonce}"',
            f'uri="{uri}"',
            f"algorithm={challenge.algorithm}",
            f'response="{response}"',
        ]
        if challenge.qop:
            fields += [f"qop={challenge.qop}", f"nc={nc}", f'cnonce="{cnonce}"']
        if challenge.opaque:
            fields.append(f'opaque="{challenge.opaque}"')
        headers = [(name, value) for name, value in request.headers if name.lower() != "authorization"]
        headers.append(("Authorization", "Digest " + ", ".join(fields)))
        return replace(request, headers=tuple(headers))
