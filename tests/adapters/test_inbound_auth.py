"""adapters/inbound_auth.py: what an expose's `authentication` asks of callers."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from naftiko_runtime.adapters.asgi import Receive, Scope, Send, send_bytes
from naftiko_runtime.adapters.inbound_auth import InboundAuth, guard
from naftiko_runtime.adapters.oauth_resource import OAuthResource
from naftiko_runtime.capability import CompiledCapability, LoadOptions, load_capability
from naftiko_runtime.diagnostics import Severity
from tests.fakes.authorization_server import FakeAuthorizationServer

pytestmark = pytest.mark.anyio
RESOURCE = "https://mcp.example.test/mcp"


async def _ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send_bytes(send, 200, b'{"ok":true}', b"application/json")


async def _get(auth: InboundAuth, path: str = "/x", headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=guard(_ok, [auth]))
    async with httpx.AsyncClient(transport=transport, base_url="http://adapter") as client:
        return await client.get(path, headers=headers or {})


async def test_a_bearer_adapter_refuses_a_missing_or_wrong_token_and_admits_the_right_one() -> None:
    auth = InboundAuth("bearer", "sk-right")
    missing = await _get(auth)
    wrong = await _get(auth, headers={"Authorization": "Bearer sk-wrong"})
    right = await _get(auth, headers={"Authorization": "Bearer sk-right"})
    assert missing.status_code == wrong.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert missing.headers["content-type"] == "application/problem+json"
    assert right.status_code == 200


async def test_an_apikey_adapter_reads_its_header_or_its_query_parameter() -> None:
    header = InboundAuth("apikey", "k1", key="X-Api-Key")
    query = InboundAuth("apikey", "k2", key="api_key", in_query=True)
    assert (await _get(header, headers={"x-api-key": "k1"})).status_code == 200
    assert (await _get(header, headers={"x-api-key": "k2"})).status_code == 401
    assert (await _get(query, "/x?api_key=k2")).status_code == 200
    assert (await _get(query, "/x?api_key=k1")).status_code == 401


async def test_a_basic_adapter_checks_user_and_password() -> None:
    auth = InboundAuth("basic", "ana:s3cret")
    good = base64.b64encode(b"ana:s3cret").decode()
    bad = base64.b64encode(b"ana:guess").decode()
    assert (await _get(auth, headers={"Authorization": f"Basic {good}"})).status_code == 200
    refused = await _get(auth, headers={"Authorization": f"Basic {bad}"})
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
    assert (await _get(auth, headers={"Authorization": "Basic not-base64!"})).status_code == 401


async def test_health_paths_stay_open_for_probes() -> None:
    assert (await _get(InboundAuth("bearer", "sk"), "/healthz")).status_code == 200


async def test_a_credential_whose_variable_is_missing_admits_nobody() -> None:
    auth = InboundAuth("bearer", "")
    assert (await _get(auth, headers={"Authorization": "Bearer "})).status_code == 401
    assert (await _get(auth, headers={"Authorization": "Bearer anything"})).status_code == 401


@pytest.fixture(scope="module")
def authority() -> Iterator[FakeAuthorizationServer]:
    with FakeAuthorizationServer() as fake:
        yield fake


def _oauth(issuer: str, scopes: tuple[str, ...] = ("tools:read",)) -> InboundAuth:
    return InboundAuth("oauth2", "", oauth=OAuthResource(issuer, RESOURCE, scopes=scopes))


async def _call(
    auths: list[InboundAuth | None], path: str = "/mcp", token: str | None = None, method: str = "GET"
) -> httpx.Response:
    transport = httpx.ASGITransport(app=guard(_ok, auths, metadata_suffixes=("/mcp",)))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(transport=transport, base_url="http://adapter") as client:
        return await client.request(method, path, headers=headers)


async def test_an_oauth2_adapter_admits_a_valid_token_and_challenges_others_with_its_resource_metadata(
    authority: FakeAuthorizationServer,
) -> None:
    auth = _oauth(authority.issuer)
    right = await _call([auth], token=authority.token(RESOURCE, "tools:read"))
    missing = await _call([auth])
    expired = await _call([auth], token=authority.token(RESOURCE, "tools:read", exp=1_000_000))
    assert right.status_code == 200
    assert missing.status_code == expired.status_code == 401
    assert missing.headers["www-authenticate"] == (
        'Bearer scope="tools:read", resource_metadata="https://mcp.example.test/.well-known/oauth-protected-resource/mcp"'
    )
    assert expired.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert expired.headers["content-type"] == "application/problem+json"
    assert expired.json()["detail"] == "this adapter requires oauth2 authentication: the token has expired"


async def test_a_token_short_of_a_scope_is_answered_403_insufficient_scope(authority: FakeAuthorizationServer) -> None:
    answer = await _call([_oauth(authority.issuer, ("tools:read", "tools:write"))], token=authority.token(RESOURCE))
    assert answer.status_code == 403
    assert answer.headers["www-authenticate"].startswith('Bearer error="insufficient_scope"')
    assert answer.json()["title"] == "Forbidden"


async def test_protected_resource_metadata_is_open_at_the_root_and_path_suffixed_forms(
    authority: FakeAuthorizationServer,
) -> None:
    auth = _oauth(authority.issuer)
    root = await _call([auth], "/.well-known/oauth-protected-resource")
    suffixed = await _call([auth], "/.well-known/oauth-protected-resource/mcp")
    posted = await _call([auth], "/.well-known/oauth-protected-resource", method="POST")
    assert root.status_code == suffixed.status_code == 200
    assert root.json() == suffixed.json()
    assert root.json()["resource"] == RESOURCE and root.json()["authorization_servers"] == [authority.issuer]
    assert posted.status_code == 405


async def test_an_authorization_server_that_cannot_be_reached_answers_503_saying_what_failed() -> None:
    with FakeAuthorizationServer() as fake:
        token = fake.token(RESOURCE, "tools:read")
        issuer = fake.issuer
    answer = await _call([_oauth(issuer)], token=token)
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"].startswith(f"this adapter cannot check oauth2 tokens: cannot connect to {issuer}")
    assert token not in answer.text


async def test_a_port_shared_by_a_secret_and_oauth2_admits_either_and_offers_both_challenges(
    authority: FakeAuthorizationServer,
) -> None:
    auths: list[InboundAuth | None] = [InboundAuth("bearer", "sk-static"), _oauth(authority.issuer)]
    static = await _call(auths, token="sk-static")
    oauth = await _call(auths, token=authority.token(RESOURCE, "tools:read"))
    neither = await _call(auths, token="sk-guess")
    assert static.status_code == oauth.status_code == 200
    assert neither.status_code == 401
    assert neither.headers.get_list("www-authenticate")[0] == 'Bearer realm="naftiko"'
    assert 'error="invalid_token"' in neither.headers.get_list("www-authenticate")[1]
    assert neither.json()["detail"] == "this adapter requires bearer or oauth2 authentication"


async def test_an_oauth2_authentication_without_its_settings_refuses_everyone() -> None:
    answer = await _get(InboundAuth("oauth2", ""), headers={"Authorization": "Bearer anything"})
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == 'Bearer realm="naftiko"'


def _load_oauth2(tmp_path: Path, authentication: str, environ: dict[str, str] | None = None) -> CompiledCapability:
    path = tmp_path / "guarded.yaml"
    path.write_text(f"""\
