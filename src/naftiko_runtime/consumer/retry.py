"""When another attempt at an upstream call is worth making, and how long to wait before it.

Only answers that say the upstream could not serve now are retried (429, 502, 503, 504), and
connection failures. Waits grow exponentially with full jitter (a random share of the step, so
callers that failed together do not come back together), or follow the upstream's `Retry-After`
when it asks for no more than `max_retry_after` seconds. A `RetryBudget` per namespace keeps
retries to a fraction of the calls, so a failing upstream is not hit by a storm of them.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
# By HTTP semantics (RFC 9110 9.2.2): repeating them has the effect of doing it once.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
DEFAULT_RETRIES = 2


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`retries`: attempts after the first. Waits in seconds."""

    retries: int = DEFAULT_RETRIES
    base_delay: float = 0.2
    max_delay: float = 5.0
    max_retry_after: float = 10.0

    def backoff(self, attempt: int) -> float:
        """The wait before attempt `attempt + 1`: full jitter over an exponentially growing step."""
        return random.uniform(0.0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))

    def delay_after(self, status: int, headers: Mapping[str, str], attempt: int) -> float | None:
        """The wait before retrying an answer; None when the upstream asks for longer than we wait."""
        asked = retry_after(headers)
        if asked is None:
            return self.backoff(attempt)
        return asked if asked <= self.max_retry_after else None


def retry_after(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> float | None:
    """`Retry-After` in seconds from now: delay-seconds or an HTTP date (RFC 9110 10.2.3); None if absent or bad."""
    value = headers.get("retry-after") or headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now())


class RetryBudget:
    """A token bucket shared by one namespace's calls: each call adds `ratio` of a token, time adds
    `per_second`, each retry takes one; the bucket holds at most `burst` (and starts full).

    Over time retries stay under `ratio` of the calls plus `per_second` a second, however many fail.
    """

    __slots__ = ("_burst", "_clock", "_per_second", "_ratio", "_tokens", "_updated")

    def __init__(
        self,
        ratio: float = 0.2,
        per_second: float = 1.0,
        burst: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ratio = ratio
        self._per_second = per_second
        self._burst = burst
        self._clock = clock
        self._tokens = burst
        self._updated = clock()

    def deposit(self) -> None:
        """One call made (its first attempt)."""
        tokens = self._tokens + self._ratio
        self._tokens = tokens if tokens < self._burst else self._burst

    def withdraw(self) -> bool:
        """Whether a retry may go ahead now (taking its token)."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._per_second)
        self._updated = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True
