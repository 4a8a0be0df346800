"""Backpressure: at most `limit` calls to one upstream at once, at most `queue` more waiting.

A call beyond both is refused at once (`UpstreamOverloaded`, answered 503 with `Retry-After`),
and so is one that waited longer than it may; callers never pile up behind a slow upstream.
"""

from __future__ import annotations

import asyncio
import collections

from naftiko_runtime.consumer.client import UpstreamOverloaded

DEFAULT_MAX_CONCURRENCY = 100
DEFAULT_MAX_QUEUE = 100
# What a refused caller is told to wait: a slot frees as soon as one call ends.
RETRY_AFTER_SECONDS = 1


class ConcurrencyLimit:
    """Slots for one namespace's upstream calls; waiting callers are served first come, first served.

    A free slot is taken without a coroutine (`try_acquire`, the common case); a slot released
    while callers wait goes straight to the first of them.
    """

    __slots__ = ("_free", "_limit", "_name", "_queue", "_waiters")

    def __init__(self, name: str, limit: int = DEFAULT_MAX_CONCURRENCY, queue: int = DEFAULT_MAX_QUEUE) -> None:
        self._name = name
        self._limit = limit
        self._queue = queue
        self._free = limit
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def try_acquire(self) -> bool:
        """Take a free slot at once, if one is free and nobody waits for it."""
        if self._free and not self._waiters:
            self._free -= 1
            return True
        return False

    async def acquire(self, wait: float | None) -> None:
        """A slot, waiting at most `wait` seconds for one (None: as long as it takes)."""
        if self.try_acquire():
            return
        if len(self._waiters) >= self._queue:
            raise self._refusal(f"--max-upstream-queue ({self._queue})")
        handed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(handed)
        try:
            async with asyncio.timeout(wait):
                await handed
        except BaseException as exc:
            if handed.done() and not handed.cancelled():
                self.release()  # handed a slot just as the wait ended: pass it on
            elif handed in self._waiters:  # a release may have dropped it already
                self._waiters.remove(handed)
            if isinstance(exc, TimeoutError):
                raise self._refusal(f"no call ended within {wait:g} s") from None
            raise

    def release(self) -> None:
        waiters = self._waiters
        while waiters:
            handed = waiters.popleft()
            if not handed.done():
                handed.set_result(None)
                return
        self._free += 1

    def _refusal(self, why: str) -> UpstreamOverloaded:
        return UpstreamOverloaded(
            f"namespace {self._name} has reached --max-upstream-concurrency ({self._limit}) and {why}",
            retry_after=RETRY_AFTER_SECONDS,
        )
