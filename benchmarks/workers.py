"""`naftiko serve --workers 1` against `--workers 2`: python benchmarks/workers.py [--duration S] [--rounds R] [--quick]

REST (`GET /v1/check-api-key`, wrk) and MCP (`tools/call check-api-key`, stateless JSON, load/mcp_load.py)
against the same fast nginx upstream as run.py, 16 callers, in interleaved rounds. Unlike run.py,
nothing is pinned to a core but the upstream: the servers and the load generator share both cores,
as the load generator needs CPU too, so the 2-worker / 1-worker ratio is reported, not targeted.
Prints the table and writes it to benchmarks/results/workers.md. Method and figures: docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import statistics
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import deps
import measure
from candidates import BANNER, KOMBO, NAFTIKO_ENV, ROOT, naftiko_command
from deps import say
from measure import Sample
from procs import (
    LOAD_CORE,
    TASKSET,
    BenchError,
    CpuWatch,
    Proc,
    Procs,
    run_once,
    wait_http,
    wait_log,
    wait_mcp,
    wait_quiet,
)
from report import DISTURBED_CORES
from upstream import start_upstream

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "workers.md"
CALLERS = 16
WORKER_COUNTS = (1, 2)
QUIET_WAIT = 10.0
RETRIES = 2  # extra attempts at a run a neighbour disturbed


def spread(command: Sequence[str]) -> list[str]:
    """`command` allowed on every core, whatever pinning the harness wraps it in."""
    cores = f"0-{(os.cpu_count() or 1) - 1}"
    return [TASKSET, "-c", cores, *command] if TASKSET else list(command)


@dataclass
class Runs:
    """One kind of load against one worker count: a sample per round."""

    samples: list[Sample] = field(default_factory=list)

    def median_rps(self) -> float:
        return statistics.median(sample.rps for sample in self.samples)


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds per run (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds of load before each run")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 s runs, 1 round")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the markdown report goes")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.rounds, args.warmup = 2.0, 1, 0.5
    return args


def start(procs: Procs, workers: int, upstream_base: str) -> tuple[Proc, dict[str, str]]:
    command = naftiko_command(
        "serve", str(KOMBO), "--port", "8080=0", "--port", "9090=0", "--log-level", "warning",
        "--base-uri", f"kombo-general={upstream_base}", "--stateless", "--json-response", "--workers", str(workers),
    )  # fmt: skip
    proc = procs.start(f"naftiko-{workers}w", spread(command), env=NAFTIKO_ENV, cwd=ROOT)
    urls = {m.group(1): m.group(2) for m in wait_log(proc, BANNER, 2)}
    wait_http(urls["REST"] + "/healthz", proc)
    wait_mcp(urls["MCP"], proc)
    return proc, urls


def rest_run(wrk: str | None, url: str, args: argparse.Namespace) -> Sample:
    if wrk is None:
        return python_load("http_load.py", url, args)
    seconds = max(1, round(args.duration))
    warm = [wrk, f"-c{CALLERS}", "-t1", f"-d{max(1, round(args.warmup))}s", url]
    run_once(spread(warm), core=LOAD_CORE, timeout=args.warmup + 30)
    command = [wrk, f"-c{CALLERS}", "-t1", f"-d{seconds}s", "--timeout", "5s", "--latency", url]
    return measure.parse_wrk(run_once(spread(command), core=LOAD_CORE, timeout=seconds + 30))


def python_load(script: str, url: str, args: argparse.Namespace, *extra: str) -> Sample:
    command = [
        sys.executable, str(HERE / "load" / script), "--url", url, "--concurrency", str(CALLERS),
        "--duration", str(args.duration), "--warmup", str(args.warmup), *extra,
    ]  # fmt: skip
    data = json.loads(run_once(spread(command), core=LOAD_CORE, timeout=args.duration + args.warmup + 60))
    return Sample(data["rps"], data["p50_ms"], data["p99_ms"], data["errors"], data["client_cpu"], data["first_error"])


def measured(procs: Procs, run: Callable[[], Sample]) -> Sample:
    """One run once the machine is quiet, repeated (up to RETRIES times) while others used the CPUs meanwhile,
    the least disturbed attempt kept (as run.py does)."""
    best: Sample | None = None
    for attempt in range(RETRIES + 1):
        wait_quiet(procs, DISTURBED_CORES, QUIET_WAIT)
        with CpuWatch(procs) as watch:
            sample = run()
        sample = replace(sample, foreign_cores=watch.foreign_cores)
        if best is None or sample.foreign_cores < best.foreign_cores:
            best = sample
        if sample.foreign_cores <= DISTURBED_CORES:
            break
        if attempt < RETRIES:
            say(f"  others used {watch.foreign_cores:.2f} CPU during that run: again")
    assert best is not None
    return best


def pss_mb(proc: Proc) -> float:
    """Proportional set size of the process tree: pages shared after the fork counted once in all."""
    total_kib = 0
    for pid in proc.tree():
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        total_kib += next((int(line.split()[1]) for line in text.splitlines() if line.startswith("Pss:")), 0)
    return total_kib * 1024 / 1e6


def table(results: dict[str, dict[int, Runs]], memory: dict[int, tuple[float, float]]) -> str:
    lines = [
        "| load | 1 worker req/s | 2 workers req/s | 2 / 1 (median of rounds) | p50 ms 1 / 2 | p99 ms 1 / 2 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, by_count in results.items():
        one, two = by_count[1], by_count[2]
        ratios = [b.rps / a.rps for a, b in zip(one.samples, two.samples, strict=True) if a.rps]
        p50 = [statistics.median(s.p50_ms for s in runs.samples) for runs in (one, two)]
        p99 = [statistics.median(s.p99_ms for s in runs.samples) for runs in (one, two)]
        lines.append(
            f"| {kind} | {one.median_rps():,.0f} | {two.median_rps():,.0f} | {statistics.median(ratios):.2f}x | "
            f"{p50[0]:.2f} / {p50[1]:.2f} | {p99[0]:.2f} / {p99[1]:.2f} |"
        )
    for kind, by_count in results.items():
        cpu = [[s.client_cpu for s in by_count[count].samples if s.client_cpu is not None] for count in WORKER_COUNTS]
        if all(cpu):
            cells = " | ".join(f"{statistics.median(values):.2f}" for values in cpu)
            lines.append(f"| {kind}: the load generator's CPU (cores) | {cells} | - | - | - |")
    lines.append(f"| peak RSS, process tree summed (MB) | {memory[1][0]:.1f} | {memory[2][0]:.1f} | - | - | - |")
    lines.append(f"| PSS at the end, process tree (MB) | {memory[1][1]:.1f} | {memory[2][1]:.1f} | - | - | - |")
    return "\n".join(lines)


def notes(results: dict[str, dict[int, Runs]]) -> list[str]:
    found = []
    for kind, by_count in results.items():
        for count, runs in by_count.items():
            errors = sum(sample.errors for sample in runs.samples)
            if errors:
                found.append(f"{kind}, {count} worker(s): {errors} failed calls")
            cpu = [sample.client_cpu for sample in runs.samples if sample.client_cpu is not None]
            if cpu and max(cpu) > 0.9:
                found.append(f"{kind}, {count} worker(s): the load generator used {max(cpu):.2f} CPU (near its limit)")
            disturbed = max(sample.foreign_cores for sample in runs.samples)
            if disturbed > DISTURBED_CORES:
                found.append(f"{kind}, {count} worker(s): other processes used up to {disturbed:.2f} CPU during a run")
    return found


def _stop_on_signal(signum: int, _frame: object) -> None:
    # SIGTERM or SIGHUP unwind like Ctrl-C, so every started process group is stopped on the way out.
    raise SystemExit(128 + signum)


def main() -> int:
    args = options()
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop_on_signal)
    tools = deps.debian_tools()
    results: dict[str, dict[int, Runs]] = {"REST @16": {}, "MCP @16": {}}
    memory: dict[int, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="naftiko-bench-") as tmp, Procs(Path(tmp)) as procs:
        upstream, base = start_upstream(procs, Path(tmp))
        say(f"upstream at {base} (pid {upstream.pid})")
        servers = {count: start(procs, count, base) for count in WORKER_COUNTS}
        for kind in results:
            results[kind] = {count: Runs() for count in WORKER_COUNTS}
        for index in range(args.rounds):
            order = WORKER_COUNTS if index % 2 == 0 else tuple(reversed(WORKER_COUNTS))
            for count in order:
                _, urls = servers[count]
                rest_url, mcp_url = urls["REST"] + "/v1/check-api-key", urls["MCP"]
                rest = measured(procs, partial(rest_run, tools.wrk, rest_url, args))
                mcp = measured(procs, partial(python_load, "mcp_load.py", mcp_url, args, "--tool", "check-api-key"))
                results["REST @16"][count].samples.append(rest)
                results["MCP @16"][count].samples.append(mcp)
                say(
                    f"round {index + 1}/{args.rounds} {count} worker(s): REST {rest.rps:,.0f} req/s, MCP {mcp.rps:,.0f}"
                )
        for count, (proc, _) in servers.items():
            memory[count] = (proc.memory_mb("VmHWM"), pss_mb(proc))
    generator = "wrk -t1" if tools.wrk else "load/http_load.py"
    invocation = shlex.join(["python", "benchmarks/workers.py", *sys.argv[1:]])
    text = "\n".join(
        [
            "# naftiko serve: 1 worker against 2 workers",
            "",
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, `{invocation}` "
            f"({args.rounds} interleaved rounds, {args.duration:g} s per run), naftiko-runtime at {deps.revision()}.",
            "",
            f"Machine: {deps.machine()['nproc']} CPUs. The servers and the load generators ({generator} for REST, "
            "load/mcp_load.py for MCP, 16 callers) share every core; the nginx upstream is pinned to CPU 0. "
            "Both servers run `--stateless --json-response`.",
            "",
            table(results, memory),
            "",
            *(f"- {note}" for note in notes(results)),
        ]
    )
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    say(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
