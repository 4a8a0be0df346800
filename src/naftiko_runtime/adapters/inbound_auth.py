"""Authentication an expose asks of its callers (bearer, apikey, basic, oauth2), checked on every request.

Health paths stay open so orchestrators can probe, and so does the OAuth protected resource
metadata clients need before they have a token. Secret comparisons are constant-time; a
credential whose variable is missing refuses everyone rather than letting anyone in. An oauth2
expose checks tokens as a resource server (see `oauth_resource`), which may ask the
authorization server, so every check is awaited.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from naftiko_runtime.adapters.asgi import HEALTH_PATHS, ASGIApp, Receive, Scope, Send, problem, send_bytes, send_problem
from naftiko_runtime.adapters.oauth_resource import WELL_KNOWN, OAuthResource

_TITLES = {401: "Unauthorized", 403: "Forbidden", 503: "Service Unavailable"}


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int  # 401, 403 (a scope is missing) or 503 (tokens cannot be checked now)
    reason: str  # completes "this route ..." / "this adapter ..."
    challenges: tuple[bytes, ...] = ()

    @property
    def title(self) -> str:
        return _TITLES.get(self.status, "Unauthorized")

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"www-authenticate", challenge) for challenge in self.challenges]


@dataclass(frozen=True, slots=True)
class InboundAuth:
    kind: str  # bearer | apikey | basic | oauth2
    expected: str  # the token, key value or "user:password"; empty (and no `oauth`) = nobody can pass
    key: str = ""  # apikey: the header or query parameter name
    in_query: bool = False
    oauth: OAuthResource | None = None  # oauth2: tokens checked as a resource server

    @property
    def challenge(self) -> bytes:
        if self.oauth is not None:
            return self.oauth.challenge()
        if self.kind == "basic":
            return b'Basic realm="naftiko"'
        if self.kind == "apikey":
            return f'ApiKey realm="naftiko", name="{self.key}"'.encode()
        return b'Bearer realm="naftiko"'

    async def check(self, scope: Scope) -> Refusal | None:
        """None when the request may pass, else how to refuse it."""
        if self.oauth is None:
            if self._admits(scope):
                return None
            return Refusal(401, f"requires {self.kind} authentication", (self.challenge,))
        failure = await self.oauth.verify(scope)
        if failure is None:
            return None
        if failure.status == 503:
            return Refusal(503, f"cannot check {self.kind} tokens: {failure.description}")
        return Refusal(
            failure.status,
            f"requires {self.kind} authentication: {failure.description}",
            (self.oauth.challenge(failure),),
        )

    def _admits(self, scope: Scope) -> bool:
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


async def refusal(auths: Sequence[InboundAuth | None], scope: Scope) -> Refusal | None:
    """None when any one of `auths` admits the request (`None`: open to everyone), else the refusal to send.

    A valid token short of a scope (403) says more than "not authenticated", and an authorization
    server that cannot be asked (503) must not read as a bad credential; otherwise every 401
    challenge is offered.
    """
    refusals: list[Refusal] = []
    for auth in auths:
        if auth is None:
            return None
        refused = await auth.check(scope)
        if refused is None:
            return None
        refusals.append(refused)
    for status in (403, 503):
        chosen = next((r for r in refusals if r.status == status), None)
        if chosen is not None:
            return chosen
    if len(refusals) == 1:
        return refusals[0]
    kinds = " or ".join(dict.fromkeys(auth.kind for auth in auths if auth is not None))
    challenges = tuple(dict.fromkeys(c for r in refusals for c in r.challenges))
    return Refusal(401, f"requires {kinds} authentication", challenges)


def guard(
    app: ASGIApp,
    auths: Sequence[InboundAuth | None],
    metadata_suffixes: Sequence[str] = (),
    on_refusal: Callable[[], None] | None = None,
) -> ASGIApp:
    """`app` behind the first of `auths` a request satisfies: 401/403/503 problem+json otherwise
    (`on_refusal` told of each: the rejected-calls metric).

    A port shared by files asking different authentication admits what any of them admits;
    the app then checks each route or tool against its own file's (see the MCP adapter).
    Secret checks run before any that may ask an authorization server.
    """
    ordered = sorted(auths, key=lambda auth: auth is not None and auth.oauth is not None)

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in HEALTH_PATHS:
            await app(scope, receive, send)
            return
        refused = await refusal(ordered, scope)
        if refused is None:
            await app(scope, receive, send)
            return
        if on_refusal is not None:
            on_refusal()
        detail = f"this adapter {refused.reason}"
        await send_problem(send, problem(refused.status, refused.title, detail), refused.headers)

    return publish_metadata(guarded, auths, metadata_suffixes)


def publish_metadata(app: ASGIApp, auths: Sequence[InboundAuth | None], suffixes: Sequence[str] = ()) -> ASGIApp:
    """`app` with the RFC 9728 metadata of its oauth2 auths, open to all, at `/.well-known/oauth-protected-resource`.

    Each document is served at the root form, at the form suffixed with its resource's path,
    and at each of `suffixes` (the MCP endpoint path, which MCP clients try first).
    """
    documents: dict[str, bytes] = {}
    for auth in auths:
        if auth is not None and auth.oauth is not None:
            oauth = auth.oauth
            paths = [*sorted(oauth.metadata_paths), *(WELL_KNOWN + suffix for suffix in suffixes)]
            for path in paths:
                documents.setdefault(path, oauth.metadata_document)
    if not documents:
        return app

    async def published(scope: Scope, receive: Receive, send: Send) -> None:
        document = documents.get(scope["path"]) if scope["type"] == "http" else None
        if document is None:
            await app(scope, receive, send)
        elif scope["method"] not in ("GET", "HEAD"):
            await send_problem(
                send, problem(405, "Method Not Allowed", "resource metadata is read with GET"), [(b"allow", b"GET")]
            )
        else:
            # Public metadata: browser-based MCP clients read it cross-origin.
            await send_bytes(send, 200, document, b"application/json", [(b"access-control-allow-origin", b"*")])

    return published
