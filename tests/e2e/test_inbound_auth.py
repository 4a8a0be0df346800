"""An expose's `authentication` protects the served adapter end to end."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.mcp_client import connect
from tests.e2e.server import NaftikoServer
from tests.test_runtime import capability

pytestmark = pytest.mark.anyio
CONFORMANCE = Path(__file__).resolve().parents[1] / "conformance"
STEP3 = CONFORMANCE / "tutorial" / "step-3-shipyard-auth.yml"
REGISTRY = CONFORMANCE / "microcks" / "naftiko-shipyard-maritime-registry-api.yaml"


async def test_an_mcp_expose_with_bearer_auth_refuses_strangers_and_serves_its_token_holder() -> None:
    with NaftikoServer(
        [STEP3],
        args=["--mock", "--openapi", f"registry={REGISTRY}", "--host", "127.0.0.1", "--port", "3001=0"],
        move_ports=(),
    ) as server:
        server.wait_ready(kinds=("mcp",))
        stranger = httpx.post(
            server.mcp_url,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
            headers={"accept": "application/json, text/event-stream", "authorization": "Bearer guess"},
            timeout=5,
        )
        async with connect(server.mcp_url, {"Authorization": "Bearer sk-mcp-YYYYYYYYYYYY"}) as client:
            result = await client.call_tool("get-ship", {"imo": "IMO-9321483"})
        assert server.stop() == 0
    assert stranger.status_code == 401
    assert stranger.headers["www-authenticate"].startswith("Bearer")
    assert not result.is_error, result.content


async def test_files_asking_different_authentication_share_one_mcp_port_and_each_tool_keeps_its_own(
    tmp_path: Path,
) -> None:
    (tmp_path / "guarded.yaml").write_text(capability("guarded", tool="secret-tool", route="/a", auth="t0k3n-a"))
    (tmp_path / "open.yaml").write_text(capability("open", tool="public-tool", route="/b"))
    with NaftikoServer([tmp_path]) as server:
        server.wait_ready()
        async with connect(server.mcp_url) as anonymous:
            seen_anonymously = [tool.name for tool in (await anonymous.list_tools()).tools]
            refused = await anonymous.call_tool("secret-tool", {})
        async with connect(server.mcp_url, {"Authorization": "Bearer t0k3n-a"}) as holder:
            seen_by_holder = sorted(tool.name for tool in (await holder.list_tools()).tools)
            admitted = await holder.call_tool("secret-tool", {})
        assert server.stop() == 0
    assert seen_anonymously == ["public-tool"]
    assert seen_by_holder == ["public-tool", "secret-tool"]
    assert refused.is_error and "requires bearer authentication" in refused.content[0].text  # type: ignore[union-attr]
    assert admitted.is_error and "requires" not in admitted.content[0].text  # type: ignore[union-attr]
