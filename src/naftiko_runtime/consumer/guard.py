"""One consumed operation's calls made resilient: a concurrency slot, its own timeouts, safe retries.

`GuardedClient` wraps a namespace's client for one operation (or one forward), so what is
decided at load (idempotency, timeouts) costs nothing per call. Retries happen only where they
cannot do harm: an idempotent request (GET, HEAD, PUT, DELETE, or an operation declared
idempotent) after 429, 502, 503, 504 or a broken connection; any request after 429 or a failure
to connect, which prove the upstream did not process it. Read and total timeouts are not
retried: a slow upstream is not helped by more calls. The last answer (or failure, with its attempts) is what the
caller gets.

Logs, metrics and traces watch each exchange from here (`ExchangeWatch`, given when telemetry is on):
the guard knows every attempt, so observing them costs no client layer of its own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from naftiko_runtime.consumer.client import (
    DEFAULT_MAX_BODY_BYTES,
    Timeouts,
    UpstreamClient,
    UpstreamError,
    UpstreamOverloaded,
    UpstreamRequest,
    UpstreamResponse,
    UpstreamTimeout,
    UpstreamTooLarge,
)
from naftiko_runtime.consumer.limits import DEFAULT_MAX_CONCURRENCY, DEFAULT_MAX_QUEUE, ConcurrencyLimit
from naftiko_runtime.consumer.operation import UpstreamOperation
from naftiko_runtime.consumer.redact import Redaction
from naftiko_runtime.consumer.retry import (
    IDEMPOTENT_METHODS,
    RETRYABLE_STATUSES,
    RetryBudget,
    RetryPolicy,
)

logger = logging.getLogger("naftiko.upstream")


@dataclass(frozen=True, slots=True)
class TimeoutOverride:
    """Timeouts given for one namespace or operation; None fields keep the wider setting, 0 means no limit."""

    connect: float | None = None
    read: float | None = None
    total: float | None = None


@dataclass(frozen=True, slots=True)
class Resilience:
    """What the command line says about upstream calls (see `--retries` and its neighbours)."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # 0: no limit (and no queue).
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    max_queue: int = DEFAULT_MAX_QUEUE
    # Upstream answers above this many bytes are refused (None: no limit).
    max_body_bytes: int | None = DEFAULT_MAX_BODY_BYTES
    # By consumes namespace or `namespace.operation`: `--connect-timeout`, `--read-timeout`, `--upstream-timeout`.
    timeouts: Mapping[str, TimeoutOverride] = field(default_factory=dict)


def resolve_timeouts(defaults: Timeouts, overrides: Mapping[str, TimeoutOverride], *keys: str) -> Timeouts:
    """`defaults`, then the overrides of each key in turn (a namespace, then one of its operations)."""
    timeouts = defaults
    for key in keys:
        given = overrides.get(key)
        if given is not None:
            timeouts = Timeouts(
                connect=_pick(given.connect, timeouts.connect),
                read=_pick(given.read, timeouts.read),
                total=_pick(given.total, timeouts.total),
            )
    return timeouts


def _pick(given: float | None, wider: float | None) -> float | None:
    if given is None:
        return wider
    return given or None  # 0: no limit


class NamespaceGuard:
    """What one consumes namespace's operations share: the concurrency limit and the retry budget."""

    __slots__ = ("budget", "limit", "name")

    def __init__(self, name: str, resilience: Resilience) -> None:
        self.name = name
        self.budget = RetryBudget()
        limited = resilience.max_concurrency > 0
        self.limit = ConcurrencyLimit(name, resilience.max_concurrency, resilience.max_queue) if limited else None


class ExchangeWatch(Protocol):
    """Who observes one operation's exchanges with its upstream (`observability/upstream.py`)."""

    def attempt(self, request: UpstreamRequest, number: int) -> tuple[object, UpstreamRequest]:
        """An attempt begins: a token for `attempt_ended`, and the request to send (trace headers added)."""
        ...

    def attempt_ended(self, token: object, outcome: int | BaseException, seconds: float) -> None:
        """The attempt's HTTP status, or what kept it from having one."""
        ...

    def exchange_ended(self, attempts: int, status: int | None, *, overloaded: bool) -> None:
        """The exchange is over after `attempts` (0: refused before any, `overloaded` when no slot was free)."""
        ...


