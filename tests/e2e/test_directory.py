"""`naftiko serve DIR`: the whole Kombo family on one REST port and one MCP port."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.mcp_client import connect
from tests.e2e.server import NaftikoServer
from tests.fakes import KomboFake
from tests.test_runtime import capability

pytestmark = pytest.mark.anyio
KOMBO_FAMILY = Path(__file__).resolve().parents[1] / "corpus" / "data" / "kombo" / "capabilities"


async def test_a_directory_of_capabilities_is_served_on_shared_ports(kombo: KomboFake, api_key: str) -> None:
    with NaftikoServer(
        [KOMBO_FAMILY],
        args=["--prefix-tools", "--base-uri", f"kombo-general={kombo.base_url}"],
        env={"KOMBO_API_KEY": api_key},
    ) as server:
        server.wait_ready()
        rest = httpx.get(f"{server.rest_url}/v1/check-api-key", timeout=10)
        async with connect(server.mcp_url) as client:
            tools = [tool.name for tool in (await client.list_tools()).tools]
            result = await client.call_tool("kombo-general.check-api-key", {})
        assert server.stop() == 0
    assert rest.status_code == 200 and rest.json()["status"] == "success"
    assert not result.is_error
    assert server.counts["rest"] == server.counts["mcp"] == len(tools) > 100
    assert "kombo-capability-edges.yml" in server.output and "not a Naftiko capability" in server.output


async def test_auto_ports_serves_an_adapter_whose_port_another_type_holds_on_a_free_port(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(capability("a", tool="x", route="/x"))
    clashing = (
        capability("b", tool="y", route="/y").replace("port: 8080", "port: 8081").replace("port: 9090", "port: 8080")
    )
    (tmp_path / "b.yaml").write_text(clashing)
    with NaftikoServer([tmp_path], args=["--auto-ports"], move_ports=("8080", "9090", "8081")) as server:
        server.wait_ready()
        async with connect(server.urls_by_namespace["b-mcp"]) as client:
            tools = [tool.name for tool in (await client.list_tools()).tools]
        routes = httpx.get(f"{server.urls_by_namespace['a-rest']}/x", timeout=10)
        assert server.stop() == 0
    assert tools == ["y"]
    assert routes.status_code == 502  # served, and its upstream (an .invalid host) unreachable
    assert "moved to a free port (--auto-ports)" in server.output
