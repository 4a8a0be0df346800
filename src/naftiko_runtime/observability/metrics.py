"""Prometheus metrics of calls and upstream requests (prometheus-client), as text for `/metrics`.

Every label value is a name from the spec (adapter type and namespace, route or tool, consumes
operation), a status, or a fixed word: never something a caller sent, so the number of series is
bounded by the files served. Label sets are resolved once per action and per operation, at load.

One process keeps its values as plain numbers (`series.py`). Several worker processes
(`PROMETHEUS_MULTIPROC_DIR` set before start, empty) share theirs through files in that directory,
the client library's multiprocess mode, with its own metric objects: any worker's `/metrics`
answers for all of them, gauges summing the live processes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess

from naftiko_runtime.observability.series import PlainCollector

if TYPE_CHECKING:
    from naftiko_runtime.engine import Action, CallRecord

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
# A call through the runtime takes from under a millisecond (a fast upstream) to the upstream's
# timeout (60 s by default).
CALL_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
CALL_LABELS = ("adapter", "namespace", "name")
ADAPTER_TYPES = {"route": "rest", "tool": "mcp", "resource": "mcp"}


def adapter_type(action: Action) -> str:
    return ADAPTER_TYPES[action.kind]


def worker_exited(pid: int, multiprocess_dir: str | None = None) -> None:
    """For the supervisor of several workers: a worker that ended leaves the live gauges (its counters
    and histograms stay in the sums, as Prometheus counters must)."""
    directory = multiprocess_dir or os.environ.get(MULTIPROCESS_ENV)
    if directory:
        prometheus_multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


class Counting(Protocol):
    def inc(self, amount: float = 1) -> None: ...


class Rising(Counting, Protocol):
    def dec(self, amount: float = 1) -> None: ...


class Observing(Protocol):
    def observe(self, amount: float) -> None: ...


_S = TypeVar("_S", covariant=True)


class Family(Protocol[_S]):
    def labels(self, *values: str) -> _S: ...


class SharedFamilies:
    """prometheus-client's own metric objects, whose values several processes share through files."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def counter(self, name: str, documentation: str, labelnames: Sequence[str]) -> Counter:
        return Counter(name, documentation, labelnames, registry=self._registry)

    def gauge(self, name: str, documentation: str, labelnames: Sequence[str]) -> Gauge:
        return Gauge(name, documentation, labelnames, registry=self._registry, multiprocess_mode="livesum")

    def histogram(
        self, name: str, documentation: str, labelnames: Sequence[str], buckets: Sequence[float]
    ) -> Histogram:
        return Histogram(name, documentation, labelnames, buckets=buckets, registry=self._registry)


