"""adapters/oauth_resource.py (with oauth_tokens and oauth_server): an expose as an OAuth resource server."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from naftiko_runtime.adapters.asgi import Scope
from naftiko_runtime.adapters.oauth_resource import OAuthResource, TokenFailure
from naftiko_runtime.adapters.oauth_server import AuthorizationServer, metadata_urls
from tests.fakes.authorization_server import EC_KID, FakeAuthorizationServer

pytestmark = pytest.mark.anyio
RESOURCE = "https://mcp.example.test/mcp"


@pytest.fixture(scope="module")
def authority() -> Iterator[FakeAuthorizationServer]:
    with FakeAuthorizationServer() as fake:
        yield fake


def _resource(
    fake: FakeAuthorizationServer, scopes: tuple[str, ...] = ("tools:read",), ttl: float = 300, min_refresh: float = 30
) -> OAuthResource:
    server = AuthorizationServer(fake.issuer, ttl=ttl, min_refresh=min_refresh)
    return OAuthResource(fake.issuer, RESOURCE, scopes=scopes, server=server)


def _request(token: str | None) -> Scope:
    headers = [] if token is None else [(b"authorization", f"Bearer {token}".encode())]
    return {"type": "http", "path": "/mcp", "headers": headers}


async def test_a_token_signed_by_the_authorization_server_for_this_resource_with_its_scopes_is_admitted(
    authority: FakeAuthorizationServer,
) -> None:
    resource = _resource(authority)
    rsa_signed = authority.token(RESOURCE, "tools:read profile")
    ec_signed = authority.token(RESOURCE, "tools:read", key="ec")
    assert await resource.verify(_request(rsa_signed)) is None
    assert await resource.verify(_request(ec_signed)) is None


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ({"exp": 1_000_000}, "expired"),
        ({"aud": "https://someone-else.example.test"}, "not meant for this resource"),
        ({"iss": "https://impostor.example.test"}, "not issued by the configured authorization server"),
        ({"nbf": 4_000_000_000}, "not valid yet"),
        ({"aud": None}, "no aud claim"),
        ({"exp": None}, "no exp claim"),
    ],
)
async def test_a_token_with_a_bad_claim_is_refused_as_invalid(
    authority: FakeAuthorizationServer, broken: dict[str, Any], reason: str
) -> None:
    failure = await _resource(authority).verify(_request(authority.token(RESOURCE, "tools:read", **broken)))
    assert failure is not None and failure.status == 401 and failure.error == "invalid_token"
    assert reason in failure.description


async def test_a_token_lacking_a_declared_scope_is_forbidden_with_the_insufficient_scope_challenge(
    authority: FakeAuthorizationServer,
) -> None:
    resource = _resource(authority, scopes=("tools:read", "tools:write"))
    failure = await resource.verify(_request(authority.token(RESOURCE, "tools:read")))
    assert failure == TokenFailure(403, "the token lacks scope tools:write", "insufficient_scope")
    challenge = resource.challenge(failure).decode()
    assert challenge.startswith('Bearer error="insufficient_scope"')
    assert 'scope="tools:read tools:write"' in challenge
    assert 'resource_metadata="https://mcp.example.test/.well-known/oauth-protected-resource/mcp"' in challenge


async def test_unsigned_and_hmac_tokens_are_refused_before_any_key_is_fetched(
    authority: FakeAuthorizationServer,
) -> None:
    resource = _resource(authority)
    fetches = authority.key_fetches()
    unsigned = await resource.verify(_request(authority.unsigned(RESOURCE, "tools:read")))
    forged = await resource.verify(_request(authority.hmac_with_public_key(RESOURCE, "tools:read")))
    garbage = await resource.verify(_request("not-a-jwt"))
    assert unsigned is not None and "alg none" in unsigned.description and unsigned.status == 401
    assert forged is not None and "signing algorithm" in forged.description and forged.status == 401
    assert garbage is not None and garbage.description == "the token is not a JWT"
    assert authority.key_fetches() == fetches


async def test_a_token_signed_by_a_stranger_key_under_a_known_kid_does_not_verify(
    authority: FakeAuthorizationServer,
) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    failure = await _resource(authority).verify(
        _request(authority.signed_with(stranger, "rsa-1", RESOURCE, "tools:read"))
    )
    assert failure is not None and failure.description == "the token's signature does not verify"


async def test_a_key_of_another_family_under_the_token_kid_is_never_used(authority: FakeAuthorizationServer) -> None:
    # RS256 header naming the EC key: no RSA key has that kid.
    token = authority.token(RESOURCE, "tools:read", kid=EC_KID)
    failure = await _resource(authority).verify(_request(token))
    assert failure is not None and "no key that matches" in failure.description


async def test_keys_are_fetched_once_and_served_from_the_cache(authority: FakeAuthorizationServer) -> None:
    resource = _resource(authority)
    fetches = authority.key_fetches()
    for _ in range(5):
        assert await resource.verify(_request(authority.token(RESOURCE, "tools:read"))) is None
    assert authority.key_fetches() == fetches + 1


async def test_an_unknown_kid_fetches_the_keys_again_but_not_more_often_than_allowed() -> None:
    with FakeAuthorizationServer() as fake:
        rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        eager = _resource(fake, min_refresh=0)
        assert await eager.verify(_request(fake.token(RESOURCE, "tools:read"))) is None
        fake.publish([*fake.published, fake.jwk_of(rotated, "rsa-2")])
        assert await eager.verify(_request(fake.signed_with(rotated, "rsa-2", RESOURCE, "tools:read"))) is None
        assert fake.key_fetches() == 2
        patient = _resource(fake, min_refresh=300)
        assert await patient.verify(_request(fake.token(RESOURCE, "tools:read"))) is None
        unknown = await patient.verify(_request(fake.token(RESOURCE, "tools:read", kid="nobody")))
        assert unknown is not None and unknown.status == 401
        assert fake.key_fetches() == 3  # the unknown kid came too soon after the last fetch


async def test_stale_keys_are_fetched_again_after_their_time_to_live(authority: FakeAuthorizationServer) -> None:
    resource = _resource(authority, ttl=0)
    fetches = authority.key_fetches()
    for _ in range(2):
        assert await resource.verify(_request(authority.token(RESOURCE, "tools:read"))) is None
    assert authority.key_fetches() == fetches + 2


async def test_an_unreachable_authorization_server_makes_checks_unavailable_saying_what_failed() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        issuer = f"http://127.0.0.1:{probe.getsockname()[1]}"
    resource = OAuthResource(issuer, RESOURCE, server=AuthorizationServer(issuer, timeout=2))
    with FakeAuthorizationServer() as fake:
        token = fake.token(RESOURCE)
    failure = await resource.verify(_request(token))
    assert failure is not None and failure.status == 503
    assert failure.description == f"cannot connect to {issuer}/.well-known/oauth-authorization-server"
    assert token not in failure.description


async def test_metadata_is_found_by_openid_discovery_and_under_an_issuer_path() -> None:
    with FakeAuthorizationServer(path="/tenant", metadata="openid-configuration") as fake:
        assert await _resource(fake).verify(_request(fake.token(RESOURCE, "tools:read"))) is None


async def test_metadata_nowhere_to_be_found_is_reported_with_the_places_tried() -> None:
    with FakeAuthorizationServer(metadata="none") as fake:
        failure = await _resource(fake).verify(_request(fake.token(RESOURCE, "tools:read")))
    assert failure is not None and failure.status == 503
    assert "no authorization server metadata at" in failure.description and "(HTTP 404)" in failure.description


def test_metadata_locations_follow_rfc_8414_then_openid_discovery() -> None:
    assert metadata_urls("https://as.example.test") == [
        "https://as.example.test/.well-known/oauth-authorization-server",
        "https://as.example.test/.well-known/openid-configuration",
    ]
    assert metadata_urls("https://as.example.test/tenant/") == [
        "https://as.example.test/.well-known/oauth-authorization-server/tenant",
        "https://as.example.test/.well-known/openid-configuration/tenant",
        "https://as.example.test/tenant/.well-known/openid-configuration",
    ]


async def test_introspection_admits_an_active_token_and_refuses_an_inactive_or_foreign_one(
    authority: FakeAuthorizationServer,
) -> None:
    resource = OAuthResource(
        authority.issuer,
        RESOURCE,
        scopes=("tools:read",),
        introspection=True,
        server=AuthorizationServer(authority.issuer),
    )
    authority.register_opaque("opaque-good", {"active": True, "scope": "tools:read", "aud": RESOURCE})
    authority.register_opaque("opaque-narrow", {"active": True, "scope": "profile"})
    authority.register_opaque("opaque-foreign", {"active": True, "scope": "tools:read", "aud": "https://other.test"})
    assert await resource.verify(_request("opaque-good")) is None
    inactive = await resource.verify(_request("opaque-unknown"))
    narrow = await resource.verify(_request("opaque-narrow"))
    foreign = await resource.verify(_request("opaque-foreign"))
    assert inactive is not None and inactive.status == 401 and "not active" in inactive.description
    assert narrow is not None and narrow.status == 403
    assert foreign is not None and foreign.status == 401 and "not meant for this resource" in foreign.description


async def test_a_request_without_a_bearer_token_gets_a_challenge_without_an_error_code(
    authority: FakeAuthorizationServer,
) -> None:
    resource = _resource(authority)
    failure = await resource.verify(_request(None))
    basic = await resource.verify({"type": "http", "headers": [(b"authorization", b"Basic dTpw")]})
    assert failure == basic == TokenFailure(401, "no bearer token was sent")
    assert resource.challenge(failure) == (
        b'Bearer scope="tools:read", '
        b'resource_metadata="https://mcp.example.test/.well-known/oauth-protected-resource/mcp"'
    )


def test_the_protected_resource_metadata_names_the_resource_its_issuer_and_scopes() -> None:
    resource = OAuthResource("https://as.example.test", "https://api.example.test/v1/", scopes=("a", "b"))
    assert resource.metadata_paths == {
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/v1",
    }
    assert json.loads(resource.metadata_document) == {
        "resource": "https://api.example.test/v1/",
        "authorization_servers": ["https://as.example.test"],
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["a", "b"],
    }
