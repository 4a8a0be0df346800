"""A tool call the client gives up on closes its upstream request, and the server keeps serving."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import httpx
import pytest

from tests.e2e.conftest import KOMBO_CAPABILITY
from tests.e2e.mcp_client import connect
from tests.e2e.server import NaftikoServer
from tests.fakes import KomboFake

pytestmark = pytest.mark.anyio

WAIT = 10.0
PROTOCOL = "2025-06-18"
SSE_ACCEPT = "application/json, text/event-stream"
CALL = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "check-api-key", "arguments": {}}}


@pytest.fixture
def held(kombo: KomboFake) -> Iterator[KomboFake]:
    """The fake keeps every answer until a client leaves (or the test ends)."""
    kombo.hold()
    yield kombo
    kombo.release()


async def _upstream_called(kombo: KomboFake) -> None:
    await anyio.to_thread.run_sync(lambda: kombo.recorder.wait_for(1, timeout=WAIT))


async def _upstream_left(kombo: KomboFake) -> None:
    await anyio.to_thread.run_sync(lambda: kombo.recorder.wait_for_disconnects(1, timeout=WAIT))


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_cancelling_a_call_from_the_client_closes_the_upstream_request(
    mode: str, naftiko: NaftikoServer, held: KomboFake
) -> None:
    async with connect(naftiko.mcp_url, mode=mode) as client:
        with anyio.fail_after(WAIT):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(client.call_tool, "check-api-key", {})
                await _upstream_called(held)
                tasks.cancel_scope.cancel()
            await _upstream_left(held)
            held.release()
            after = await client.call_tool("check-api-key", {})

    assert held.disconnects == 1
    assert not after.is_error, after.content


async def test_ending_the_session_mid_call_closes_the_upstream_request(naftiko: NaftikoServer, held: KomboFake) -> None:
    async with httpx.AsyncClient(timeout=WAIT) as http:
        opened = await http.post(
            naftiko.mcp_url,
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": PROTOCOL,
                    "capabilities": {},
                    "clientInfo": {"name": "t", "version": "1"},
                },
            },
            headers={"accept": SSE_ACCEPT},
        )
        headers = {
            "accept": SSE_ACCEPT,
            "mcp-session-id": opened.headers["mcp-session-id"],
            "mcp-protocol-version": PROTOCOL,
        }
        await http.post(
            naftiko.mcp_url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers
        )
        with anyio.fail_after(WAIT):
            async with http.stream("POST", naftiko.mcp_url, json=CALL, headers=headers) as stream:
                assert stream.status_code == 200
                await _upstream_called(held)
                ended = await http.delete(naftiko.mcp_url, headers=headers)
                await _upstream_left(held)

    assert ended.status_code == 200
    assert held.disconnects == 1


async def test_a_stateless_caller_that_disconnects_mid_call_closes_the_upstream_request(
    kombo: KomboFake, api_key: str
) -> None:
    with NaftikoServer(
        [KOMBO_CAPABILITY],
        args=["--base-uri", f"kombo-general={kombo.base_url}", "--stateless"],
        env={"KOMBO_API_KEY": api_key},
    ) as server:
        server.wait_ready()
        kombo.hold()
        headers = {"accept": SSE_ACCEPT, "mcp-protocol-version": PROTOCOL}
        with anyio.fail_after(WAIT):
            async with (
                httpx.AsyncClient(timeout=WAIT) as http,
                http.stream("POST", server.mcp_url, json=CALL, headers=headers) as stream,
            ):
                assert stream.status_code == 200
                await _upstream_called(kombo)
            await _upstream_left(kombo)
        kombo.release()
        assert server.stop() == 0

    assert kombo.disconnects == 1