class Metrics:
    """The metric families of one process, on a registry of their own."""

    def __init__(self, multiprocess_dir: str | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir if multiprocess_dir is not None else os.environ.get(MULTIPROCESS_ENV)
        registry = self.registry = CollectorRegistry()
        make: SharedFamilies | PlainCollector
        if self.multiprocess_dir is None:
            make = PlainCollector()
            registry.register(make)
            ProcessCollector(registry=registry)
            PlatformCollector(registry=registry)
        else:
            make = SharedFamilies(registry)
        self.calls: Family[Counting] = make.counter(
            "naftiko_calls", "Calls of routes and tools, refused ones included", CALL_LABELS
        )
        self.errors: Family[Counting] = make.counter(
            "naftiko_call_errors",
            "Calls answered with a 4xx or 5xx status (status_class), refused ones included",
            (*CALL_LABELS, "status_class"),
        )
        self.duration: Family[Observing] = make.histogram(
            "naftiko_call_duration_seconds",
            "Time from a call's arguments being accepted to its answer",
            CALL_LABELS,
            CALL_BUCKETS,
        )
        self.in_flight: Family[Rising] = make.gauge(
            "naftiko_calls_in_flight", "Calls under way", ("adapter", "namespace")
        )
        self.rejected: Family[Counting] = make.counter(
            "naftiko_rejected_calls",
            "Calls refused: reason is auth, validation, too_large (request body) or backpressure (upstream busy)",
            ("adapter", "namespace", "reason"),
        )
        self.upstream_duration: Family[Observing] = make.histogram(
            "naftiko_upstream_request_duration_seconds",
            "Time of one attempt at an upstream request, until its answer's headers and body are in",
            ("operation",),
            CALL_BUCKETS,
        )
        self.upstream_requests: Family[Counting] = make.counter(
            "naftiko_upstream_requests",
            "Attempts at upstream requests: status is the HTTP status, or timeout, unreachable, too_large, cancelled",
            ("operation", "status"),
        )
        self.upstream_retries: Family[Counting] = make.counter(
            "naftiko_upstream_retries", "Attempts beyond the first at upstream requests", ("operation",)
        )
        self.mcp_sessions: Family[Rising] = make.gauge(
            "naftiko_mcp_sessions",
            "MCP sessions open (handshake-era sessions, from their initialized notification to their end)",
            ("endpoint",),
        )
        self._operations: dict[str, OperationMetrics] = {}

    def bind(self, action: Action) -> ActionMetrics:
        return ActionMetrics(self, action)

    def operation(self, ref: str) -> OperationMetrics:
        """One consumed operation's series (shared by every action and forward calling it)."""
        found = self._operations.get(ref)
        if found is None:
            found = self._operations[ref] = OperationMetrics(self, ref)
        return found

    def exposition(self) -> bytes:
        """The Prometheus text format of every series (of every worker, in multiprocess mode)."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        # The library's way: a fresh registry reading every process's files at each scrape.
        merged = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(merged, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(merged)

    content_type = CONTENT_TYPE_LATEST


class ActionMetrics:
    """One route's or tool's series, resolved once."""

    __slots__ = ("_calls", "_client_errors", "_duration", "_in_flight", "_labels", "_rejected", "_server_errors")

    def __init__(self, metrics: Metrics, action: Action) -> None:
        labels = (adapter_type(action), action.adapter, action.name)
        self._labels = labels
        self._calls = metrics.calls.labels(*labels)
        self._client_errors = metrics.errors.labels(*labels, "4xx")
        self._server_errors = metrics.errors.labels(*labels, "5xx")
        self._duration = metrics.duration.labels(*labels)
        self._in_flight = metrics.in_flight.labels(*labels[:2])
        self._rejected = metrics.rejected

    def call_started(self, record: CallRecord) -> None:
        self._in_flight.inc()

    def call_finished(self, record: CallRecord) -> None:
        self._in_flight.dec()
        self._duration.observe(record.seconds)
        self._count(record)

    def call_refused(self, record: CallRecord) -> None:
        self._count(record)

    def _count(self, record: CallRecord) -> None:
        self._calls.inc()
        status = record.status
        if status >= 500:
            self._server_errors.inc()
        elif status >= 400:
            self._client_errors.inc()
        if record.refusal is not None:
            self._rejected.labels(*self._labels[:2], record.refusal).inc()


class OperationMetrics:
    """One consumed operation's upstream series, resolved once (statuses as they are first seen)."""

    __slots__ = ("_by_status", "_duration", "_ref", "_requests", "_retries")

    def __init__(self, metrics: Metrics, ref: str) -> None:
        self._ref = ref
        self._duration = metrics.upstream_duration.labels(ref)
        self._retries = metrics.upstream_retries.labels(ref)
        self._requests = metrics.upstream_requests
        self._by_status: dict[int | str, Counting] = {}

    def attempt(self, status: int | str, seconds: float) -> None:
        """One attempt ended: its HTTP status, or what kept it from having one."""
        self._duration.observe(seconds)
        counter = self._by_status.get(status)
        if counter is None:
            counter = self._by_status[status] = self._requests.labels(self._ref, str(status))
        counter.inc()

    def retried(self, count: int) -> None:
        self._retries.inc(count)
