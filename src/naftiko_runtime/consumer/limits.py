"""Backpressure: at most `limit` calls to one upstream at once, at most `queue` more waiting.

A call beyond both is refused at once (`UpstreamOverloaded`, answered 503 with `Retry-After`),
and so is one that waited longer than it may; callers never pile up behind a slow upstream.
"""

from __future__ import annotations

import asyncio

from naftiko_runtime.consumer.client import UpstreamOverloaded

DEFAULT_MAX_CONCURRENCY = 100
DEFAULT_MAX_QUEUE = 100
# What a refused caller is told to wait: a slot frees as soon as one call ends.
RETRY_AFTER_SECONDS = 1


class ConcurrencyLimit:
    """Slots for one namespace's upstream calls; waiting callers are served first come, first served."""

    __slots__ = ("_limit", "_name", "_queue", "_semaphore", "_waiting")

    def __init__(self, name: str, limit: int = DEFAULT_MAX_CONCURRENCY, queue: int = DEFAULT_MAX_QUEUE) -> None:
        self._name = name
        self._limit = limit
        self._queue = queue
        self._semaphore = asyncio.Semaphore(limit)
        self._waiting = 0

    @property
    def waiting(self) -> int:
        return self._waiting

    async def acquire(self, wait: float | None) -> None:
        """A slot, waiting at most `wait` seconds for one (None: as long as it takes)."""
        if not self._semaphore.locked():
            await self._semaphore.acquire()  # free: returns without suspending
            return
        if self._waiting >= self._queue:
            raise self._refusal(f"--max-upstream-queue ({self._queue})")
        self._waiting += 1
        try:
            async with asyncio.timeout(wait):
                await self._semaphore.acquire()
        except TimeoutError:
            raise self._refusal(f"no call ended within {wait:g} s") from None
        finally:
            self._waiting -= 1

    def release(self) -> None:
        self._semaphore.release()

    def _refusal(self, why: str) -> UpstreamOverloaded:
        return UpstreamOverloaded(
            f"namespace {self._name} has reached --max-upstream-concurrency ({self._limit}) and {why}",
            retry_after=RETRY_AFTER_SECONDS,
        )
