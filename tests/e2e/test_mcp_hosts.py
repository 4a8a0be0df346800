"""DNS-rebinding protection on a served MCP endpoint: refusals that name the option, and the options."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from naftiko_runtime.cli import main
from tests.e2e.conftest import KOMBO_CAPABILITY
from tests.e2e.server import NaftikoServer
from tests.fakes import KomboFake

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
ACCEPT = {"accept": "application/json, text/event-stream"}


def initialize(url: str, **headers: str) -> httpx.Response:
    return httpx.post(url, json=INITIALIZE, headers={**ACCEPT, **headers}, timeout=10)


def problem_of(response: httpx.Response) -> Any:
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


def test_a_foreign_host_is_refused_with_421_naming_the_value_and_the_option(naftiko: NaftikoServer) -> None:
    answer = initialize(naftiko.mcp_url, host="rebound.example:9090")
    assert answer.status_code == 421
    detail = problem_of(answer)["detail"]
    assert "'rebound.example:9090'" in detail
    assert "--allowed-host rebound.example:9090" in detail


def test_a_foreign_origin_is_refused_with_403_naming_the_value_and_the_option(naftiko: NaftikoServer) -> None:
    answer = initialize(naftiko.mcp_url, origin="https://evil.example")
    assert answer.status_code == 403
    assert "--allowed-origin https://evil.example" in problem_of(answer)["detail"]


def test_loopback_and_ip_hosts_and_local_origins_are_served(naftiko: NaftikoServer) -> None:
    port = naftiko.mcp_url.split(":")[2].split("/")[0]
    assert initialize(naftiko.mcp_url, host=f"localhost:{port}", origin="http://localhost:6274").status_code == 200
    assert initialize(naftiko.mcp_url, host=f"10.0.0.8:{port}").status_code == 200


def test_health_paths_are_not_subject_to_the_host_check(naftiko: NaftikoServer) -> None:
    base = naftiko.mcp_url.removesuffix("/mcp")
    assert httpx.get(f"{base}/healthz", headers={"host": "probe.internal"}, timeout=5).status_code == 200


def test_allowed_host_and_origin_options_let_those_values_through(kombo: KomboFake, api_key: str) -> None:
    with NaftikoServer(
        [KOMBO_CAPABILITY],
        args=[
            "--base-uri",
            f"kombo-general={kombo.base_url}",
            "--allowed-host",
            "mcp.example.com:*",
            "--allowed-origin",
            "https://app.example",
        ],
        env={"KOMBO_API_KEY": api_key},
    ) as server:
        server.wait_ready()
        named = initialize(server.mcp_url, host="mcp.example.com:443", origin="https://app.example")
        other_origin = initialize(server.mcp_url, host="mcp.example.com", origin="https://other.example")
        other_host = initialize(server.mcp_url, host="other.example.com")
        assert server.stop() == 0
    assert named.status_code == 200
    assert "mcp-session-id" in named.headers
    assert other_origin.status_code == 403
    assert other_host.status_code == 421


def test_a_malformed_allowed_host_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", str(KOMBO_CAPABILITY), "--allowed-host", "https://mcp.example.com"]) == 2
    assert "--allowed-host expects HOST, HOST:PORT or HOST:*" in capsys.readouterr().err
