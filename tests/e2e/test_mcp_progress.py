"""A slow tool call reports progress to callers that asked for it, until the upstream answers."""

from __future__ import annotations

import anyio
import pytest

from tests.e2e.conftest import KOMBO_CAPABILITY
from tests.e2e.mcp_client import connect
from tests.e2e.server import NaftikoServer
from tests.fakes import KomboFake

pytestmark = pytest.mark.anyio

CALL_TIMEOUT = 20.0
Update = tuple[float, float | None, str | None]


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_a_slow_call_reports_elapsed_seconds_naming_the_operation_until_it_answers(
    mode: str, naftiko: NaftikoServer, kombo: KomboFake
) -> None:
    updates: list[Update] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))
        if len(updates) == 2:
            kombo.release()

    kombo.hold()
    async with connect(naftiko.mcp_url, mode=mode) as client:
        with anyio.fail_after(CALL_TIMEOUT):
            result = await client.call_tool("check-api-key", {}, progress_callback=on_progress)

    assert not result.is_error, result.content
    assert len(updates) >= 2
    progress = [update[0] for update in updates]
    assert progress == sorted(progress) and len(set(progress)) == len(progress)
    assert progress[0] >= 1.0
    assert all(total is None for _, total, _ in updates)
    assert updates[0][2] == "waiting for upstream kombo-general.getcheckapikey: 1 s"


async def test_a_fast_call_reports_no_progress(naftiko: NaftikoServer, kombo: KomboFake) -> None:
    updates: list[Update] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    async with connect(naftiko.mcp_url) as client:
        result = await client.call_tool("check-api-key", {}, progress_callback=on_progress)

    assert not result.is_error
    assert updates == []


async def test_json_response_mode_sends_no_progress_and_still_answers(kombo: KomboFake, api_key: str) -> None:
    updates: list[Update] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    kombo.delay_seconds = 1.5
    with NaftikoServer(
        [KOMBO_CAPABILITY],
        args=["--base-uri", f"kombo-general={kombo.base_url}", "--json-response"],
        env={"KOMBO_API_KEY": api_key},
    ) as server:
        server.wait_ready()
        async with connect(server.mcp_url, mode="legacy") as client:
            with anyio.fail_after(CALL_TIMEOUT):
                result = await client.call_tool("check-api-key", {}, progress_callback=on_progress)
        assert server.stop() == 0

    assert not result.is_error
    assert updates == []
