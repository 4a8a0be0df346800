"""Latency the runtime adds per call (REST and MCP) over calling the upstream directly.

Starts a canned-JSON upstream and `naftiko serve` for a Kombo-shaped capability, then times
interleaved rounds of single calls: direct, through REST, through MCP. Prints medians and the
added latency. Usage: python benchmarks/latency.py [--calls N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from mcp import Client

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = """
import sys
from aiohttp import web
BODY = b'{"status":"success","data":{"environment_id":"P2WPBg8Y4ErK9pGSSxY6BVSc","customer_id":"Jy9uUxcJnTPkyRFA6CAFjF1Y"}}'
async def answer(request):
    return web.Response(body=BODY, content_type="application/json")
app = web.Application()
app.router.add_route("*", "/{tail:.*}", answer)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""
BANNER = re.compile(r"^naftiko: (REST|MCP)\s+\S+ at (http://\S+)")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not come up")


async def measure(direct: str, rest: str, mcp_url: str, calls: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {"direct": [], "rest": [], "mcp": []}
    async with httpx.AsyncClient() as http, Client(mcp_url) as mcp:
        for _ in range(50):  # warm-up: connections, caches
            await http.get(direct)
            await http.get(rest)
            await mcp.call_tool("check-api-key", {})
        for _ in range(calls):
            start = time.perf_counter()
            await http.get(direct)
            samples["direct"].append(time.perf_counter() - start)
            start = time.perf_counter()
            await http.get(rest)
            samples["rest"].append(time.perf_counter() - start)
            start = time.perf_counter()
            result = await mcp.call_tool("check-api-key", {})
            samples["mcp"].append(time.perf_counter() - start)
            assert not result.is_error
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        upstream_script = Path(scratch) / "upstream.py"
        upstream_script.write_text(UPSTREAM)
        upstream = subprocess.Popen([sys.executable, str(upstream_script), str(port)])
        server = subprocess.Popen(
            [
                sys.executable, "-m", "naftiko_runtime", "serve", str(ROOT / "capabilities" / "kombo.yaml"),
                "--port", "8080=0", "--port", "9090=0", "--log-level", "warning",
                "--base-uri", f"kombo-general=http://127.0.0.1:{port}/v1",
            ],
            stderr=subprocess.PIPE, text=True, env={**os.environ, "KOMBO_API_KEY": "ks_bench_key"},
        )
        try:
            urls = {}
            assert server.stderr is not None
            while len(urls) < 2:
                line = server.stderr.readline()
                if not line:
                    raise SystemExit("naftiko serve exited")
                if match := BANNER.match(line):
                    urls[match.group(1)] = match.group(2)
            direct = f"http://127.0.0.1:{port}/v1/check-api-key"
            wait_http(direct)
            wait_http(urls["REST"] + "/healthz")
            samples = asyncio.run(measure(direct, urls["REST"] + "/v1/check-api-key", urls["MCP"], args.calls))
        finally:
            server.terminate()
            upstream.terminate()
            server.wait(timeout=15)
            upstream.wait(timeout=15)
    medians = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    print(f"calls per path: {args.calls} (interleaved, one caller, keep-alive)")
    print(f"{'path':8} {'p50 ms':>8} {'p99 ms':>8} {'added p50 ms':>13}")
    for name, values in samples.items():
        ordered = sorted(values)
        p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
        added = medians[name] - medians["direct"]
        print(f"{name:8} {medians[name]:8.3f} {p99:8.3f} {added:13.3f}")


if __name__ == "__main__":
    main()
