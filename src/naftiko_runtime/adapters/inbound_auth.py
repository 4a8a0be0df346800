"""Authentication an expose asks of its callers (bearer, apikey, basic), checked on every request.

Health paths stay open so orchestrators can probe. Comparisons are constant-time; a
credential whose variable is missing refuses everyone rather than letting anyone in.
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass
from urllib.parse import parse_qsl

from naftiko_runtime.adapters.asgi import HEALTH_PATHS, ASGIApp, Receive, Scope, Send, problem, send_problem


@dataclass(frozen=True, slots=True)
class InboundAuth:
    kind: str  # bearer | apikey | basic
    expected: str  # the token, key value or "user:password"; empty = nobody can pass
    key: str = ""  # apikey: the header or query parameter name
    in_query: bool = False

    @property
    def challenge(self) -> bytes:
        if self.kind == "basic":
            return b'Basic realm="naftiko"'
        if self.kind == "bearer":
            return b'Bearer realm="naftiko"'
        return f'ApiKey realm="naftiko", name="{self.key}"'.encode()

    def admits(self, scope: Scope) -> bool:
        presented = self._presented(scope)
        if not self.expected or presented is None:
            return False
        return hmac.compare_digest(presented.encode(), self.expected.encode())

    def _presented(self, scope: Scope) -> str | None:
        if self.kind == "apikey" and self.in_query:
            query = scope.get("query_string", b"").decode("latin-1")
            return next((value for name, value in parse_qsl(query) if name == self.key), None)
        wanted = (self.key if self.kind == "apikey" else "authorization").lower().encode()
        value: str | None = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == wanted), None)
        if value is None or self.kind == "apikey":
            return value
        scheme, _, credential = value.partition(" ")
        if scheme.lower() != self.kind:
            return None
        if self.kind == "basic":
            try:
                return base64.b64decode(credential.strip(), validate=True).decode("utf-8")
            except ValueError:
                return None
        return credential.strip()


def guard(app: ASGIApp, auth: InboundAuth) -> ASGIApp:
    """`app` behind `auth`: 401 problem+json with a WWW-Authenticate challenge when refused."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in HEALTH_PATHS or auth.admits(scope):
            await app(scope, receive, send)
            return
        await send_problem(
            send,
            problem(401, "Unauthorized", f"this adapter requires {auth.kind} authentication"),
            [(b"www-authenticate", auth.challenge)],
        )

    return guarded
