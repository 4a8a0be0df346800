"""Every inbound authentication type end to end: the real `naftiko serve`, real clients, a fake authorization server.

One server serves a file per type (bearer, apikey in a header, apikey in the query, basic,
oauth2), each with a REST route and an MCP tool on ports of their own. Missing and wrong
credentials are refused with a challenge; the right ones get the answer.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcp.shared.exceptions import MCPError

from tests.conftest import SecretTripwire
from tests.e2e.mcp_client import connect
from tests.e2e.server import NaftikoServer
from tests.fakes.authorization_server import FakeAuthorizationServer

pytestmark = pytest.mark.anyio

MCP_RESOURCE = "https://naftiko.example.test/mcp"
REST_RESOURCE = "https://naftiko.example.test/api"
KINDS = ("bearer", "apikey-header", "apikey-query", "basic", "oauth2")
SCHEMES = {
    "bearer": "Bearer",
    "apikey-header": "ApiKey",
    "apikey-query": "ApiKey",
    "basic": "Basic",
    "oauth2": "Bearer",
}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "probe", "version": "1"}},
}
MCP_ACCEPT = {"accept": "application/json, text/event-stream"}


def _authentication(kind: str, resource: str, issuer: str) -> str:
    return {
        "bearer": '{type: bearer, token: "{{E2E_SECRET}}"}',
        "apikey-header": '{type: apikey, key: X-Api-Key, value: "{{E2E_SECRET}}", placement: header}',
        "apikey-query": '{type: apikey, key: api_key, value: "{{E2E_SECRET}}", placement: query}',
        "basic": '{type: basic, username: ana, password: "{{E2E_SECRET}}"}',
        "oauth2": f"{{type: oauth2, authorizationServerUri: '{issuer}', resource: '{resource}', scopes: [tools:read]}}",
    }[kind]


def _capability(kind: str, index: int, issuer: str, namespace: str | None = None, guarded: bool = True) -> str:
    namespace = namespace or kind
    rest_auth = f"    authentication: {_authentication(kind, REST_RESOURCE, issuer)}\n" if guarded else ""
    mcp_auth = f"    authentication: {_authentication(kind, MCP_RESOURCE, issuer)}\n" if guarded else ""
    return f"""\
naftiko: 1.0.0-alpha2
capability:
  exposes:
  - type: rest
    namespace: {namespace}-rest
    port: {8100 + index}
{rest_auth}    resources:
    - path: /ping-{namespace}
      description: Answers who let the caller in.
      operations:
      - method: GET
        outputParameters:
        - {{name: pong, type: string, value: "{namespace}"}}
  - type: mcp
    namespace: {namespace}-mcp
    port: {9100 + index}
{mcp_auth}    tools:
    - name: ping-{namespace}
      description: Answers who let the caller in.
      outputParameters:
      - {{name: pong, type: string, value: "{namespace}"}}
