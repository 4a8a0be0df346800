"""`naftiko serve` options: MCP modes, ports, hosts."""

from __future__ import annotations

import socket
import subprocess
import sys

import httpx
import pytest
from mcp import Client

from tests.e2e.conftest import KOMBO_CAPABILITY
from tests.e2e.server import NaftikoServer
from tests.fakes import KomboFake

pytestmark = pytest.mark.anyio


async def test_stateless_json_response_mode_serves_every_client_era(kombo: KomboFake, api_key: str) -> None:
    with NaftikoServer(
        [KOMBO_CAPABILITY],
        args=["--base-uri", f"kombo-general={kombo.base_url}", "--stateless", "--json-response"],
        env={"KOMBO_API_KEY": api_key},
    ) as server:
        server.wait_ready()
        for mode in ("legacy", "auto"):
            async with Client(server.mcp_url, mode=mode) as client:  # type: ignore[arg-type]
                result = await client.call_tool("get-tools", {"category": "lms"})
                assert not result.is_error, result.content
        raw = httpx.post(
            server.mcp_url,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
            headers={"accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18"},
            timeout=5,
        )
        assert server.stop() == 0
    assert raw.headers["content-type"].startswith("application/json")
    assert len(raw.json()["result"]["tools"]) == 13


def test_a_port_key_that_names_no_adapter_is_a_warning_not_a_failure(kombo: KomboFake) -> None:
    with NaftikoServer(
        [KOMBO_CAPABILITY], args=["--base-uri", f"kombo-general={kombo.base_url}", "--port", "nothing=1234"]
    ) as server:
        server.wait_ready()
        assert server.stop() == 0
    assert "--port nothing=1234 names no adapter" in server.output


def test_a_namespace_port_key_moves_that_adapter(kombo: KomboFake) -> None:
    with NaftikoServer(
        [KOMBO_CAPABILITY],
        args=["--base-uri", f"kombo-general={kombo.base_url}", "--port", "kombo-general-mcp=0"],
        move_ports=("8080",),
    ) as server:
        server.wait_ready()
        assert not server.mcp_url.startswith("http://127.0.0.1:9090")
        assert server.stop() == 0


def test_a_port_in_use_is_a_clear_error_with_exit_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "naftiko_runtime",
                "serve",
                str(KOMBO_CAPABILITY),
                "--port",
                f"8080={port}",
                "--port",
                "9090=0",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_host_option_overrides_the_listen_address(kombo: KomboFake) -> None:
    with NaftikoServer(
        [KOMBO_CAPABILITY], args=["--base-uri", f"kombo-general={kombo.base_url}", "--host", "localhost"]
    ) as server:
        server.wait_ready()
        assert server.rest_url.startswith("http://localhost:")
        assert server.stop() == 0
