"""`--stateless`: two server processes behind one client, as workers behind a load balancer."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.conftest import KOMBO_CAPABILITY
from tests.e2e.server import NaftikoServer
from tests.fakes import KomboFake

pytestmark = pytest.mark.anyio
HANDSHAKE = "2025-11-25"


@pytest.fixture(scope="module")
def workers(kombo: KomboFake, api_key: str) -> Iterator[list[NaftikoServer]]:
    """Two `--stateless` processes of the same capability, each on its own free port."""
    args = ["--base-uri", f"kombo-general={kombo.base_url}", "--stateless"]
    with (
        NaftikoServer([KOMBO_CAPABILITY], args=args, env={"KOMBO_API_KEY": api_key}) as first,
        NaftikoServer([KOMBO_CAPABILITY], args=[*args, "--json-response"], env={"KOMBO_API_KEY": api_key}) as second,
    ):
        pair = [first.wait_ready(), second.wait_ready()]
        assert first.mcp_url != second.mcp_url
        yield pair
        assert first.stop() == 0, first.output
        assert second.stop() == 0, second.output


def rpc(url: str, message: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        url,
        json={"jsonrpc": "2.0", **message},
        headers={"accept": "application/json, text/event-stream", "mcp-protocol-version": HANDSHAKE},
        timeout=10,
    )


def result_of(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    if response.headers["content-type"].startswith("text/event-stream"):
        data = next(line for line in response.text.splitlines() if line.startswith("data: "))
        return json.loads(data.removeprefix("data: "))["result"]
    return response.json()["result"]


def test_initialize_on_one_worker_then_list_and_call_on_the_other_alternately(
    workers: list[NaftikoServer], kombo: KomboFake
) -> None:
    urls = itertools.cycle([worker.mcp_url for worker in workers])
    opened = rpc(
        next(urls),
        {
            "id": 1,
            "method": "initialize",
            "params": {"protocolVersion": HANDSHAKE, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
        },
    )
    assert "mcp-session-id" not in opened.headers
    assert result_of(opened)["protocolVersion"] == HANDSHAKE
    assert rpc(next(urls), {"method": "notifications/initialized"}).status_code == 202
    for request_id in range(2, 8):
        listed = result_of(rpc(next(urls), {"id": request_id, "method": "tools/list"}))
        called = result_of(
            rpc(
                next(urls),
                {
                    "id": request_id,
                    "method": "tools/call",
                    "params": {"name": "get-tools", "arguments": {"category": "lms"}},
                },
            )
        )
        assert len(listed["tools"]) == 13
        assert called["isError"] is False
    assert kombo.last.raw_path == "/v1/tools/lms"


class RoundRobin(httpx2.AsyncBaseTransport):
    """Sends each request to the next worker's port, as a load balancer without sticky sessions would."""

    def __init__(self, ports: list[int]) -> None:
        self._ports = itertools.cycle(ports)
        self._inner = httpx2.AsyncHTTPTransport()
        self.sent: list[int] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        port = next(self._ports)
        self.sent.append(port)
        request.url = request.url.copy_with(port=port)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_the_official_client_works_across_workers_that_share_no_session(
    mode: str, workers: list[NaftikoServer], kombo: KomboFake
) -> None:
    ports = [httpx2.URL(worker.mcp_url).port or 0 for worker in workers]
    balancer = RoundRobin(ports)
    async with (
        httpx2.AsyncClient(transport=balancer, timeout=httpx2.Timeout(30.0)) as http,
        Client(streamable_http_client(workers[0].mcp_url, http_client=http), mode=mode) as client,
    ):
        for _ in range(3):
            assert len((await client.list_tools()).tools) == 13
            result = await client.call_tool("check-api-key", {})
            assert not result.is_error, result.content
    assert set(balancer.sent) == set(ports)
    assert kombo.last.raw_path == "/v1/check-api-key"
