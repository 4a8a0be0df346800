"""Backpressure: a namespace's calls beyond its concurrency limit and queue get 503 with Retry-After, at once."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest

from naftiko_runtime.consumer.aiohttp_client import AiohttpClient
from naftiko_runtime.consumer.client import Timeouts, UpstreamOverloaded, UpstreamResponse
from naftiko_runtime.consumer.guard import GuardedClient, NamespaceGuard, Resilience
from naftiko_runtime.consumer.retry import RetryPolicy
from tests.conftest import SecretTripwire
from tests.e2e.mcp_client import connect
from tests.fakes.faulty import FaultyUpstream, Reply
from tests.resilience.conftest import item, shop_server, stopped

pytestmark = pytest.mark.anyio


@pytest.fixture
async def inner() -> AsyncIterator[AiohttpClient]:
    client = AiohttpClient(Timeouts(connect=2.0, read=10.0, total=10.0), limit=0)
    try:
        yield client
    finally:
        await client.close()


def limited(inner: AiohttpClient, limit: int, queue: int, queue_wait: float = 5.0) -> GuardedClient:
    namespace = NamespaceGuard("shop", Resilience(max_concurrency=limit, max_queue=queue))
    return GuardedClient(
        inner, namespace, "shop.get-item", idempotent=True, policy=RetryPolicy(), queue_wait=queue_wait
    )


async def test_a_call_beyond_the_limit_and_the_queue_is_refused_at_once_and_the_queued_one_runs_later(
    faulty: FaultyUpstream, inner: AiohttpClient
) -> None:
    faulty.set_default(Reply(hold=True))
    client = limited(inner, limit=2, queue=1)
    answers: list[UpstreamResponse] = []

    async def call() -> None:
        answers.append(await client.send(item(faulty.url)))

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            for _ in range(3):
                tasks.start_soon(call)
            await anyio.to_thread.run_sync(faulty.wait_held, 2)
            await anyio.wait_all_tasks_blocked()
            started = time.monotonic()
            with pytest.raises(UpstreamOverloaded) as caught:
                await client.send(item(faulty.url))
            refused_after = time.monotonic() - started
            faulty.set_default(Reply())
            faulty.release()

    assert refused_after < 0.5
    assert caught.value.retry_after == 1
    assert str(caught.value) == "namespace shop has reached --max-upstream-concurrency (2) and --max-upstream-queue (1)"
    assert [answer.status for answer in answers] == [200, 200, 200]
    assert len(faulty.seen) == 3


async def test_a_queued_call_that_gets_no_slot_in_time_is_refused(faulty: FaultyUpstream, inner: AiohttpClient) -> None:
    faulty.set_default(Reply(hold=True))
    client = limited(inner, limit=1, queue=5, queue_wait=0.2)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(client.send, item(faulty.url))
            await anyio.to_thread.run_sync(faulty.wait_held, 1)
            with pytest.raises(UpstreamOverloaded) as caught:
                await client.send(item(faulty.url))
            faulty.release()

    assert str(caught.value) == (
        "namespace shop has reached --max-upstream-concurrency (1) and no call ended within 0.2 s"
    )
    assert len(faulty.seen) == 1


async def test_zero_means_no_limit(faulty: FaultyUpstream, inner: AiohttpClient) -> None:
    faulty.set_default(Reply(hold=True))
    client = limited(inner, limit=0, queue=0)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            for _ in range(8):
                tasks.start_soon(client.send, item(faulty.url))
            await anyio.to_thread.run_sync(faulty.wait_held, 8)
            faulty.release()

    assert len(faulty.seen) == 8


async def test_overloaded_calls_are_503_with_retry_after_on_rest_and_is_error_on_mcp(
    faulty: FaultyUpstream, secret_tripwire: SecretTripwire
) -> None:
    faulty.set_default(Reply(hold=True))
    args = ["--max-upstream-concurrency", "2", "--max-upstream-queue", "1", "--connect-timeout", "20"]
    with shop_server(faulty, *args) as server:
        server.wait_ready()
        statuses: list[int] = []
        answered = anyio.Event()  # the first answer can only be a refusal: the others are held
        with anyio.fail_after(30):
            async with httpx.AsyncClient(timeout=20) as http, connect(server.mcp_url) as mcp:

                async def call() -> None:
                    statuses.append((await http.get(f"{server.rest_url}/items/1")).status_code)
                    answered.set()

                async with anyio.create_task_group() as tasks:
                    for _ in range(2):
                        tasks.start_soon(call)
                    await anyio.to_thread.run_sync(faulty.wait_held, 2)
                    # Of two more, one waits in the queue and the other is refused at once.
                    for _ in range(2):
                        tasks.start_soon(call)
                    await answered.wait()
                    started = time.monotonic()
                    refused = await http.get(f"{server.rest_url}/items/2")
                    tool = await mcp.call_tool("get-item", {"id": "3", "marker": "m"})
                    refused_after = time.monotonic() - started
                    faulty.set_default(Reply())
                    faulty.release()
        stopped(server, secret_tripwire)

    assert sorted(statuses) == [200, 200, 200, 503]
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    problem = refused.json()
    assert problem["operation"] == "shop.get-item"
    assert problem["retryAfter"] == 1
    assert problem["detail"] == (
        "upstream shop.get-item is busy: namespace shop has reached --max-upstream-concurrency (2) "
        "and --max-upstream-queue (1); retry after 1 s"
    )
    assert tool.is_error and "upstream shop.get-item is busy" in tool.content[0].text  # type: ignore[union-attr]
    assert refused_after < 2.0
    assert len(faulty.seen) == 3
