"""Counters, gauges and histograms of one process as plain numbers, exposed through a collector.

prometheus-client's own metric objects take a lock and several calls for each increment; every call
through the runtime makes about six, on the event loop's one thread. These keep the numbers in
plain attributes (nothing else writes them: the loop is the only thread that counts or scrapes) and
hand them to prometheus-client's exposition as metric families. Several worker processes use the
library's own objects instead (`metrics.py`): their values live in files the workers share.
"""

from __future__ import annotations

import bisect
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString


class CounterSeries:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount


class GaugeSeries(CounterSeries):
    __slots__ = ()

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


_S = TypeVar("_S")


class _Family(ABC, Generic[_S]):
    """One metric's series, one per label values, made as they are first asked for."""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str], new: Callable[[], _S]) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self._new = new
        self._series: dict[tuple[str, ...], _S] = {}

    def labels(self, *values: str) -> _S:
        found = self._series.get(values)
        if found is None:
            if len(values) != len(self.labelnames):
                raise ValueError(f"{self.name} takes labels {self.labelnames}, got {values!r}")
            found = self._series[values] = self._new()
        return found

    @abstractmethod
    def collect(self) -> Metric:
        """The family's series as prometheus-client's exposition wants them."""


_V = TypeVar("_V", bound=CounterSeries)


class ValueFamily(_Family[_V]):
    """Counters or gauges: one number a series."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        new: Callable[[], _V],
        kind: type[CounterMetricFamily | GaugeMetricFamily],
    ) -> None:
        super().__init__(name, documentation, labelnames, new)
        self._kind = kind

    def collect(self) -> Metric:
        family = self._kind(self.name, self.documentation, labels=self.labelnames)
        for values, series in list(self._series.items()):
            family.add_metric(values, series.value)
        return family


class HistogramFamily(_Family[HistogramSeries]):
    def __init__(self, name: str, documentation: str, labelnames: Sequence[str], buckets: Sequence[float]) -> None:
        bounds = tuple(sorted(buckets))
        super().__init__(name, documentation, labelnames, lambda: HistogramSeries(bounds))
        self._bucket_names = [floatToGoString(bound) for bound in bounds] + ["+Inf"]  # type: ignore[no-untyped-call]

    def collect(self) -> Metric:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for values, series in list(self._series.items()):
            cumulative, buckets = 0, []
            for name, count in zip(self._bucket_names, series.counts, strict=True):
                cumulative += count
                buckets.append((name, float(cumulative)))
            family.add_metric(values, buckets, series.total)
        return family


_F = TypeVar("_F", bound=_Family[Any])


class PlainCollector(Collector):
    """Every family made through it, for a registry (`CollectorRegistry.register`)."""

    def __init__(self) -> None:
        self._families: list[_Family[Any]] = []

    def counter(self, name: str, documentation: str, labelnames: Sequence[str]) -> ValueFamily[CounterSeries]:
        return self._kept(ValueFamily(name, documentation, labelnames, CounterSeries, CounterMetricFamily))

    def gauge(self, name: str, documentation: str, labelnames: Sequence[str]) -> ValueFamily[GaugeSeries]:
        return self._kept(ValueFamily(name, documentation, labelnames, GaugeSeries, GaugeMetricFamily))

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