"""


def _serve(paths: list[Path], secret: str, declared: list[int]) -> NaftikoServer:
    """`naftiko serve` with each of the `declared` ports moved to a free one."""
    moved = [arg for port in declared for arg in ("--port", f"{port}=0")]
    return NaftikoServer(paths, args=moved, env={"E2E_SECRET": secret}, move_ports=())


def _credentials(kind: str, secret: str) -> tuple[dict[str, str], str]:
    """Headers and query string that present `secret` (an oauth2 token) the way `kind` asks."""
    if kind == "apikey-header":
        return {"X-Api-Key": secret}, ""
    if kind == "apikey-query":
        return {}, f"?api_key={secret}"
    if kind == "basic":
        return {"Authorization": "Basic " + base64.b64encode(f"ana:{secret}".encode()).decode()}, ""
    return {"Authorization": f"Bearer {secret}"}, ""


def _right(kind: str, api_key: str, authority: FakeAuthorizationServer, audience: str) -> tuple[dict[str, str], str]:
    return _credentials(kind, authority.token(audience, "tools:read") if kind == "oauth2" else api_key)


@pytest.fixture(scope="module")
def authority() -> Iterator[FakeAuthorizationServer]:
    with FakeAuthorizationServer() as fake:
        yield fake


@pytest.fixture(scope="module")
def naftiko(
    authority: FakeAuthorizationServer,
    api_key: str,
    tmp_path_factory: pytest.TempPathFactory,
    secret_tripwire: SecretTripwire,
) -> Iterator[NaftikoServer]:
    folder = tmp_path_factory.mktemp("auth-types")
    paths = []
    for index, kind in enumerate(KINDS, start=1):
        path = folder / f"{kind}.yaml"
        path.write_text(_capability(kind, index, authority.issuer))
        paths.append(path)
    declared = [port for index in range(1, len(KINDS) + 1) for port in (8100 + index, 9100 + index)]
    with _serve(paths, api_key, declared) as server:
        server.wait_ready()
        yield server
        assert server.stop() == 0, server.output
    secret_tripwire.record("naftiko serve output (inbound auth types)", server.output)


def _rest(server: NaftikoServer, kind: str, headers: dict[str, str], query: str) -> httpx.Response:
    return httpx.get(f"{server.urls_by_namespace[f'{kind}-rest']}/ping-{kind}{query}", headers=headers, timeout=10)


def _mcp_raw(server: NaftikoServer, kind: str, headers: dict[str, str], query: str) -> httpx.Response:
    url = server.urls_by_namespace[f"{kind}-mcp"] + query
    return httpx.post(url, json=INITIALIZE, headers={**MCP_ACCEPT, **headers}, timeout=10)


@pytest.mark.parametrize("kind", KINDS)
def test_a_rest_route_refuses_missing_and_wrong_credentials_and_answers_the_right_ones(
    naftiko: NaftikoServer, authority: FakeAuthorizationServer, api_key: str, kind: str, secret_tripwire: SecretTripwire
) -> None:
    right = _rest(naftiko, kind, *_right(kind, api_key, authority, REST_RESOURCE))
    wrong = _rest(naftiko, kind, *_credentials(kind, "guess"))
    missing = _rest(naftiko, kind, {}, "")
    for answer in (wrong, missing):
        secret_tripwire.record(f"REST {kind} refusal", answer.text + str(answer.headers))
        assert answer.status_code == 401, answer.text
        assert answer.headers["www-authenticate"].startswith(SCHEMES[kind])
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["detail"].startswith("this route requires")
    assert right.status_code == 200, right.text
    assert right.json() == {"pong": kind}


@pytest.mark.parametrize("kind", KINDS)
async def test_an_mcp_server_refuses_missing_and_wrong_credentials_and_serves_the_official_client_with_the_right_ones(
    naftiko: NaftikoServer, authority: FakeAuthorizationServer, api_key: str, kind: str, secret_tripwire: SecretTripwire
) -> None:
    missing = _mcp_raw(naftiko, kind, {}, "")
    wrong = _mcp_raw(naftiko, kind, *_credentials(kind, "guess"))
    for answer in (wrong, missing):
        secret_tripwire.record(f"MCP {kind} refusal", answer.text + str(answer.headers))
        assert answer.status_code == 401, answer.text
        assert answer.headers["www-authenticate"].startswith(SCHEMES[kind])
    headers, query = _right(kind, api_key, authority, MCP_RESOURCE)
    async with connect(naftiko.urls_by_namespace[f"{kind}-mcp"] + query, headers) as client:
        tools = [tool.name for tool in (await client.list_tools()).tools]
        result = await client.call_tool(f"ping-{kind}", {})
    assert tools == [f"ping-{kind}"]
    assert not result.is_error and result.structured_content == {"pong": kind}
    wrong_headers, wrong_query = _credentials(kind, "guess")
    # The official client surfaces the refused initialize as an MCPError (inside its task groups).
    with pytest.raises(ExceptionGroup) as refused:
        async with connect(naftiko.urls_by_namespace[f"{kind}-mcp"] + wrong_query, wrong_headers) as client:
            await client.list_tools()
    assert refused.group_contains(MCPError, match="error response", depth=None)


def _broken_tokens(authority: FakeAuthorizationServer, audience: str) -> dict[str, tuple[str, str]]:
    """Tokens each wrong in one way, with what the refusal must say."""
    return {
        "expired": (authority.token(audience, "tools:read", exp=1_000_000), "the token has expired"),
        "wrong audience": (authority.token("https://elsewhere.test", "tools:read"), "not meant for this resource"),
        "wrong issuer": (authority.token(audience, "tools:read", iss="https://impostor.test"), "not issued by"),
        "unknown kid": (authority.token(audience, "tools:read", kid="retired-key"), "no key that matches"),
        "alg none": (authority.unsigned(audience, "tools:read"), "alg none"),
        "hmac with the public key": (authority.hmac_with_public_key(audience, "tools:read"), "signing algorithm"),
    }


def test_oauth2_refuses_each_broken_token_on_rest_and_mcp_with_an_invalid_token_challenge(
    naftiko: NaftikoServer, authority: FakeAuthorizationServer
) -> None:
    for audience, call in ((REST_RESOURCE, _rest), (MCP_RESOURCE, _mcp_raw)):
        for case, (token, reason) in _broken_tokens(authority, audience).items():
            answer = call(naftiko, "oauth2", {"Authorization": f"Bearer {token}"}, "")
            assert answer.status_code == 401, (case, answer.text)
            challenge = answer.headers["www-authenticate"]
            assert challenge.startswith('Bearer error="invalid_token"'), (case, challenge)
            assert "resource_metadata=" in challenge
            assert reason in answer.json()["detail"], (case, answer.json())
            assert token not in answer.text


def test_oauth2_answers_a_token_without_the_declared_scope_403_insufficient_scope(
    naftiko: NaftikoServer, authority: FakeAuthorizationServer
) -> None:
    for audience, call in ((REST_RESOURCE, _rest), (MCP_RESOURCE, _mcp_raw)):
        answer = call(naftiko, "oauth2", {"Authorization": f"Bearer {authority.token(audience, 'profile')}"}, "")
        assert answer.status_code == 403, answer.text
        challenge = answer.headers["www-authenticate"]
        assert challenge.startswith('Bearer error="insufficient_scope"') and 'scope="tools:read"' in challenge
        assert answer.json()["detail"].endswith("the token lacks scope tools:read")


def test_oauth2_publishes_protected_resource_metadata_that_its_401_points_to(
    naftiko: NaftikoServer, authority: FakeAuthorizationServer
) -> None:
    mcp_origin = naftiko.urls_by_namespace["oauth2-mcp"].removesuffix("/mcp")
    rest_origin = naftiko.urls_by_namespace["oauth2-rest"]
    challenge = _mcp_raw(naftiko, "oauth2", {}, "").headers["www-authenticate"]
    documents = [
        httpx.get(f"{mcp_origin}/.well-known/oauth-protected-resource{suffix}", timeout=10) for suffix in ("", "/mcp")
    ]
    rest_documents = [
        httpx.get(f"{rest_origin}/.well-known/oauth-protected-resource{suffix}", timeout=10) for suffix in ("", "/api")
    ]
    assert challenge == (
        'Bearer scope="tools:read", '
        'resource_metadata="https://naftiko.example.test/.well-known/oauth-protected-resource/mcp"'
    )
    for answer in documents:
        assert answer.status_code == 200
        assert answer.json() == {
            "resource": MCP_RESOURCE,
            "authorization_servers": [authority.issuer],
            "bearer_methods_supported": ["header"],
            "scopes_supported": ["tools:read"],
        }
    assert [answer.json()["resource"] for answer in rest_documents] == [REST_RESOURCE, REST_RESOURCE]


def test_an_unreachable_authorization_server_answers_503_problem_json_saying_what_failed(
    tmp_path: Path, authority: FakeAuthorizationServer
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    (tmp_path / "down.yaml").write_text(_capability("oauth2", 1, closed, namespace="down"))
    with _serve([tmp_path / "down.yaml"], "unused", [8101, 9101]) as server:
        server.wait_ready()
        rest = _rest(server, "down", {"Authorization": f"Bearer {authority.token(REST_RESOURCE, 'tools:read')}"}, "")
        mcp = _mcp_raw(server, "down", {"Authorization": f"Bearer {authority.token(MCP_RESOURCE, 'tools:read')}"}, "")
        assert server.stop() == 0
    for answer in (rest, mcp):
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert (
            f"cannot check oauth2 tokens: cannot connect to {closed}/.well-known/oauth-authorization-server"
            in (answer.json()["detail"])
        )
    assert "Traceback" not in server.output


async def test_a_shared_mcp_port_with_an_open_file_and_an_oauth2_file_checks_each_tool_against_its_own(
    tmp_path: Path, authority: FakeAuthorizationServer
) -> None:
    (tmp_path / "guarded.yaml").write_text(_capability("oauth2", 1, authority.issuer, namespace="guarded"))
    (tmp_path / "open.yaml").write_text(_capability("oauth2", 1, authority.issuer, namespace="open", guarded=False))
    # Both files declare the same ports: moved together, each to one free port they share.
    with _serve([tmp_path], "unused", [8101, 9101]) as server:
        server.wait_ready()
        url = server.urls_by_namespace["guarded-mcp"]
        async with connect(url) as anonymous:
            seen_anonymously = [tool.name for tool in (await anonymous.list_tools()).tools]
        narrow = {"Authorization": f"Bearer {authority.token(MCP_RESOURCE, 'profile')}"}
        async with connect(url, narrow) as short_of_scope:
            refused = await short_of_scope.call_tool("ping-guarded", {})
        full = {"Authorization": f"Bearer {authority.token(MCP_RESOURCE, 'tools:read')}"}
        async with connect(url, full) as holder:
            seen_by_holder = sorted(tool.name for tool in (await holder.list_tools()).tools)
            admitted = await holder.call_tool("ping-guarded", {})
        assert server.stop() == 0
    assert seen_anonymously == ["ping-open"]
    assert seen_by_holder == ["ping-guarded", "ping-open"]
    assert refused.is_error
    assert "requires oauth2 authentication: the token lacks scope tools:read" in refused.content[0].text  # type: ignore[union-attr]
    assert not admitted.is_error and admitted.structured_content == {"pong": "guarded"}


def test_oauth2_with_introspection_asks_the_authorization_server_about_each_opaque_token(
    tmp_path: Path, authority: FakeAuthorizationServer
) -> None:
    text = _capability("oauth2", 1, authority.issuer, namespace="opaque")
    (tmp_path / "opaque.yaml").write_text(
        text.replace("scopes: [tools:read]}", "scopes: [tools:read], tokenValidation: introspection}")
    )
    authority.register_opaque("opaque-e2e", {"active": True, "scope": "tools:read", "aud": REST_RESOURCE})
    with _serve([tmp_path / "opaque.yaml"], "unused", [8101, 9101]) as server:
        server.wait_ready()
        admitted = _rest(server, "opaque", {"Authorization": "Bearer opaque-e2e"}, "")
        inactive = _rest(server, "opaque", {"Authorization": "Bearer opaque-revoked"}, "")
        assert server.stop() == 0
    assert admitted.status_code == 200 and admitted.json() == {"pong": "opaque"}
    assert inactive.status_code == 401 and "not active" in inactive.json()["detail"]
