"""The example capabilities serve offline: an official-dialect file, nothing Kombo-shaped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from mcp import Client

from tests.e2e.server import NaftikoServer

pytestmark = pytest.mark.anyio
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_every_example_passes_strict_validation() -> None:
    files = sorted(path for path in EXAMPLES.glob("*.yaml") if not path.name.endswith(".openapi.yaml"))
    assert files
    result = subprocess.run(
        [sys.executable, "-m", "naftiko_runtime", "validate", "--strict", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr


async def test_the_official_dialect_example_serves_shaped_outputs_with_mock() -> None:
    with NaftikoServer([EXAMPLES / "jsonplaceholder.yaml"], args=["--mock"]) as server:
        server.wait_ready()
        listing = httpx.get(f"{server.rest_url}/posts", params={"user": "1"}, timeout=5)
        one = httpx.get(f"{server.rest_url}/posts/1", timeout=5)
        bad = httpx.get(f"{server.rest_url}/posts/one", timeout=5)
        async with Client(server.mcp_url) as client:
            titles = await client.call_tool("list-post-titles", {"user": 1})
            created = await client.call_tool("create-post", {"title": "hello", "user": 3})
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        server.stop()
    assert listing.json() == [{"id": 1, "title": "sunt aut facere repellat"}, {"id": 2, "title": "qui est esse"}]
    assert one.json()["id"] == 1
    assert bad.status_code == 400 and bad.json()["errors"][0]["location"] == "path.id"
    assert titles.structured_content == {"titles": ["sunt aut facere repellat", "qui est esse"]}
    assert not created.is_error
    assert tools["list-post-titles"].title == "List post titles"
    assert tools["create-post"].input_schema["required"] == ["title", "user"]
