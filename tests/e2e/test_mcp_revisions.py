"""Every MCP protocol revision the SDK knows, against the served seed capability and a fake upstream.

Handshake revisions through the official client pinned to each; 2026-07-28 (no initialize, no
session, one self-contained POST per request) as raw JSON-RPC over HTTP.
"""

from __future__ import annotations

import importlib.metadata
import json
from typing import Any

import httpx
import mcp.client.session
import pytest
from mcp import Client
from mcp.client.sse import sse_client
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

from tests.e2e.mcp_client import connect
from tests.e2e.server import NaftikoServer
from tests.fakes import KomboFake

pytestmark = pytest.mark.anyio

MODERN = "2026-07-28"
ACCEPT = "application/json, text/event-stream"
ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
}


def test_the_revisions_tested_here_are_every_one_the_sdk_knows() -> None:
    assert (*HANDSHAKE_PROTOCOL_VERSIONS, *MODERN_PROTOCOL_VERSIONS) == (
        "2024-11-05",
        "2025-03-26",
        "2025-06-18",
        "2025-11-25",
        MODERN,
    )


@pytest.mark.parametrize("revision", HANDSHAKE_PROTOCOL_VERSIONS)
async def test_the_official_client_pinned_to_each_handshake_revision_lists_and_calls_a_tool(
    revision: str, naftiko: NaftikoServer, kombo: KomboFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The client offers this constant in `initialize`; the server answers with the offered
    # revision when it knows it, and the client then speaks that revision.
    monkeypatch.setattr(mcp.client.session, "LATEST_HANDSHAKE_VERSION", revision)
    async with connect(naftiko.mcp_url, mode="legacy") as client:
        negotiated = client.protocol_version
        tools = (await client.list_tools()).tools
        result = await client.call_tool("get-tools", {"category": "ats"})
    assert negotiated == revision
    assert len(tools) == 13
    assert not result.is_error, result.content
    assert kombo.last.raw_path == "/v1/tools/ats"


async def test_a_2024_11_05_client_on_the_http_sse_transport_lists_and_calls_a_tool(
    naftiko: NaftikoServer, kombo: KomboFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mcp.client.session, "LATEST_HANDSHAKE_VERSION", "2024-11-05")
    base = naftiko.mcp_url.removesuffix("/mcp")
    async with Client(sse_client(f"{base}/sse", timeout=30), mode="legacy") as client:
        negotiated = client.protocol_version
        tools = (await client.list_tools()).tools
        result = await client.call_tool("get-tools", {"category": "lms"})
    assert negotiated == "2024-11-05"
    assert len(tools) == 13
    assert not result.is_error, result.content
    assert kombo.last.raw_path == "/v1/tools/lms"


def test_the_sse_endpoint_refuses_a_foreign_host_like_the_streamable_one(naftiko: NaftikoServer) -> None:
    base = naftiko.mcp_url.removesuffix("/mcp")
    answer = httpx.get(f"{base}/sse", headers={"host": "rebound.example"}, timeout=5)
    assert answer.status_code == 421
    assert "--allowed-host rebound.example" in answer.json()["detail"]


def test_a_client_that_sends_no_protocol_version_header_is_served_as_the_oldest_revision(
    naftiko: NaftikoServer, kombo: KomboFake
) -> None:
    with httpx.Client(headers={"accept": ACCEPT}, timeout=10) as http:
        opened = http.post(
            naftiko.mcp_url,
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2024-11-05",
                    "capabilities": {},
                    "clientInfo": {"name": "t", "version": "1"},
                },
            },
        )
        session = {"mcp-session-id": opened.headers["mcp-session-id"]}
        http.post(naftiko.mcp_url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
        called = http.post(
            naftiko.mcp_url,
            json={
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "check-api-key", "arguments": {}},
            },
            headers=session,
        )
        http.delete(naftiko.mcp_url, headers=session)
    assert sse_result(opened)["protocolVersion"] == "2024-11-05"
    assert sse_result(called)["isError"] is False
    assert kombo.last.raw_path == "/v1/check-api-key"


def sse_result(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    data = next(line for line in response.text.splitlines() if line.startswith("data: "))
    return json.loads(data.removeprefix("data: "))["result"]


def modern(url: str, method: str, params: dict[str, Any], **headers: str) -> httpx.Response:
    """One 2026-07-28 request: the version and method in headers and in `params._meta`, no session."""
    return httpx.post(
        url,
        json={"jsonrpc": "2.0", "id": 7, "method": method, "params": {**params, "_meta": ENVELOPE}},
        headers={"accept": ACCEPT, "mcp-protocol-version": MODERN, "mcp-method": method, **headers},
        timeout=10,
    )


def test_server_discover_names_the_modern_revision_and_the_server(naftiko: NaftikoServer) -> None:
    answer = modern(naftiko.mcp_url, "server/discover", {})
    assert answer.status_code == 200
    assert "mcp-session-id" not in answer.headers
    result = answer.json()["result"]
    assert MODERN in result["supportedVersions"]
    assert "tools" in result["capabilities"]
    info = result["_meta"]["io.modelcontextprotocol/serverInfo"]
    assert info == {"name": "kombo-general-mcp", "version": importlib.metadata.version("naftiko-runtime")}


def test_tools_list_and_call_work_as_self_contained_modern_requests(naftiko: NaftikoServer, kombo: KomboFake) -> None:
    listed = modern(naftiko.mcp_url, "tools/list", {})
    called = modern(
        naftiko.mcp_url,
        "tools/call",
        {"name": "get-tools", "arguments": {"category": "hris"}},
        **{"mcp-name": "get-tools"},
    )
    assert listed.status_code == 200
    assert len(listed.json()["result"]["tools"]) == 13
    assert called.status_code == 200
    result = called.json()["result"]
    assert result["isError"] is False
    assert result["structuredContent"]["status"] == "success"
    assert kombo.last.raw_path == "/v1/tools/hris"


def test_a_modern_tool_call_with_bad_arguments_is_a_tool_error_naming_them(naftiko: NaftikoServer) -> None:
    called = modern(
        naftiko.mcp_url,
        "tools/call",
        {"name": "get-tools", "arguments": {"category": "ats", "colour": "red"}},
        **{"mcp-name": "get-tools"},
    )
    result = called.json()["result"]
    assert result["isError"] is True
    assert "colour" in result["content"][0]["text"]


def test_a_modern_request_whose_name_header_disagrees_with_its_body_is_refused(naftiko: NaftikoServer) -> None:
    called = modern(
        naftiko.mcp_url, "tools/call", {"name": "check-api-key", "arguments": {}}, **{"mcp-name": "get-tools"}
    )
    assert called.status_code == 400
    assert "mcp-name" in called.json()["error"]["message"].lower()
