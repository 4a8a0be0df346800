"""An expose protected by OAuth 2.1 as a resource server: what a request's bearer token must prove.

The token (from the `Authorization: Bearer` header only) is a JWT checked against the
authorization server's keys, or, with `tokenValidation: introspection`, an opaque token the
server is asked about (RFC 7662). It must be for this resource (`audience`, else `resource`)
and carry every declared scope. Refusals carry the RFC 6750 challenge with the RFC 9728
`resource_metadata` URL, which is how MCP clients find the authorization server; the
metadata document itself is served by `inbound_auth.publish_metadata`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from naftiko_runtime.adapters.asgi import Scope

if TYPE_CHECKING:
    from naftiko_runtime.adapters.oauth_server import AuthorizationServer

WELL_KNOWN = "/.well-known/oauth-protected-resource"


@dataclass(frozen=True, slots=True)
class TokenFailure:
    status: int  # 401: no token or a bad one; 403: a scope is missing; 503: the authorization server cannot be asked
    description: str
    error: str | None = None  # RFC 6750: invalid_token | insufficient_scope; none when no token came


class OAuthResource:
    """One expose's OAuth settings and key cache (so it compares by identity)."""

    def __init__(
        self,
        issuer: str,
        resource: str,
        *,
        audience: str | None = None,
        scopes: Sequence[str] = (),
        introspection: bool = False,
        server: AuthorizationServer | None = None,
    ) -> None:
        self.issuer = issuer
        self.resource = resource
        self.scopes = tuple(scopes)
        self.introspection = introspection
        self._server = server
        bare_issuer = issuer.rstrip("/")
        self._issuers = frozenset({issuer, bare_issuer, bare_issuer + "/"})
        self._audiences = (audience,) if audience else tuple(dict.fromkeys((resource, resource.rstrip("/"))))
        # RFC 9728 section 3.1: the well-known segment goes between the host and the resource's path.
        parts = urlsplit(resource)
        path = parts.path.rstrip("/")
        self.metadata_url = urlunsplit((parts.scheme, parts.netloc, WELL_KNOWN + path, "", ""))
        self.metadata_paths = frozenset({WELL_KNOWN, WELL_KNOWN + path})
        document: dict[str, Any] = {
            "resource": resource,
            "authorization_servers": [issuer],
            "bearer_methods_supported": ["header"],
        }
        if self.scopes:
            document["scopes_supported"] = list(self.scopes)
        self.metadata_document = json.dumps(document).encode()

    async def verify(self, scope: Scope) -> TokenFailure | None:
        """None when the request's token admits it, else why not."""
        token = bearer_token(scope)
        if token is None:
            return TokenFailure(401, "no bearer token was sent")
        # Imported on first use: `validate` and `list` load capabilities without PyJWT or aiohttp.
        from naftiko_runtime.adapters import oauth_tokens
        from naftiko_runtime.adapters.oauth_server import Unavailable

        expected = oauth_tokens.Expected(self._issuers, self._audiences)
        server = self._authorization_server()
        try:
            if self.introspection:
                claims = oauth_tokens.checked_introspection(await server.introspect(token), expected)
            else:
                claims = await oauth_tokens.verified_jwt(token, server, expected)
        except oauth_tokens.InvalidToken as exc:
            return TokenFailure(401, str(exc), "invalid_token")
        except Unavailable as exc:
            return TokenFailure(503, str(exc))
        granted = oauth_tokens.granted_scopes(claims)
        missing = [needed for needed in self.scopes if needed not in granted]
        if missing:
            return TokenFailure(403, f"the token lacks scope {' '.join(missing)}", "insufficient_scope")
        return None

    def challenge(self, failure: TokenFailure | None = None) -> bytes:
        """The `WWW-Authenticate` value for a refusal (RFC 6750 section 3, RFC 9728 section 5.1)."""
        params = []
        if failure is not None and failure.error:
            params += [f'error="{failure.error}"', f"error_description={_quoted(failure.description)}"]
        if self.scopes:
            params.append(f"scope={_quoted(' '.join(self.scopes))}")
        params.append(f"resource_metadata={_quoted(self.metadata_url)}")
        return ("Bearer " + ", ".join(params)).encode()

    def _authorization_server(self) -> AuthorizationServer:
        if self._server is None:
            from naftiko_runtime.adapters.oauth_server import AuthorizationServer

            self._server = AuthorizationServer(self.issuer)
        return self._server


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
