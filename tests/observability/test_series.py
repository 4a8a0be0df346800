"""observability/series.py: plain counters, gauges and histograms, exposed as prometheus-client's own are."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from naftiko_runtime.observability.metrics import CALL_BUCKETS, SharedFamilies
from naftiko_runtime.observability.series import PlainCollector


def exercise(make: PlainCollector | SharedFamilies) -> None:
    calls = make.counter("demo_calls", "Calls", ("adapter", "name"))
    in_flight = make.gauge("demo_in_flight", "Calls under way", ("adapter",))
    duration = make.histogram("demo_duration_seconds", "Time", ("name",), CALL_BUCKETS)
    calls.labels("rest", "GET /a").inc()
    calls.labels("rest", "GET /a").inc(2)
    calls.labels("mcp", "tool").inc()
    gauge = in_flight.labels("rest")
    gauge.inc()
    gauge.inc()
    gauge.dec()
    for seconds in (0.0005, 0.001, 0.0011, 0.3, 59.9, 60.0, 61.0, 1000.0):
        duration.labels("GET /a").observe(seconds)
    duration.labels("tool").observe(0.02)


def exposition(make: PlainCollector | SharedFamilies, registry: CollectorRegistry) -> list[str]:
    if isinstance(make, PlainCollector):
        registry.register(make)
    exercise(make)
    return [line for line in generate_latest(registry).decode().splitlines() if "_created" not in line]


def test_plain_series_expose_the_same_text_as_prometheus_client_objects_do() -> None:
    shared_registry = CollectorRegistry()
    expected = exposition(SharedFamilies(shared_registry), shared_registry)
    assert exposition(PlainCollector(), CollectorRegistry()) == expected
    assert 'demo_duration_seconds_bucket{le="0.001",name="GET /a"} 2.0' in expected  # an upper bound is inclusive
    assert 'demo_duration_seconds_bucket{le="+Inf",name="GET /a"} 8.0' in expected


def test_a_series_asked_for_with_the_wrong_number_of_labels_is_an_error_naming_them() -> None:
    calls = PlainCollector().counter("demo_calls", "Calls", ("adapter", "name"))
    with pytest.raises(ValueError, match=r"demo_calls takes labels \('adapter', 'name'\)"):
        calls.labels("rest")
