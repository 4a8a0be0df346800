"""Upstream requests observed at the client seam, in two layers around each operation's guard.

`OperationClient` wraps the client one operation calls through (its guard: limits, retries), so it
sees each exchange whole: the operation, the final status, how many attempts the guard made.
`AttemptClient` wraps a namespace's own client, under the guard, so it sees every attempt: its
time and status, and (tracing on) its CLIENT span and the `traceparent` it sends. The first tells
the second which operation is under way through a context variable, since the guard stands between.
"""

from __future__ import annotations

import asyncio
import time
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

from naftiko_runtime.consumer.client import (
    UpstreamClient,
    UpstreamOverloaded,
    UpstreamRequest,
    UpstreamResponse,
    UpstreamTimeout,
    UpstreamTooLarge,
)
from naftiko_runtime.engine import CURRENT_CALL

if TYPE_CHECKING:
    from naftiko_runtime.observability.metrics import OperationMetrics


class AttemptTracer(Protocol):
    """Tracing's part in an attempt (`tracing.Tracing`)."""

    def start_attempt(self, request: UpstreamRequest, exchange: Exchange) -> tuple[Any, UpstreamRequest]: ...

    def end_attempt(self, span: Any, status: int | str) -> None: ...


class Exchange:
    """One request to an upstream operation under way, with the attempts made at it so far."""

    __slots__ = ("attempts", "metrics", "ref", "status")

    def __init__(self, ref: str, metrics: OperationMetrics | None) -> None:
        self.ref = ref
        self.metrics = metrics
        self.attempts = 0
        self.status: int | None = None


EXCHANGE: ContextVar[Exchange | None] = ContextVar("naftiko_exchange", default=None)


class OperationClient:
    """The client of one consumed operation, observed: fills the call's record, counts retries."""

    __slots__ = ("_inner", "_metrics", "_ref")

    def __init__(self, inner: UpstreamClient, ref: str, metrics: OperationMetrics | None) -> None:
        self._inner = inner
        self._ref = ref
        self._metrics = metrics

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        exchange = Exchange(self._ref, self._metrics)
        token = EXCHANGE.set(exchange)
        try:
            return await self._inner.send(request)
        except UpstreamOverloaded:
            record = CURRENT_CALL.get()
            if record is not None:
                record.refusal = "backpressure"
            raise
        finally:
            EXCHANGE.reset(token)
            retries = exchange.attempts - 1
            if retries > 0 and self._metrics is not None:
                self._metrics.retried(retries)
            record = CURRENT_CALL.get()
            if record is not None and exchange.attempts:
                record.upstream_operation = self._ref
                record.upstream_status = exchange.status
                record.retries += retries

    async def close(self) -> None:
        # The guard's inner client is shared and closed by its owner.
        return None


class AttemptClient:
    """A consumes namespace's client, observed per attempt (time, status, CLIENT span, trace headers)."""

    __slots__ = ("_inner", "_tracer")

    def __init__(self, inner: UpstreamClient, tracer: AttemptTracer | None) -> None:
        self._inner = inner
        self._tracer = tracer

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        exchange = EXCHANGE.get()
        if exchange is None:
            return await self._inner.send(request)
        exchange.attempts += 1
        tracer = self._tracer
        span = None
        if tracer is not None:
            span, request = tracer.start_attempt(request, exchange)
        started = time.perf_counter()
        status: int | str
        try:
            response = await self._inner.send(request)
        except BaseException as error:
            status = _failure(error)
            raise
        else:
            status = exchange.status = response.status
            return response
        finally:
            if exchange.metrics is not None:
                exchange.metrics.attempt(status, time.perf_counter() - started)
            if span is not None:
                assert tracer is not None
                tracer.end_attempt(span, status)

    async def close(self) -> None:
        await self._inner.close()


def _failure(error: BaseException) -> str:
    """What kept an attempt from having a status, as a metric label and span attribute."""
    if isinstance(error, UpstreamTimeout):
        return "timeout"
    if isinstance(error, UpstreamTooLarge):
        return "too_large"
    if isinstance(error, asyncio.CancelledError):
        return "cancelled"
    return "unreachable"