class GuardedClient:
    """The client one operation calls through. `idempotent=None` decides per request by method (forwards)."""

    __slots__ = (
        "_idempotent",
        "_inner",
        "_namespace",
        "_policy",
        "_queue_wait",
        "_redaction",
        "_ref",
        "_timeouts",
        "_watch",
    )

    def __init__(
        self,
        inner: UpstreamClient,
        namespace: NamespaceGuard,
        ref: str,
        *,
        idempotent: bool | None,
        policy: RetryPolicy,
        timeouts: Timeouts | None = None,
        queue_wait: float | None = None,
        watch: ExchangeWatch | None = None,
        redaction: Redaction | None = None,
    ) -> None:
        """`redaction`: the namespace's credentials, scrubbed from the answer returned (`consumer/redact.py`)."""
        self._inner = inner
        self._watch = watch
        self._redaction = redaction
        self._namespace = namespace
        self._ref = ref
        self._idempotent = idempotent
        self._policy = policy
        # Set only when the operation's timeouts differ from its namespace's.
        self._timeouts = timeouts
        # A queued call waits for a slot as long as it would wait for a connection.
        self._queue_wait = queue_wait

    async def close(self) -> None:
        # The namespace's client is shared and closed by its owner.
        return None

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        # One coroutine for the slot and the attempts: each layer is passed through again whenever
        # the exchange resumes.
        if self._timeouts is not None:
            request = replace(request, timeouts=self._timeouts)
        watch = self._watch
        limit = self._namespace.limit
        if limit is not None and not limit.try_acquire():
            try:
                await limit.acquire(self._queue_wait)
            except UpstreamOverloaded:
                if watch is not None:
                    watch.exchange_ended(0, None, overloaded=True)
                raise
        namespace = self._namespace
        budget = namespace.budget
        budget.deposit()
        policy = self._policy
        idempotent = self._idempotent if self._idempotent is not None else request.method in IDEMPOTENT_METHODS
        attempt = 1
        status: int | None = None
        try:
            while True:
                sent, token, started = request, None, 0.0
                if watch is not None:
                    token, sent = watch.attempt(request, attempt)
                    started = time.perf_counter()
                try:
                    response = await self._inner.send(sent)
                except BaseException as error:
                    if watch is not None:
                        watch.attempt_ended(token, error, time.perf_counter() - started)
                    if not isinstance(error, UpstreamError):
                        raise
                    error.attempts = attempt
                    if attempt > policy.retries or not _may_retry_failure(error, idempotent) or not budget.withdraw():
                        raise
                    delay = policy.backoff(attempt)
                    self._log(str(error), delay, attempt)
                else:
                    status = response.status
                    if watch is not None:
                        watch.attempt_ended(token, status, time.perf_counter() - started)
                    wait = None if status not in RETRYABLE_STATUSES else self._retry_wait(response, attempt, idempotent)
                    if wait is None:
                        return response if self._redaction is None else self._redaction.scrub(response)
                    delay = wait
                    self._log(f"answered {status}", delay, attempt)
                await asyncio.sleep(delay)
                attempt += 1
        finally:
            if limit is not None:
                limit.release()
            if watch is not None:
                watch.exchange_ended(attempt, status, overloaded=False)

    def _retry_wait(self, response: UpstreamResponse, attempt: int, idempotent: bool) -> float | None:
        """How long to wait before trying again after a retryable status; None: this is the answer."""
        status = response.status
        if attempt > self._policy.retries:
            return None
        # 429 says the request was not processed; other answers leave it unknown.
        if not idempotent and status != 429:
            return None
        wait = self._policy.delay_after(status, response.headers, attempt)
        if wait is None or not self._namespace.budget.withdraw():
            return None
        return wait

    def _log(self, what: str, delay: float, attempt: int) -> None:
        total = self._policy.retries + 1
        logger.info("upstream %s %s; retrying in %.2f s (attempt %d of %d)", self._ref, what, delay, attempt + 1, total)


def _may_retry_failure(error: UpstreamError, idempotent: bool) -> bool:
    if not error.sent:
        return True
    # A timeout means a slow upstream; a refused size will be refused again.
    return idempotent and not isinstance(error, UpstreamTimeout | UpstreamTooLarge)


_BARE = Resilience(retry=RetryPolicy(retries=0), max_concurrency=0)


class Guards:
    """The guarded clients of one capability file: one per operation, one `NamespaceGuard` per namespace."""

    def __init__(
        self,
        clients: Mapping[str, UpstreamClient],
        resilience: Resilience,
        defaults: Timeouts,
        idempotent: frozenset[str],
        *,
        bare: bool = False,
        watches: Callable[[str], ExchangeWatch] | None = None,
        redactions: Mapping[str, Redaction] | None = None,
    ) -> None:
        """`bare`: the clients need no limits, timeouts or retries (the mock upstream): operations get
        them as they are, or only watched when `watches` (an operation's watch, by its ref) is given.
        `redactions`: by namespace, the credentials its answers are scrubbed of."""
        self._bare = bare
        self._watches = watches
        self._redactions = redactions if redactions is not None else {}
        self._clients = clients
        self._resilience = _BARE if bare else resilience
        self._defaults = defaults
        self._idempotent = idempotent
        self._namespaces: dict[str, NamespaceGuard] = {}
        self._guarded: dict[tuple[str, bool], GuardedClient] = {}

    def namespace_timeouts(self, namespace: str) -> Timeouts:
        return resolve_timeouts(self._defaults, self._resilience.timeouts, namespace)

    def client(self, target: UpstreamOperation, *, by_method: bool = False) -> UpstreamClient:
        """The client `target`'s calls go through; `by_method`: each request's method says if it is idempotent."""
        if self._bare and self._watches is None:
            return self._clients[target.namespace]
        key = (target.ref, by_method)
        guarded = self._guarded.get(key)
        if guarded is None:
            namespace = target.namespace
            shared = self._namespaces.get(namespace)
            if shared is None:
                shared = self._namespaces[namespace] = NamespaceGuard(namespace, self._resilience)
            wider = self.namespace_timeouts(namespace)
            own = resolve_timeouts(wider, self._resilience.timeouts, target.ref)
            guarded = self._guarded[key] = GuardedClient(
                self._clients[namespace],
                shared,
                target.ref,
                idempotent=None if by_method else target.ref in self._idempotent,
                policy=self._resilience.retry,
                timeouts=None if own == wider else own,
                queue_wait=own.connect,
                watch=self._watches(target.ref) if self._watches is not None else None,
                redaction=self._redactions.get(namespace),
            )
        return guarded
