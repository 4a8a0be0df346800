"""Figures of interleaved rounds turned into medians, paired ratios, markdown tables and target lines.

A ratio is the median over rounds of (candidate / baseline) measured in the same round, so
a slow round slows both sides of a ratio; added latency is likewise paired by round.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from measure import Sample

C16 = "c16"
C1 = "c1"
SATURATED_CPU = 0.9
DISTURBED_CORES = 0.15  # CPU used by other processes during a run, in cores, that makes it disturbed


@dataclass
class Row:
    key: str
    label: str
    runs: dict[str, list[Sample]] = field(default_factory=lambda: {C16: [], C1: []})
    peak_rss_mb: float | None = None


@dataclass
class Section:
    key: str
    title: str
    rows: dict[str, Row]
    ratio_to: list[tuple[str, str]]  # (row key, column heading) of the baselines ratios are taken to
    notes: list[str] = field(default_factory=list)

    def row(self, key: str) -> Row | None:
        return self.rows.get(key)


def median(values: Sequence[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else math.nan


def metric(row: Row, kind: str, pick: Callable[[Sample], float]) -> float:
    return median([pick(sample) for sample in row.runs[kind]])


def paired(row: Row, base: Row, kind: str, combine: Callable[[Sample, Sample], float]) -> float:
    """Median over rounds of combine(candidate sample, baseline sample) from the same round."""
    return median([combine(a, b) for a, b in zip(row.runs[kind], base.runs[kind], strict=False)])


def throughput_ratio(row: Row, base: Row) -> float:
    return paired(row, base, C16, lambda a, b: a.rps / b.rps if b.rps else math.nan)


def added_p50(row: Row, direct: Row) -> float:
    return paired(row, direct, C1, lambda a, b: a.p50_ms - b.p50_ms)


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None or math.isnan(value):
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def table(section: Section) -> str:
    direct = section.rows["direct"]
    headings = [
        "candidate",
        "req/s @16",
        "p50 ms @16",
        "p99 ms @16",
        "p50 ms @1",
        "p99 ms @1",
        "added p50 ms @1",
        "peak RSS MB",
        *(f"x {heading}" for _key, heading in section.ratio_to),
    ]
    lines = ["| " + " | ".join(headings) + " |", "|" + "|".join(["---"] + ["---:"] * (len(headings) - 1)) + "|"]
    for row in section.rows.values():
        flags = ""
        samples = row.runs[C16] + row.runs[C1]
        if any(s.errors for s in samples):
            flags += " (errors!)"
        cells = [
            row.label + flags,
            _fmt(metric(row, C16, lambda s: s.rps)),
            _fmt(metric(row, C16, lambda s: s.p50_ms)),
            _fmt(metric(row, C16, lambda s: s.p99_ms)),
            _fmt(metric(row, C1, lambda s: s.p50_ms), 3),
            _fmt(metric(row, C1, lambda s: s.p99_ms), 3),
            "-" if row is direct else _fmt(added_p50(row, direct), 3),
            _fmt(row.peak_rss_mb, 1),
        ]
        for key, _heading in section.ratio_to:
            base = section.rows.get(key)
            cells.append(_fmt(throughput_ratio(row, base)) if base is not None and row.key != "direct" else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def warnings(section: Section) -> list[str]:
    found = []
    for row in section.rows.values():
        for kind in (C16, C1):
            samples = row.runs[kind]
            errors = sum(s.errors for s in samples)
            if errors:
                text = next((s.error_text for s in samples if s.error_text), "")
                found.append(f"{row.label} @{kind[1:]}: {errors} failed calls ({text})")
            disturbed = [s for s in samples if s.foreign_cores > DISTURBED_CORES]
            if disturbed:
                worst = max(s.foreign_cores for s in disturbed)
                found.append(
                    f"{row.label} @{kind[1:]}: {len(disturbed)} of {len(samples)} runs shared the CPUs with other "
                    f"processes (up to {worst:.2f} CPU) even after retries"
                )
            busy = [s.client_cpu for s in samples if s.client_cpu is not None]
            if busy and median(busy) > SATURATED_CPU and row.key != "direct":
                found.append(
                    f"{row.label} @{kind[1:]}: the Python load generator used {median(busy):.0%} of its core; "
                    "the figure may be the generator's limit"
                )
    return found


def rounds(section: Section) -> str:
    """Per-round req/s at 16 callers: how noisy the run was."""
    lines = []
    for row in section.rows.values():
        figures = ", ".join(f"{s.rps:,.0f}" for s in row.runs[C16])
        lines.append(f"- {row.label}: {figures}")
    return "\n".join(lines)


@dataclass
class Target:
    verdict: str  # PASS, FAIL, SKIP, INFO
    text: str

    def line(self) -> str:
        return f"{self.verdict:4}  {self.text}"


def at_least(name: str, value: float | None, floor: float, unit: str = "x") -> Target:
    if value is None or math.isnan(value):
        return Target("SKIP", f"{name}: not measured")
    verdict = "PASS" if value >= floor else "FAIL"
    return Target(verdict, f"{name}: {value:.2f}{unit} (target >= {floor:g}{unit})")


def at_most(name: str, value: float | None, ceiling: float, unit: str) -> Target:
    if value is None or math.isnan(value):
        return Target("SKIP", f"{name}: not measured")
    verdict = "PASS" if value <= ceiling else "FAIL"
    return Target(verdict, f"{name}: {value:.3g} {unit} (target <= {ceiling:g} {unit})")
