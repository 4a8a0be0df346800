"""A burst under faults: 50 concurrent callers, REST and MCP, against an upstream failing 10% of the time."""

from __future__ import annotations

from collections import Counter

import anyio
import httpx
import pytest

from tests.conftest import SecretTripwire
from tests.e2e.mcp_client import connect
from tests.fakes.faulty import TRANSIENT_FAULTS, FaultyUpstream
from tests.resilience.conftest import marker, shop_server, stopped

pytestmark = pytest.mark.anyio

REST_CALLERS = 30
MCP_CALLERS = 20
# What a caller may see besides a success: a runtime-made 502/503/504 or the upstream's own answer.
EXPECTED_FAILURES = {429, 502, 503, 504}


async def test_a_burst_of_rest_and_mcp_callers_under_faults_is_answered_without_500s_or_double_orders(
    faulty: FaultyUpstream, secret_tripwire: SecretTripwire
) -> None:
    faulty.inject(0.1, TRANSIENT_FAULTS, seed=8)
    rest_statuses: Counter[tuple[str, int]] = Counter()
    mcp_outcomes: Counter[tuple[str, str]] = Counter()
    orders: list[str] = []
    failures: list[str] = []

    with shop_server(faulty) as server:
        server.wait_ready()

        async def rest_caller(http: httpx.AsyncClient) -> None:
            mark = marker()
            orders.append(mark)
            answers = [
                ("get-item", await http.get(f"{server.rest_url}/items/1", headers={"X-Marker": marker()})),
                ("create-order", await http.post(f"{server.rest_url}/orders", json={"marker": mark, "item": "tea"})),
                ("search", await http.post(f"{server.rest_url}/search", json={"marker": marker(), "text": "tea"})),
            ]
            for name, answer in answers:
                rest_statuses[(name, answer.status_code)] += 1
                if answer.status_code != 200 and answer.status_code not in EXPECTED_FAILURES:
                    failures.append(f"REST {name}: {answer.status_code} {answer.text}")

        async def mcp_caller() -> None:
            mark = marker()
            orders.append(mark)
            async with connect(server.mcp_url) as mcp:
                for name, arguments in [
                    ("get-item", {"id": "1", "marker": marker()}),
                    ("create-order", {"marker": mark, "item": "tea"}),
                    ("search", {"marker": marker(), "text": "tea"}),
                ]:
                    result = await mcp.call_tool(name, arguments)
                    text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
                    mcp_outcomes[(name, "error" if result.is_error else "ok")] += 1
                    if result.is_error and not any(f"({status})" in text or f"HTTP {status}" in text
                                                   for status in EXPECTED_FAILURES):  # fmt: skip
                        failures.append(f"MCP {name}: {text}")

        with anyio.fail_after(90):
            limits = httpx.Limits(max_connections=REST_CALLERS)
            async with httpx.AsyncClient(timeout=30, limits=limits) as http, anyio.create_task_group() as callers:
                for _ in range(REST_CALLERS):
                    callers.start_soon(rest_caller, http)
                for _ in range(MCP_CALLERS):
                    callers.start_soon(mcp_caller)
        stopped(server, secret_tripwire)

    assert failures == []
    assert sum(rest_statuses.values()) == 3 * REST_CALLERS
    assert sum(mcp_outcomes.values()) == 3 * MCP_CALLERS
    processed = faulty.processed
    assert all(processed[mark] <= 1 for mark in orders), "an order was processed twice"
    faults = sum(1 for seen in faulty.seen if seen.reply in TRANSIENT_FAULTS)
    assert faults >= 5  # the faults did happen
    # Reads are retried, so nearly all of them recover.
    reads_ok = rest_statuses[("get-item", 200)] + mcp_outcomes[("get-item", "ok")]
    assert reads_ok >= REST_CALLERS + MCP_CALLERS - 3
