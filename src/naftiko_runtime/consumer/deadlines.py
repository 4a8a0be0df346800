"""The read and total timeouts of the upstream attempts under way, kept by one periodic sweep.

aiohttp keeps them with timers of its own: one made and cancelled per request for the total, and
the read timer made again on every chunk that arrives. Measured under load, that was about 8 µs of
CPU per request, more with logs, metrics and traces on (a heap of timers is slower to change).

Here an attempt notes when it started in a table, and one timer, running only while attempts are
under way, looks at them every `tick`: a tenth of the shortest limit in use, between 5 ms and
250 ms. An attempt past a limit has its task cancelled, and the client's `send` turns that
cancellation into its timeout (`Attempt.timed_out` says which limit). So a timeout fires at most one tick
late, never early.

The read limit counts from the attempt's start to the answer's headers, then between the body's
chunks: the sweep sees the body's byte count move (`Attempt.reading`).
"""

from __future__ import annotations

import asyncio
import time
from typing import Literal, Protocol

from naftiko_runtime.consumer.client import Timeouts

Limit = Literal["read", "total"]
_SHARE = 0.1
MIN_TICK = 0.005
MAX_TICK = 0.25


class Body(Protocol):
    """What the sweep reads of an answer's body as it arrives (aiohttp's `StreamReader`)."""

    total_bytes: int


def tick_for(timeouts: Timeouts) -> float | None:
    """How often attempts under `timeouts` are looked at; None: they have no read or total limit."""
    limits = [limit for limit in (timeouts.read, timeouts.total) if limit is not None]
    if not limits:
        return None
    return min(max(min(limits) * _SHARE, MIN_TICK), MAX_TICK)


class Attempt:
    """One attempt's limits and progress, in its client's `Deadlines` until it ends."""

    __slots__ = ("_body", "_cancelling", "_expired", "_progress", "_read", "_seen", "_task", "_total", "started")

    def __init__(self, task: asyncio.Task[object], timeouts: Timeouts) -> None:
        self._task = task
        self._cancelling = task.cancelling()
        self._read = timeouts.read
        self._total = timeouts.total
        self.started = self._progress = time.monotonic()
        self._body: Body | None = None
        self._seen = 0
        self._expired: Limit | None = None

    def reading(self, body: Body) -> None:
        """The answer's headers are in; its body arrives through `body`."""
        self._body = body
        self._seen = body.total_bytes
        self._progress = time.monotonic()

    def overdue(self, now: float) -> Limit | None:
        """The limit this attempt has gone past at `now`, if any (the body's progress noted)."""
        if self._total is not None and now - self.started >= self._total:
            return "total"
        if self._read is None:
            return None
        body = self._body
        if body is not None and body.total_bytes != self._seen:
            self._seen = body.total_bytes
            self._progress = now
            return None
        return "read" if now - self._progress >= self._read else None

    def expire(self, limit: Limit) -> None:
        self._expired = limit
        self._task.cancel()

    def timed_out(self) -> Limit | None:
        """The limit whose expiry the cancellation being handled is, when it is that alone: then it is
        taken back (the task goes on, to raise the timeout). None: a cancellation from elsewhere stands."""
        if self._expired is None or self._task.uncancel() > self._cancelling:
            return None
        return self._expired


class Deadlines:
    """The attempts of one client (one event loop) under way, and the timer that sweeps them."""

    def __init__(self, defaults: Timeouts) -> None:
        """`defaults`: the client's own timeouts (their tick made once; most attempts keep to them)."""
        self._defaults = defaults
        self._default_tick = tick_for(defaults)
        self._live: dict[Attempt, float] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._due = 0.0

    def watch(self, timeouts: Timeouts | None = None) -> Attempt | None:
        """Start keeping an attempt of the current task to `timeouts` (None: the client's own); None
        when they set no read or total limit."""
        if timeouts is None:
            timeouts, tick = self._defaults, self._default_tick
        else:
            tick = tick_for(timeouts)
        if tick is None:
            return None
        task = asyncio.current_task()
        assert task is not None, "an upstream attempt runs in a task"
        attempt = Attempt(task, timeouts)
        self._live[attempt] = tick
        if self._timer is None or attempt.started + tick < self._due:
            self._schedule(tick)
        return attempt

    @property
    def next_sweep(self) -> float | None:
        """When (`time.monotonic()`) the attempts are looked at next; None: none is under way."""
        return self._due if self._timer is not None else None

    def done(self, attempt: Attempt) -> None:
        self._live.pop(attempt, None)  # an expired one is already out

    def close(self) -> None:
        """Stop sweeping (the client is closed; it may be used again, from another event loop)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._live.clear()

    def _schedule(self, tick: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._due = time.monotonic() + tick
        self._timer = asyncio.get_running_loop().call_later(tick, self._sweep)

    def _sweep(self) -> None:
        self._timer = None
        now = time.monotonic()
        tick = MAX_TICK
        for attempt, its_tick in list(self._live.items()):
            limit = attempt.overdue(now)
            if limit is None:
                tick = min(tick, its_tick)
            else:
                del self._live[attempt]
                attempt.expire(limit)
        if self._live:
            self._schedule(tick)
