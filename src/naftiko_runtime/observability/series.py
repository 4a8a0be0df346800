"""Counters, gauges and histograms of one process as plain numbers, exposed through a collector.

prometheus-client's own metric objects take a lock and several calls for each increment; every call
through the runtime makes about six, on the event loop's one thread. These keep the numbers in
plain attributes (nothing else writes them: the loop is the only thread that counts or scrapes) and
hand them to prometheus-client's exposition as metric families. Several worker processes use the
library's own objects instead (`metrics.py`): their values live in files the workers share.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from typing import TypeVar

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString


class CounterSeries:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount


class GaugeSeries:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount

    def dec(self, amount: float = 1.0) -> None:
        self.value -= amount


class HistogramSeries:
    """Observations counted in the first bucket whose upper bound they do not exceed (the last: +Inf)."""

    __slots__ = ("_bounds", "counts", "total")

    def __init__(self, bounds: Sequence[float]) -> None:
        self._bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0.0

    def observe(self, amount: float) -> None:
        self.counts[bisect.bisect_left(self._bounds, amount)] += 1
        self.total += amount


class _Family:
    def __init__(self, name: str, documentation: str, labelnames: Sequence[str]) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)


class CounterFamily(_Family):
    def __init__(self, name: str, documentation: str, labelnames: Sequence[str]) -> None:
        super().__init__(name, documentation, labelnames)
        self._series: dict[tuple[str, ...], CounterSeries] = {}

    def labels(self, *values: str) -> CounterSeries:
        found = self._series.get(values)
        if found is None:
            found = self._series[_checked(self, values)] = CounterSeries()
        return found

    def collect(self) -> Metric:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for values, series in list(self._series.items()):
            family.add_metric(values, series.value)
        return family


class GaugeFamily(_Family):
    def __init__(self, name: str, documentation: str, labelnames: Sequence[str]) -> None:
        super().__init__(name, documentation, labelnames)
        self._series: dict[tuple[str, ...], GaugeSeries] = {}

    def labels(self, *values: str) -> GaugeSeries:
        found = self._series.get(values)
        if found is None:
            found = self._series[_checked(self, values)] = GaugeSeries()
        return found

    def collect(self) -> Metric:
        family = GaugeMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for values, series in list(self._series.items()):
            family.add_metric(values, series.value)
        return family


class HistogramFamily(_Family):
    def __init__(self, name: str, documentation: str, labelnames: Sequence[str], buckets: Sequence[float]) -> None:
        super().__init__(name, documentation, labelnames)
        self._bounds = tuple(sorted(buckets))
        self._bucket_names = [floatToGoString(bound) for bound in self._bounds] + ["+Inf"]  # type: ignore[no-untyped-call]
        self._series: dict[tuple[str, ...], HistogramSeries] = {}

    def labels(self, *values: str) -> HistogramSeries:
        found = self._series.get(values)
        if found is None:
            found = self._series[_checked(self, values)] = HistogramSeries(self._bounds)
        return found

    def collect(self) -> Metric:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for values, series in list(self._series.items()):
            cumulative, buckets = 0, []
            for name, count in zip(self._bucket_names, series.counts, strict=True):
                cumulative += count
                buckets.append((name, float(cumulative)))
            family.add_metric(values, buckets, series.total)
        return family


_F = TypeVar("_F", CounterFamily, GaugeFamily, HistogramFamily)


class PlainCollector(Collector):
    """Every family made through it, for a registry (`CollectorRegistry.register`)."""

    def __init__(self) -> None:
        self._families: list[CounterFamily | GaugeFamily | HistogramFamily] = []

    def counter(self, name: str, documentation: str, labelnames: Sequence[str]) -> CounterFamily:
        return self._kept(CounterFamily(name, documentation, labelnames))

    def gauge(self, name: str, documentation: str, labelnames: Sequence[str]) -> GaugeFamily:
        return self._kept(GaugeFamily(name, documentation, labelnames))

    def histogram(
        self, name: str, documentation: str, labelnames: Sequence[str], buckets: Sequence[float]
    ) -> HistogramFamily:
        return self._kept(HistogramFamily(name, documentation, labelnames, buckets))

    def _kept(self, family: _F) -> _F:
        self._families.append(family)
        return family

    def collect(self) -> Iterator[Metric]:
        for family in self._families:
            yield family.collect()


def _checked(family: _Family, values: tuple[str, ...]) -> tuple[str, ...]:
    if len(values) != len(family.labelnames):
        raise ValueError(f"{family.name} takes labels {family.labelnames}, got {values!r}")
    return values
