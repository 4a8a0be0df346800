"""A namespace's concurrency slots: taken at once when free, handed in order when released, never lost."""

from __future__ import annotations

import asyncio

import pytest

from naftiko_runtime.consumer.client import UpstreamOverloaded
from naftiko_runtime.consumer.limits import ConcurrencyLimit

pytestmark = pytest.mark.anyio


async def test_free_slots_are_taken_at_once_and_a_full_limit_takes_none() -> None:
    limit = ConcurrencyLimit("shop", limit=2, queue=1)
    assert limit.try_acquire()
    await limit.acquire(1.0)
    assert not limit.try_acquire()
    limit.release()
    assert limit.try_acquire()


async def test_released_slots_go_to_the_waiting_callers_first_come_first_served() -> None:
    limit = ConcurrencyLimit("shop", limit=1, queue=3)
    assert limit.try_acquire()
    served: list[int] = []

    async def wait_then_note(number: int) -> None:
        await limit.acquire(5.0)
        served.append(number)

    waiting = [asyncio.create_task(wait_then_note(number)) for number in range(3)]
    await asyncio.sleep(0)
    assert limit.waiting == 3
    assert not limit.try_acquire(), "a free-slot fast path must not overtake callers that wait"
    for _ in range(3):
        limit.release()
        await asyncio.sleep(0)
    await asyncio.gather(*waiting)
    assert served == [0, 1, 2]
    assert limit.waiting == 0


async def test_a_caller_cancelled_just_after_being_handed_a_slot_passes_it_on() -> None:
    limit = ConcurrencyLimit("shop", limit=1, queue=2)
    assert limit.try_acquire()
    first = asyncio.create_task(limit.acquire(5.0))
    second = asyncio.create_task(limit.acquire(5.0))
    await asyncio.sleep(0)
    limit.release()  # handed to `first`, which is cancelled before it runs again
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, 1.0)
    limit.release()
    assert limit.try_acquire(), "the slot came back after its last holder released it"


async def test_a_caller_that_waits_too_long_is_refused_and_leaves_no_trace_in_the_queue() -> None:
    limit = ConcurrencyLimit("shop", limit=1, queue=1)
    assert limit.try_acquire()
    with pytest.raises(UpstreamOverloaded, match="no call ended within"):
        await limit.acquire(0.01)
    assert limit.waiting == 0
    limit.release()
    assert limit.try_acquire()


async def test_a_caller_beyond_the_queue_is_refused_at_once() -> None:
    limit = ConcurrencyLimit("shop", limit=1, queue=1)
    assert limit.try_acquire()
    queued = asyncio.create_task(limit.acquire(5.0))
    await asyncio.sleep(0)
    with pytest.raises(UpstreamOverloaded, match="max-upstream-queue"):
        await limit.acquire(5.0)
    limit.release()
    await asyncio.wait_for(queued, 1.0)
