"""Choosing tools: a merged catalogue cut by --include-tools, --exclude-tools and --read-only."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from mcp.shared.exceptions import MCPError

from naftiko_runtime.cli import main
from tests.e2e.mcp_client import connect
from tests.e2e.server import NaftikoServer

pytestmark = pytest.mark.anyio

KOMBO_FAMILY = Path(__file__).resolve().parents[1] / "corpus" / "data" / "kombo" / "capabilities"
HRIS = "kombo-unified-hris-api"


async def test_a_merged_catalogue_cut_to_one_files_read_only_tools() -> None:
    with NaftikoServer(
        [KOMBO_FAMILY],
        args=[
            "--prefix-tools",
            "--prefix-routes",
            "--include-tools",
            f"{HRIS}.*",
            "--exclude-tools",
            "*-form",
            "--include-tools",
            "no-such-tool",
            "--read-only",
        ],
    ) as server:
        server.wait_ready()
        async with connect(server.mcp_url) as client:
            tools = (await client.list_tools()).tools
            with pytest.raises(MCPError, match="unknown tool"):
                await client.call_tool(f"{HRIS}.create-absence", {})
        read = httpx.get(f"{server.rest_url}/{HRIS}/v1/hris/absences", headers={"X-Integration-Id": "i"}, timeout=10)
        write = httpx.post(f"{server.rest_url}/{HRIS}/v1/hris/absences", json={}, timeout=10)
        assert server.stop() == 0

    names = {tool.name for tool in tools}
    assert names and all(name.startswith(f"{HRIS}.") for name in names)
    assert f"{HRIS}.get-employees" in names and f"{HRIS}.get-employee-form" not in names
    assert all(tool.annotations is not None and tool.annotations.read_only_hint for tool in tools)
    assert server.counts["mcp"] == len(tools)
    assert read.status_code == 503  # served (no key in the environment), not missing
    assert write.status_code in (404, 405)
    assert "--include-tools 'no-such-tool' matches no tool" in server.output


def test_list_shows_the_same_cut(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["list", str(KOMBO_FAMILY / f"{HRIS}.yaml"), "--format", "json", "--read-only", "--exclude-tools", "*-form"]
    )
    report = json.loads(capsys.readouterr().out)

    assert code == 0
    tools = next(adapter["tools"] for adapter in report["adapters"] if adapter["type"] == "mcp")
    routes = next(adapter["routes"] for adapter in report["adapters"] if adapter["type"] == "rest")
    assert tools and all(tool["annotations"]["readOnlyHint"] for tool in tools)
    assert "get-employee-form" not in {tool["name"] for tool in tools}
    assert routes and {route["method"] for route in routes} == {"GET"}
