"""One measured run of a load generator against a URL, as a `Sample`.

wrk for REST (parsed from its `--latency` output), else the Python HTTP generator; the MCP
generator for MCP. Every generator runs pinned to the load core in a process of its own.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from procs import LOAD_CORE, BenchError, run_once

HERE = Path(__file__).resolve().parent
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class Sample:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int = 0
    client_cpu: float | None = None  # the Python generator's CPU seconds per second (None for wrk)
    error_text: str | None = None
    foreign_cores: float = 0.0  # CPU others used during the run, in cores (see procs.CpuWatch)


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if match is None:
        raise BenchError(f"cannot read wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> Sample:
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    if not (rps and p50 and p99):
        raise BenchError(f"cannot read wrk output:\n{output}")
    errors = 0
    if non2xx := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output):
        errors += int(non2xx.group(1))
    if sockets := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        errors += sum(int(n) for n in sockets.groups())
    return Sample(
        rps=float(rps.group(1)),
        p50_ms=_ms(p50.group(1)),
        p99_ms=_ms(p99.group(1)),
        errors=errors,
        error_text="non-2xx answers or socket errors (wrk)" if errors else None,
    )


def wrk(binary: str, url: str, connections: int, duration: float) -> Sample:
    seconds = max(1, round(duration))
    command = [binary, f"-c{connections}", "-t1", f"-d{seconds}s", "--timeout", "5s", "--latency", url]
    return parse_wrk(run_once(command, core=LOAD_CORE, timeout=seconds + 30))


def _python_load(script: str, url: str, concurrency: int, duration: float, warmup: float, *extra: str) -> Sample:
    command = [
        sys.executable,
        str(HERE / "load" / script),
        "--url",
        url,
        "--concurrency",
        str(concurrency),
        "--duration",
        str(duration),
        "--warmup",
        str(warmup),
        *extra,
    ]
    data = json.loads(run_once(command, core=LOAD_CORE, timeout=duration + warmup + 60))
    return Sample(
        rps=data["rps"],
        p50_ms=data["p50_ms"],
        p99_ms=data["p99_ms"],
        errors=data["errors"],
        client_cpu=data["client_cpu"],
        error_text=data["first_error"],
    )


def http(url: str, concurrency: int, duration: float, warmup: float) -> Sample:
    return _python_load("http_load.py", url, concurrency, duration, warmup)


def mcp(url: str, tool: str, concurrency: int, duration: float, warmup: float) -> Sample:
    return _python_load("mcp_load.py", url, concurrency, duration, warmup, "--tool", tool)