naftiko: 1.0.0-alpha2
capability:
  exposes:
  - type: mcp
    namespace: guarded
    port: 9090
    authentication: {authentication}
    tools:
    - name: ping
      description: d
      outputParameters:
      - {{name: pong, type: string, value: pong}}
""")
    return load_capability(path, LoadOptions(environ=environ or {}))


def test_an_oauth2_expose_is_compiled_from_its_settings_with_variables_rendered(tmp_path: Path) -> None:
    capability = _load_oauth2(
        tmp_path,
        "{type: oauth2, authorizationServerUri: '{{AS_URI}}', resource: 'https://r.test/mcp', "
        "audience: api://r, scopes: [a, b], tokenValidation: introspection}",
        {"AS_URI": "https://as.test"},
    )
    auth = capability.adapters[0].inbound_auth
    assert auth is not None and auth.kind == "oauth2" and auth.oauth is not None
    assert (auth.oauth.issuer, auth.oauth.resource, auth.oauth.scopes) == (
        "https://as.test",
        "https://r.test/mcp",
        ("a", "b"),
    )
    assert auth.oauth.introspection
    assert not [d for d in capability.diagnostics if d.severity == Severity.WARNING]


@pytest.mark.parametrize(
    ("authentication", "says"),
    [
        ("{type: oauth2, authorizationServerUri: 'https://as.test'}", "needs authorizationServerUri and resource"),
        ("{type: oauth2, authorizationServerUri: 'as.test', resource: 'https://r.test'}", "http(s)"),
        (
            "{type: oauth2, authorizationServerUri: 'https://as.test', resource: 'https://r.test', tokenValidation: x}",
            "tokenValidation 'x'",
        ),
        ("{type: oauth2, authorizationServerUri: '{{AS_URI}}', resource: 'https://r.test'}", "AS_URI"),
    ],
)
def test_an_unusable_oauth2_expose_is_reported_and_refuses_every_call(
    tmp_path: Path, authentication: str, says: str
) -> None:
    capability = _load_oauth2(tmp_path, authentication)
    auth = capability.adapters[0].inbound_auth
    warnings = [str(d) for d in capability.diagnostics if d.severity == Severity.WARNING]
    assert auth == InboundAuth("oauth2", "")
    assert any(says in warning and "refused" in warning for warning in warnings), warnings
