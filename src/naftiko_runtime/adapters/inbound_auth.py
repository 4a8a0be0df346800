"""Authentication an expose asks of its callers (bearer, apikey, basic), checked on every request.

Health paths stay open so orchestrators can probe. Comparisons are constant-time; a
credential whose variable is missing refuses everyone rather than letting anyone in.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Sequence
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


def admitted(auths: Sequence[InboundAuth | None], scope: Scope) -> bool:
    """Whether a request may pass when any one of `auths` suffices (`None`: open to everyone)."""
    return any(auth is None or auth.admits(scope) for auth in auths)


def challenges(auths: Sequence[InboundAuth | None]) -> list[tuple[bytes, bytes]]:
    return [(b"www-authenticate", auth.challenge) for auth in dict.fromkeys(auths) if auth is not None]


def guard(app: ASGIApp, auths: Sequence[InboundAuth | None]) -> ASGIApp:
    """`app` behind the first of `auths` a request satisfies: 401 problem+json with every challenge otherwise.

    A port shared by files asking different authentication admits what any of them admits;
    the app then checks each route or tool against its own file's (see the MCP adapter).
    """
    kinds = " or ".join(dict.fromkeys(auth.kind for auth in auths if auth is not None))
    headers = challenges(auths)

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in HEALTH_PATHS or admitted(auths, scope):
            await app(scope, receive, send)
            return
        await send_problem(send, problem(401, "Unauthorized", f"this adapter requires {kinds} authentication"), headers)

    return guarded
