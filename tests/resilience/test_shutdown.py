"""SIGTERM: no new connections, calls in flight finish within --graceful-timeout, event streams end, exit 0."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.server import NaftikoServer
from tests.fakes import FakeServer
from tests.resilience.upstream import capability, echo_upstream

pytestmark = pytest.mark.anyio


@pytest.fixture
def upstream() -> Iterator[FakeServer]:
    with echo_upstream() as fake:
        yield fake


@pytest.fixture
def served(upstream: FakeServer, tmp_path: Path) -> Path:
    path = tmp_path / "things.yaml"
    path.write_text(capability(upstream.url))
    return path


def _timed_stop(server: NaftikoServer) -> tuple[int, float]:
    started = time.monotonic()
    code = server.stop(signal.SIGTERM)
    return code, time.monotonic() - started


def _call_in_background(url: str, answers: list[httpx.Response | Exception]) -> threading.Thread:
    def call() -> None:
        try:
            answers.append(httpx.get(url, timeout=30))
        except httpx.HTTPError as exc:
            answers.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    return caller


def test_a_slow_call_in_flight_completes_after_sigterm_and_new_connections_are_refused(
    upstream: FakeServer, served: Path
) -> None:
    upstream.delay_seconds = 1.5
    with NaftikoServer([served]) as server:
        server.wait_ready()
        answers: list[httpx.Response | Exception] = []
        caller = _call_in_background(f"{server.rest_url}/things/slow", answers)
        upstream.recorder.wait_for(1)
        server._process.send_signal(signal.SIGTERM)
        refused = False
        deadline = time.monotonic() + 1.0
        while not refused and time.monotonic() < deadline:
            try:
                httpx.get(f"{server.rest_url}/healthz", timeout=1)
            except httpx.TransportError:  # refused, or reset in the closing listener's backlog
                refused = True
        code, _ = _timed_stop(server)
        caller.join(timeout=15)
    assert code == 0
    assert refused
    answer = answers[0]
    assert isinstance(answer, httpx.Response) and answer.status_code == 200
    assert answer.json()["path"] == "/things/slow"


def test_a_call_longer_than_the_graceful_timeout_is_cut_and_the_exit_is_still_0_and_prompt(
    upstream: FakeServer, served: Path
) -> None:
    upstream.hold()
    with NaftikoServer([served], args=["--graceful-timeout", "1"]) as server:
        server.wait_ready()
        answers: list[httpx.Response | Exception] = []
        caller = _call_in_background(f"{server.rest_url}/things/stuck", answers)
        upstream.recorder.wait_for(1)
        code, elapsed = _timed_stop(server)
        caller.join(timeout=15)
    assert code == 0
    assert elapsed < 5, f"stopping took {elapsed:.1f} s"
    answer = answers[0]
    assert isinstance(answer, Exception) or answer.status_code >= 500
    upstream.recorder.wait_for_disconnects(1)  # the upstream request was closed, not left hanging
    assert "Traceback" not in server.output


async def test_an_mcp_session_holding_its_event_stream_does_not_delay_the_stop_and_its_call_completes(
    upstream: FakeServer, served: Path
) -> None:
    upstream.delay_seconds = 1.0
    results = []
    stopped: list[tuple[int, float]] = []
    with NaftikoServer([served]) as server:
        server.wait_ready()
        try:
            async with (
                httpx2.AsyncClient(timeout=httpx2.Timeout(30.0)) as http,
                Client(streamable_http_client(server.mcp_url, http_client=http), mode="legacy") as client,
                anyio.create_task_group() as tasks,
            ):

                async def call() -> None:
                    results.append(await client.call_tool("get-thing", {"id": "slow"}))

                await client.list_tools()  # the client checks results against the schema it holds
                tasks.start_soon(call)
                await anyio.to_thread.run_sync(lambda: upstream.recorder.wait_for(1))
                stopped.append(await anyio.to_thread.run_sync(lambda: _timed_stop(server)))
        except* httpx2.ConnectError:
            pass  # the client's own goodbye finds the server gone: the client's business
    code, elapsed = stopped[0]
    assert code == 0
    assert elapsed < 5, f"stopping took {elapsed:.1f} s with an MCP client connected"
    assert not results[0].is_error
    assert results[0].structured_content == {"version": "v1", "path": "/things/slow"}


async def test_a_2024_sse_client_stream_is_closed_on_stop(served: Path) -> None:
    with NaftikoServer([served]) as server:
        server.wait_ready()
        url = server.mcp_url.removesuffix("/mcp") + "/sse"
        async with Client(sse_client(url, timeout=30), mode="legacy") as client:
            await client.list_tools()
            code, elapsed = await anyio.to_thread.run_sync(lambda: _timed_stop(server))
    assert code == 0
    assert elapsed < 5, f"stopping took {elapsed:.1f} s with an SSE client connected"


async def test_a_listening_2026_client_sees_its_stream_end_on_stop(served: Path) -> None:
    with NaftikoServer([served]) as server:
        server.wait_ready()
        async with Client(server.mcp_url) as client, client.listen(tools_list_changed=True) as subscription:
            code, elapsed = await anyio.to_thread.run_sync(lambda: _timed_stop(server))
            with anyio.fail_after(5):
                events = [event async for event in subscription]
    assert code == 0
    assert elapsed < 5, f"stopping took {elapsed:.1f} s with a listen stream open"
    assert events == []
