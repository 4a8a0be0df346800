"""Retries only where safe: idempotent calls recover from transient faults, no POST is processed twice."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import anyio
import httpx
import pytest

from naftiko_runtime.capability import LoadOptions, load_capability
from naftiko_runtime.consumer.aiohttp_client import AiohttpClient
from naftiko_runtime.consumer.client import Timeouts, UpstreamClient, UpstreamTimeout, UpstreamUnreachable
from naftiko_runtime.consumer.guard import GuardedClient, NamespaceGuard, Resilience
from naftiko_runtime.consumer.retry import RetryBudget, RetryPolicy, retry_after
from tests.conftest import SecretTripwire
from tests.e2e.mcp_client import connect
from tests.e2e.server import NaftikoServer
from tests.fakes.faulty import FaultyUpstream, failing, reset_after, reset_before, slow, truncated
from tests.resilience.conftest import SHOP, item, marker, order, shop_server, stopped

pytestmark = pytest.mark.anyio

FAST = RetryPolicy(base_delay=0.01, max_delay=0.05)


@pytest.fixture
async def inner() -> AsyncIterator[AiohttpClient]:
    client = AiohttpClient(Timeouts(connect=2.0, read=5.0, total=10.0))
    try:
        yield client
    finally:
        await client.close()


def guarded(inner: UpstreamClient, *, idempotent: bool | None = None, policy: RetryPolicy = FAST) -> GuardedClient:
    return GuardedClient(inner, NamespaceGuard("shop", Resilience()), "shop.op", idempotent=idempotent, policy=policy)


# -- when to wait, and how long


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()
    later = format_datetime(datetime(2026, 1, 2, 3, 4, 35, tzinfo=UTC), usegmt=True)
    earlier = format_datetime(datetime(2026, 1, 2, 3, 0, 0, tzinfo=UTC), usegmt=True)

    assert retry_after({"retry-after": "7"}) == 7.0
    assert retry_after({"Retry-After": later}, now=lambda: now) == 30.0
    assert retry_after({"retry-after": earlier}, now=lambda: now) == 0.0
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after({}) is None


def test_backoff_is_full_jitter_under_an_exponentially_growing_cap() -> None:
    policy = RetryPolicy(base_delay=0.2, max_delay=1.0)

    for attempt, ceiling in [(1, 0.2), (2, 0.4), (3, 0.8), (4, 1.0), (9, 1.0)]:
        delays = [policy.backoff(attempt) for _ in range(200)]
        assert all(0.0 <= delay <= ceiling for delay in delays)
        assert min(delays) < ceiling / 4 and max(delays) > ceiling * 3 / 4


def test_an_upstream_asking_to_wait_longer_than_the_cap_is_not_retried() -> None:
    policy = RetryPolicy(max_retry_after=10.0)

    assert policy.delay_after(429, {"retry-after": "3"}, 1) == 3.0
    assert policy.delay_after(429, {"retry-after": "3600"}, 1) is None


def test_the_retry_budget_allows_a_burst_then_a_fraction_of_calls_plus_a_trickle_per_second() -> None:
    now = [0.0]
    budget = RetryBudget(ratio=0.2, per_second=1.0, burst=3.0, clock=lambda: now[0])

    assert [budget.withdraw() for _ in range(4)] == [True, True, True, False]
    for _ in range(5):
        budget.deposit()
    assert [budget.withdraw(), budget.withdraw()] == [True, False]
    now[0] += 1.0
    assert [budget.withdraw(), budget.withdraw()] == [True, False]


# -- which operations are idempotent, decided once at load


def test_idempotency_is_the_operations_by_method_or_declared_by_a_tool_hint() -> None:
    capability = load_capability(SHOP, LoadOptions(environ={}))

    assert capability.idempotent == {"shop.get-item", "shop.search", "shop.get-report"}


def test_an_aggregate_function_declared_idempotent_makes_the_post_it_calls_idempotent(tmp_path: Path) -> None:
    source = tmp_path / "quotes.yaml"
    source.write_text(
        'naftiko: "1.0.0-alpha2"\n'
        "capability:\n"
        "  consumes:\n"
        "    - namespace: shop\n      type: http\n      baseUri: http://shop.invalid\n"
        "      resources:\n"
        "        - name: quotes\n          path: /quotes\n          operations:\n"
        "            - {name: quote, method: POST}\n"
        "            - {name: book, method: POST}\n"
        "  aggregates:\n"
        "    - namespace: pricing\n      functions:\n"
        "        - {name: price, call: shop.quote, semantics: {idempotent: true}}\n"
        "        - {name: order, call: shop.book, semantics: {idempotent: false}}\n"
        "  exposes:\n"
        "    - type: rest\n      namespace: api\n      resources:\n"
        "        - path: /quotes\n          operations:\n"
        "            - {method: POST, ref: pricing.price}\n"
        "            - {method: PUT, ref: pricing.order}\n"
    )

    capability = load_capability(source, LoadOptions(environ={}))

    assert capability.idempotent == {"shop.quote"}


# -- the guard against a faulty upstream, in-process


async def test_a_get_recovers_when_the_upstream_answers_503_then_502(
    faulty: FaultyUpstream, inner: AiohttpClient
) -> None:
    faulty.script(failing(503), failing(502))

    with anyio.fail_after(10):
        response = await guarded(inner).send(item(faulty.url))

    assert response.status == 200
    assert len(faulty.seen) == 3


async def test_a_get_recovers_from_a_reset_connection_and_a_truncated_answer(
    faulty: FaultyUpstream, inner: AiohttpClient
) -> None:
    faulty.script(reset_before(), truncated())

    with anyio.fail_after(10):
        response = await guarded(inner).send(item(faulty.url))

    assert response.status == 200


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_post_answered_with_a_server_error_is_sent_once_and_the_answer_comes_back(
    faulty: FaultyUpstream, inner: AiohttpClient, status: int
) -> None:
    faulty.script(failing(status, processes=True))
    mark = marker()

    with anyio.fail_after(10):
        response = await guarded(inner).send(order(faulty.url, mark))

    assert response.status == status
    assert len(faulty.seen) == 1
    assert faulty.processed[mark] == 1


@pytest.mark.parametrize("fault", [reset_after(), truncated()], ids=["reset-after", "truncated"])
async def test_a_post_whose_answer_was_lost_is_not_sent_again(
    faulty: FaultyUpstream, inner: AiohttpClient, fault: object
) -> None:
    faulty.script(fault)  # type: ignore[arg-type]
    mark = marker()

    with anyio.fail_after(10), pytest.raises(UpstreamUnreachable) as caught:
        await guarded(inner).send(order(faulty.url, mark))

    assert caught.value.attempts == 1
    assert faulty.processed[mark] == 1
    assert len(faulty.seen) == 1


async def test_a_post_answered_429_was_not_processed_so_it_is_sent_again_once(
    faulty: FaultyUpstream, inner: AiohttpClient
) -> None:
    faulty.script(failing(429, retry_after="0"))
    mark = marker()

    with anyio.fail_after(10):
        response = await guarded(inner).send(order(faulty.url, mark))

    assert response.status == 200
    assert faulty.processed[mark] == 1
    assert len(faulty.seen) == 2


async def test_a_refused_connection_is_tried_again_even_for_a_post(inner: AiohttpClient, closed_port: int) -> None:
    with anyio.fail_after(10), pytest.raises(UpstreamUnreachable) as caught:
        await guarded(inner).send(order(f"http://127.0.0.1:{closed_port}", marker()))

    assert caught.value.attempts == 3
    assert not caught.value.sent


async def test_a_post_declared_idempotent_is_retried_after_503(faulty: FaultyUpstream, inner: AiohttpClient) -> None:
    faulty.script(failing(503), failing(504, processes=True))

    with anyio.fail_after(10):
        response = await guarded(inner, idempotent=True).send(order(faulty.url, marker()))

    assert response.status == 200
    assert len(faulty.seen) == 3


async def test_retry_after_seconds_are_waited_for_before_the_next_attempt(
    faulty: FaultyUpstream, inner: AiohttpClient
) -> None:
    faulty.script(failing(503, retry_after="1"))
    started = time.monotonic()

    with anyio.fail_after(10):
        response = await guarded(inner).send(item(faulty.url))

    assert response.status == 200
    assert time.monotonic() - started >= 0.95


async def test_a_retry_after_beyond_the_cap_is_passed_through_at_once(
    faulty: FaultyUpstream, inner: AiohttpClient
) -> None:
    faulty.script(failing(503, retry_after="3600"))
    started = time.monotonic()

    with anyio.fail_after(10):
        response = await guarded(inner).send(item(faulty.url))

    assert response.status == 503
    assert response.headers["retry-after"] == "3600"
    assert len(faulty.seen) == 1
    assert time.monotonic() - started < 1.0


async def test_when_retries_are_exhausted_the_last_upstream_answer_comes_back(
    faulty: FaultyUpstream, inner: AiohttpClient
) -> None:
    faulty.set_default(failing(503))

    with anyio.fail_after(10):
        response = await guarded(inner).send(item(faulty.url))

    assert response.status == 503
    assert len(faulty.seen) == 3


async def test_a_timeout_is_not_retried(faulty: FaultyUpstream) -> None:
    faulty.script(slow(3.0))
    client = AiohttpClient(Timeouts(connect=2.0, read=5.0, total=0.3))
    try:
        with anyio.fail_after(10), pytest.raises(UpstreamTimeout) as caught:
            await guarded(client).send(item(faulty.url))
    finally:
        await client.close()

    assert str(caught.value) == "no complete answer within 0.3 s"
    assert len(faulty.seen) == 1


async def test_zero_retries_sends_every_request_once(faulty: FaultyUpstream, inner: AiohttpClient) -> None:
    faulty.script(failing(503))

    with anyio.fail_after(10):
        response = await guarded(inner, policy=RetryPolicy(retries=0)).send(item(faulty.url))

    assert response.status == 503
    assert len(faulty.seen) == 1


async def test_the_retry_budget_stops_a_retry_storm_against_a_failing_upstream(
    faulty: FaultyUpstream, inner: AiohttpClient
) -> None:
    faulty.set_default(failing(503))
    client = guarded(inner)

    with anyio.fail_after(20):
        for _ in range(40):
            assert (await client.send(item(faulty.url))).status == 503

    # Unbudgeted: 120 requests. Budgeted: 40 calls, a burst of 10, 20% of 40, about a second's trickle.
    assert 50 <= len(faulty.seen) <= 62


# -- through `naftiko serve`, REST and MCP


@pytest.fixture(scope="module")
def served(faulty: FaultyUpstream, secret_tripwire: SecretTripwire) -> Iterator[NaftikoServer]:
    with shop_server(faulty) as server:
        server.wait_ready()
        yield server
        stopped(server, secret_tripwire)


async def test_rest_and_mcp_calls_recover_from_transient_upstream_faults(
    faulty: FaultyUpstream, served: NaftikoServer
) -> None:
    faulty.script(failing(503), reset_before(), on="GET /items/1")
    faulty.script(failing(429, retry_after="0"), truncated(), on="GET /items/2")

    with anyio.fail_after(20):
        async with httpx.AsyncClient(timeout=10) as http:
            rest = await http.get(f"{served.rest_url}/items/1")
        async with connect(served.mcp_url) as mcp:
            tool = await mcp.call_tool("get-item", {"id": "2", "marker": marker()})

    assert rest.status_code == 200
    assert rest.json()["path"] == "/items/1"
    assert not tool.is_error
    assert [seen.path for seen in faulty.seen] == ["/items/1"] * 3 + ["/items/2"] * 3


async def test_an_order_whose_answer_was_lost_is_a_502_naming_the_operation_and_processed_once(
    faulty: FaultyUpstream, served: NaftikoServer
) -> None:
    faulty.script(reset_after(), reset_after(), on="POST /orders")
    rest_mark, mcp_mark = marker(), marker()

    with anyio.fail_after(20):
        async with httpx.AsyncClient(timeout=10) as http:
            rest = await http.post(f"{served.rest_url}/orders", json={"marker": rest_mark, "item": "tea"})
        async with connect(served.mcp_url) as mcp:
            tool = await mcp.call_tool("create-order", {"marker": mcp_mark, "item": "tea"})

    assert rest.status_code == 502
    assert rest.headers["content-type"] == "application/problem+json"
    assert rest.json()["operation"] == "shop.create-order"
    assert tool.is_error and "shop.create-order" in tool.content[0].text  # type: ignore[union-attr]
    assert faulty.processed == {rest_mark: 1, mcp_mark: 1}
    assert len(faulty.seen) == 2


async def test_exhausted_retries_pass_the_upstreams_last_answer_through(
    faulty: FaultyUpstream, served: NaftikoServer
) -> None:
    faulty.set_default(failing(503))

    with anyio.fail_after(20):
        async with httpx.AsyncClient(timeout=10) as http:
            rest = await http.get(f"{served.rest_url}/items/1")
        async with connect(served.mcp_url) as mcp:
            tool = await mcp.call_tool("get-item", {"id": "1", "marker": marker()})

    assert rest.status_code == 503
    assert rest.json() == {"error": {"message": "fake upstream answered 503"}}
    assert tool.is_error and "answered HTTP 503" in tool.content[0].text  # type: ignore[union-attr]
    assert len(faulty.seen) == 6


async def test_an_unreachable_upstream_is_502_naming_the_operation_and_the_attempts(
    faulty: FaultyUpstream, closed_port: int, secret_tripwire: SecretTripwire
) -> None:
    with shop_server(faulty, "--base-uri", f"shop=http://127.0.0.1:{closed_port}") as server:
        server.wait_ready()
        with anyio.fail_after(20):
            async with httpx.AsyncClient(timeout=10) as http:
                rest = await http.post(f"{server.rest_url}/orders", json={"marker": marker(), "item": "tea"})
            async with connect(server.mcp_url) as mcp:
                tool = await mcp.call_tool("get-item", {"id": "1", "marker": marker()})
        stopped(server, secret_tripwire)

    assert rest.status_code == 502
    assert rest.json()["operation"] == "shop.create-order"
    assert rest.json()["detail"].endswith("(3 attempts)")
    text = tool.content[0].text  # type: ignore[union-attr]
    assert tool.is_error and "shop.get-item unreachable" in text and "(3 attempts)" in text


async def test_retries_0_on_the_command_line_sends_every_call_once(
    faulty: FaultyUpstream, secret_tripwire: SecretTripwire
) -> None:
    faulty.set_default(failing(503))
    with shop_server(faulty, "--retries", "0") as server:
        server.wait_ready()
        with anyio.fail_after(20):
            async with httpx.AsyncClient(timeout=10) as http:
                rest = await http.get(f"{server.rest_url}/items/1")
        stopped(server, secret_tripwire)

    assert rest.status_code == 503
    assert len(faulty.seen) == 1
