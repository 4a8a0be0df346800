"""consumer/deadlines.py: read and total limits kept by one sweep, the attempt's task cancelled at expiry."""

from __future__ import annotations

import asyncio
import time

import anyio
import pytest

from naftiko_runtime.consumer.client import Timeouts
from naftiko_runtime.consumer.deadlines import MAX_TICK, MIN_TICK, Attempt, Deadlines, tick_for

pytestmark = pytest.mark.anyio


class Body:
    def __init__(self) -> None:
        self.total_bytes = 0


def current_task() -> asyncio.Task[object]:
    task = asyncio.current_task()
    assert task is not None
    return task


def test_the_sweep_looks_every_tenth_of_the_shortest_limit_within_bounds() -> None:
    assert tick_for(Timeouts(read=0.2, total=None)) == pytest.approx(0.02)
    assert tick_for(Timeouts(read=1.0, total=0.5)) == pytest.approx(0.05)
    assert tick_for(Timeouts(read=30.0, total=60.0)) == MAX_TICK
    assert tick_for(Timeouts(read=0.001, total=None)) == MIN_TICK


def test_limits_without_read_or_total_need_no_sweep() -> None:
    assert tick_for(Timeouts(connect=5.0, read=None, total=None)) is None
    assert Deadlines(Timeouts(read=None, total=None)).watch() is None
    assert Deadlines(Timeouts()).watch(Timeouts(read=None, total=None)) is None


async def test_waiting_for_the_answer_counts_against_the_read_limit() -> None:
    attempt = Attempt(current_task(), Timeouts(read=1.0, total=None))

    assert attempt.overdue(attempt.started + 0.9) is None
    assert attempt.overdue(attempt.started + 1.0) == "read"


async def test_each_part_of_the_body_that_arrives_starts_the_read_limit_again() -> None:
    attempt = Attempt(current_task(), Timeouts(read=1.0, total=None))
    body = Body()
    attempt.reading(body)
    start = attempt.started

    body.total_bytes = 10
    assert attempt.overdue(start + 1.5) is None  # progress seen at 1.5
    assert attempt.overdue(start + 2.4) is None
    assert attempt.overdue(start + 2.5) == "read"


async def test_the_total_limit_holds_however_the_body_progresses() -> None:
    attempt = Attempt(current_task(), Timeouts(read=1.0, total=2.0))
    body = Body()
    attempt.reading(body)

    body.total_bytes = 10
    assert attempt.overdue(attempt.started + 1.9) is None
    body.total_bytes = 20
    assert attempt.overdue(attempt.started + 2.0) == "total"


async def test_an_attempt_past_its_limit_has_its_task_cancelled_and_takes_the_cancellation_back() -> None:
    deadlines = Deadlines(Timeouts())
    timeouts = Timeouts(read=0.05, total=None)
    seen: list[object] = []

    async def attempt_held() -> str:
        attempt = deadlines.watch(timeouts)
        assert attempt is not None
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            seen.append(attempt.timed_out())
            if seen[-1] is not None:
                return "timed out"
            raise
        finally:
            deadlines.done(attempt)
        return "answered"

    with anyio.fail_after(5):
        outcome = await asyncio.ensure_future(attempt_held())

    assert outcome == "timed out"
    assert seen == ["read"]
    assert deadlines.next_sweep is None


async def test_a_cancellation_from_elsewhere_stands_even_when_a_limit_expired_too() -> None:
    deadlines = Deadlines(Timeouts())
    timeouts = Timeouts(read=30.0, total=None)
    held = asyncio.Event()
    watched: list[Attempt] = []

    async def attempt_held() -> None:
        attempt = deadlines.watch(timeouts)
        assert attempt is not None
        watched.append(attempt)
        try:
            held.set()
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            assert attempt.timed_out() is None
            raise
        finally:
            deadlines.done(attempt)

    with anyio.fail_after(5):
        task = asyncio.ensure_future(attempt_held())
        await held.wait()
        task.cancel()
        watched[0].expire("read")
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_the_sweep_stops_once_it_finds_no_attempt_under_way() -> None:
    deadlines = Deadlines(Timeouts())
    timeouts = Timeouts(read=0.05, total=None)
    first = deadlines.watch(timeouts)
    second = deadlines.watch(timeouts)
    assert first is not None and second is not None
    deadlines.done(first)
    deadlines.done(second)

    with anyio.fail_after(5):
        while deadlines.next_sweep is not None:  # the sweep due finds none, and schedules no other
            await asyncio.sleep(MIN_TICK)


async def test_an_attempt_ending_leaves_the_sweep_to_the_others_under_way() -> None:
    deadlines = Deadlines(Timeouts())
    timeouts = Timeouts(read=30.0, total=60.0)
    first = deadlines.watch(timeouts)
    second = deadlines.watch(timeouts)
    assert first is not None and second is not None

    deadlines.done(first)

    assert deadlines.next_sweep is not None


async def test_a_shorter_limit_brings_the_next_sweep_forward() -> None:
    deadlines = Deadlines(Timeouts())
    slow, fast = Timeouts(read=30.0, total=None), Timeouts(read=0.05, total=None)
    deadlines.watch(slow)
    later = deadlines.next_sweep
    assert later is not None

    before = time.monotonic()
    deadlines.watch(fast)
    sooner = deadlines.next_sweep

    assert sooner is not None
    assert sooner < later
    assert sooner <= time.monotonic() + MIN_TICK
    assert sooner >= before + MIN_TICK
