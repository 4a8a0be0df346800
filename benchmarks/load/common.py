"""The timed loop both Python load generators share, and the JSON they print.

N workers each set up (an MCP handshake, say), then call as fast as answers come: a warm-up
that is not recorded, then a measured window. Each worker has its own keep-alive connection.
The result counts completed calls and their latencies, and the generator's own CPU use so a
saturated generator can be told from a slow server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

import aiohttp
import uvloop

Call = Callable[[], Awaitable[bool]]
Setup = Callable[[aiohttp.ClientSession], Awaitable[Call]]


@dataclass
class Result:
    concurrency: int
    duration_s: float
    calls: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float
    client_cpu: float  # the generator's CPU seconds per wall second in the window
    first_error: str | None = None


def arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--url", required=True)
    parser.add_argument("--concurrency", "-c", type=int, default=16)
    parser.add_argument("--duration", "-d", type=float, default=8.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of calls before measuring")
    return parser


def percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def drive(setup: Setup, concurrency: int, warmup: float, duration: float) -> Result:
    latencies: list[float] = []
    errors = 0
    first_error: str | None = None
    all_set = asyncio.Event()  # every worker has done its set-up
    go = asyncio.Event()  # the window is fixed: call
    window: dict[str, float] = {}
    set_up = 0

    async def worker() -> None:
        nonlocal errors, first_error, set_up
        connector = aiohttp.TCPConnector(limit=1, force_close=False)
        async with aiohttp.ClientSession(connector=connector, skip_auto_headers=("User-Agent",)) as session:
            call = await setup(session)
            set_up += 1
            if set_up == concurrency:
                all_set.set()
            await go.wait()
            record = latencies.append
            while (now := time.perf_counter()) < window["end"]:
                try:
                    ok = await call()
                except Exception as exc:  # a failed call is counted, not fatal
                    ok = False
                    first_error = first_error or f"{type(exc).__name__}: {exc}"
                done = time.perf_counter()
                if now >= window["start"]:
                    if ok:
                        record(done - now)
                    else:
                        errors += 1

    tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
    waiter = asyncio.create_task(all_set.wait())
    await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        if task.done() and (failure := task.exception()) is not None:
            waiter.cancel()
            raise failure
    begin = time.perf_counter()
    window["start"] = begin + warmup
    window["end"] = window["start"] + duration
    go.set()
    await asyncio.sleep(warmup)
    cpu_start = time.process_time()
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - window["start"]
    cpu = time.process_time() - cpu_start
    ordered = sorted(latencies)
    return Result(
        concurrency=concurrency,
        duration_s=round(wall, 3),
        calls=len(ordered),
        errors=errors,
        rps=len(ordered) / wall if wall > 0 else 0.0,
        p50_ms=percentile(ordered, 0.50) * 1000,
        p99_ms=percentile(ordered, 0.99) * 1000,
        client_cpu=cpu / wall if wall > 0 else 0.0,
        first_error=first_error,
    )


def main(setup: Setup, args: argparse.Namespace) -> None:
    result = uvloop.run(drive(setup, args.concurrency, args.warmup, args.duration))
    json.dump(asdict(result), sys.stdout)
    sys.stdout.write("\n")
