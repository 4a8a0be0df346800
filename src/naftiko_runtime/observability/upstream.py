"""Upstream requests observed from each operation's guard (`consumer/guard.py`, `ExchangeWatch`).

The guard tells an operation's watch of every attempt (its time and status: metrics; its CLIENT
span and the trace headers it sends: tracing) and of the exchange as a whole (the final status and
the attempts made, written into the record of the call under way).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Protocol

from naftiko_runtime.consumer.client import UpstreamRequest, UpstreamTimeout, UpstreamTooLarge
from naftiko_runtime.engine import CURRENT_CALL

if TYPE_CHECKING:
    from naftiko_runtime.observability.metrics import OperationMetrics


class AttemptTracer(Protocol):
    """Tracing's part in an attempt (`tracing.Tracing`)."""

    def start_attempt(self, request: UpstreamRequest, ref: str, number: int) -> tuple[Any, UpstreamRequest]: ...

    def end_attempt(self, span: Any, status: int | str) -> None: ...


class OperationWatch:
    """One consumed operation's exchanges, observed (shared by every action and forward calling it)."""

    __slots__ = ("_metrics", "_ref", "_tracer")

    def __init__(self, ref: str, metrics: OperationMetrics | None, tracer: AttemptTracer | None) -> None:
        self._ref = ref
        self._metrics = metrics
        self._tracer = tracer

    def attempt(self, request: UpstreamRequest, number: int) -> tuple[object, UpstreamRequest]:
        tracer = self._tracer
        if tracer is None:
            return None, request
        return tracer.start_attempt(request, self._ref, number)

    def attempt_ended(self, token: object, outcome: int | BaseException, seconds: float) -> None:
        status = outcome if isinstance(outcome, int) else failure(outcome)
        if self._metrics is not None:
            self._metrics.attempt(status, seconds)
        if token is not None and self._tracer is not None:
            self._tracer.end_attempt(token, status)

    def exchange_ended(self, attempts: int, status: int | None, *, overloaded: bool) -> None:
        retries = attempts - 1
        if retries > 0 and self._metrics is not None:
            self._metrics.retried(retries)
        record = CURRENT_CALL.get()
        if record is None:
            return
        if overloaded:
            record.refusal = "backpressure"
        if attempts:
            record.upstream_operation = self._ref
            record.upstream_status = status
            record.retries += retries


def failure(error: BaseException) -> str:
    """What kept an attempt from having a status, as a metric label and span attribute."""
    if isinstance(error, UpstreamTimeout):
        return "timeout"
    if isinstance(error, UpstreamTooLarge):
        return "too_large"
    if isinstance(error, asyncio.CancelledError):
        return "cancelled"
    return "unreachable"
