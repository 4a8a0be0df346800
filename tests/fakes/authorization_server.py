"""A fake OAuth authorization server: RFC 8414 metadata, a JWKS, RFC 7662 introspection, and tokens it signs.

It holds an RSA and an EC key pair generated per instance, publishes their public halves, and
signs tokens for the tests (valid ones, or broken in exactly one way). Served on a free port
by `FakeServer`, which records each request (so tests can count key fetches).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from tests.fakes.recording import FakeServer

RSA_KID = "rsa-1"
EC_KID = "ec-1"


def _jwk(public: Any, algorithm: type[RSAAlgorithm] | type[ECAlgorithm], kid: str, alg: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(algorithm.to_jwk(public))
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class FakeAuthorizationServer:
    def __init__(self, *, path: str = "", metadata: str = "oauth-authorization-server") -> None:
        self.path = path  # the issuer's path, e.g. "/tenant"
        self.metadata_kind = metadata  # "oauth-authorization-server" | "openid-configuration" | "none"
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self._lock = threading.Lock()
        self._keys = [
            _jwk(self.rsa.public_key(), RSAAlgorithm, RSA_KID, "RS256"),
            _jwk(self.ec.public_key(), ECAlgorithm, EC_KID, "ES256"),
        ]
        self._introspection: dict[str, dict[str, Any]] = {}
        self.server = FakeServer(self._app)

    # -- what tests arrange

    @property
    def issuer(self) -> str:
        return self.server.url + self.path

    def publish(self, keys: list[dict[str, Any]]) -> None:
        with self._lock:
            self._keys = list(keys)

    @property
    def published(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._keys)

    def jwk_of(self, private: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
        return _jwk(private.public_key(), RSAAlgorithm, kid, "RS256")

    def register_opaque(self, token: str, answer: dict[str, Any]) -> None:
        """What introspection answers about `token` (unknown tokens are inactive)."""
        with self._lock:
            self._introspection[token] = answer

    def claims(self, audience: str, scope: str = "", **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.issuer, "sub": "user-1", "aud": audience, "iat": now, "exp": now + 300}
        if scope:
            claims["scope"] = scope
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def token(
        self, audience: str, scope: str = "", *, key: str = "rsa", kid: str | None = None, **overrides: Any
    ) -> str:
        """A token signed by this server (RS256 with `rsa`, ES256 with `ec`); `overrides=None` drops a claim."""
        claims = self.claims(audience, scope, **overrides)
        if key == "ec":
            return jwt.encode(claims, self.ec, algorithm="ES256", headers={"kid": kid or EC_KID})
        return jwt.encode(claims, self.rsa, algorithm="RS256", headers={"kid": kid or RSA_KID})

    def signed_with(self, private: rsa.RSAPrivateKey, kid: str, audience: str, scope: str = "") -> str:
        return jwt.encode(self.claims(audience, scope), private, algorithm="RS256", headers={"kid": kid})

    def unsigned(self, audience: str, scope: str = "") -> str:
        """An `alg: none` token with otherwise perfect claims."""
        header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": RSA_KID}).encode())
        return f"{header}.{_b64(json.dumps(self.claims(audience, scope)).encode())}."

    def hmac_with_public_key(self, audience: str, scope: str = "") -> str:
        """HS256 keyed with the published RSA public key: the classic algorithm-confusion forgery."""
        public = self.rsa.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": RSA_KID}).encode())
        payload = _b64(json.dumps(self.claims(audience, scope)).encode())
        signature = hmac.new(public, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64(signature)}"

    def key_fetches(self) -> int:
        return sum(1 for request in self.server.requests if request.raw_path.endswith("/jwks"))

    # -- lifecycle

    def __enter__(self) -> Self:
        self.server.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.server.close()

    # -- the server

    def _metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{self.server.url}/jwks",
            "introspection_endpoint": f"{self.server.url}/introspect",
            "token_endpoint": f"{self.server.url}/token",
        }

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        response: Response
        if path == f"/.well-known/{self.metadata_kind}{self.path}" or (
            self.metadata_kind == "openid-configuration" and path == f"{self.path}/.well-known/openid-configuration"
        ):
            response = JSONResponse(self._metadata())
        elif path == "/jwks":
            response = JSONResponse({"keys": self.published})
        elif path == "/introspect" and scope["method"] == "POST":
            body = b""
            more = True
            while more:
                message = await receive()
                body += message.get("body", b"")
                more = message.get("more_body", False)
            token = dict(parse_qsl(body.decode())).get("token", "")
            with self._lock:
                answer = self._introspection.get(token, {"active": False})
            response = JSONResponse(answer)
        else:
            response = JSONResponse({"error": "not found"}, status_code=404)
        await response(scope, receive, send)
