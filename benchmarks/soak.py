"""Soak: many callers (REST and MCP mixed) for a while against an upstream that injects faults.

The upstream (a child process, aiohttp) answers some calls with 500 or 503, some slowly, and
drops some connections without an answer, also after it has taken a POST in. `naftiko serve
--watch` sits in front; with --reload-every, its file is rewritten under load and reloads.

Reported: answers lost (a call that got no HTTP answer, or no JSON-RPC answer: must be 0), POST
duplicates (an order the upstream took more than once: must be 0; a retried POST would do it),
RSS of the server after the warm-up and at the end (growth under 10%), the answers by kind, and
the reloads done. Exit status 1 when a bound is broken.

    python benchmarks/soak.py                          # 100 callers, 45 s, a reload every 10 s
    python benchmarks/soak.py --duration 120 --callers 200 --reload-every 0
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from procs import LOAD_CORE, SERVER_CORE, BenchError, Proc, Procs, free_port, wait_until

HERE = Path(__file__).resolve().parent
PROTOCOL = "2025-06-18"
CALL_TIMEOUT = 30.0  # no answer within this is an answer lost
MCP_HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}


# -- the upstream (run in a child process: `soak.py --serve-upstream PORT`)


def upstream_app(seed: int) -> web.Application:
    chance = random.Random(seed)
    orders: collections.Counter[str] = collections.Counter()

    def fault() -> str:
        roll = chance.random()
        for name, share in (("500", 0.04), ("503", 0.02), ("slow", 0.02), ("drop", 0.01)):
            if roll < share:
                return name
            roll -= share
        return ""

    async def answer(request: web.Request, status: int, body: dict[str, Any], kind: str) -> web.StreamResponse:
        if kind == "drop":
            # The connection goes away without an answer (after a POST was taken in: the order stands).
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=204)
        if kind == "slow":
            await asyncio.sleep(0.3)
        if kind in ("500", "503"):
            headers = {"retry-after": "0"} if kind == "503" else {}
            return web.json_response({"error": {"message": f"injected {kind}"}}, status=int(kind), headers=headers)
        return web.json_response(body, status=status)

    async def thing(request: web.Request) -> web.StreamResponse:
        return await answer(request, 200, {"id": request.match_info["id"]}, fault())

    async def order(request: web.Request) -> web.StreamResponse:
        data = await request.json()
        orders[str(data.get("order"))] += 1
        return await answer(request, 201, {"order": data.get("order")}, fault())

    async def stats(_request: web.Request) -> web.StreamResponse:
        duplicates = sum(count - 1 for count in orders.values() if count > 1)
        return web.json_response({"orders": sum(orders.values()), "distinct": len(orders), "duplicates": duplicates})

    async def health(_request: web.Request) -> web.StreamResponse:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/things/{id}", thing)
    app.router.add_post("/orders", order)
    app.router.add_get("/stats", stats)
    app.router.add_get("/healthz", health)
    return app


def serve_upstream(port: int, seed: int) -> None:
    web.run_app(upstream_app(seed), host="127.0.0.1", port=port, print=None, access_log=None)


# -- the capability


def capability(upstream: str, revision: int) -> str:
    return f"""\
# soak revision {revision}
naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: shop
    baseUri: "{upstream}"
    resources:
    - name: thing
      path: /things/{{{{id}}}}
      operations:
      - name: get-thing
        method: GET
        inputParameters:
        - {{name: id, in: path}}
    - name: orders
      path: /orders
      operations:
      - name: create-order
        method: POST
        inputParameters:
        - {{name: order, in: body}}
  exposes:
  - type: rest
    namespace: shop-rest
    port: 8080
    resources:
    - path: /things/{{{{id}}}}
      name: thing
      operations:
      - method: GET
        name: get-thing
        inputParameters:
        - {{name: id, in: path, type: string}}
        call: shop.get-thing
        with: {{id: shop-rest.id}}
    - path: /orders
      name: orders
      operations:
      - method: POST
        name: create-order
        inputParameters:
        - {{name: order, in: body, type: string}}
        call: shop.create-order
        with: {{order: shop-rest.order}}
  - type: mcp
    namespace: shop-mcp
    port: 9090
    tools:
    - name: get-thing
      description: One thing.
      hints: {{readOnly: true, idempotent: true}}
      inputParameters:
      - {{name: id, type: string, required: true, description: The id.}}
      call: shop.get-thing
      with: {{id: shop-mcp.id}}
    - name: create-order
      description: Place an order.
      hints: {{readOnly: false, idempotent: false}}
      inputParameters:
      - {{name: order, type: string, required: true, description: A unique order id.}}
      call: shop.create-order
      with: {{order: shop-mcp.order}}
"""


# -- the callers


@dataclass
class Tally:
    sent: int = 0
    lost: int = 0
    wrong: int = 0  # an answer about another request than the one asked
    posts: int = 0
    answers: collections.Counter[str] = field(default_factory=collections.Counter)
    reasons: collections.Counter[str] = field(default_factory=collections.Counter)

    def lose(self, reason: str) -> None:
        self.lost += 1
        self.reasons[reason] += 1


async def rest_caller(http: aiohttp.ClientSession, base: str, stop: asyncio.Event, tally: Tally, seed: int) -> None:
    chance = random.Random(seed)
    while not stop.is_set():
        post = chance.random() < 0.3
        key = uuid.uuid4().hex
        tally.sent += 1
        tally.posts += post
        try:
            request = http.post(f"{base}/orders", json={"order": key}) if post else http.get(f"{base}/things/{key}")
            async with request as response:
                body = await response.read()
                tally.answers[f"REST {response.status}"] += 1
                if response.status in (200, 201) and json.loads(body).get("order" if post else "id") != key:
                    tally.wrong += 1
        except (aiohttp.ClientError, TimeoutError) as exc:
            tally.lose(f"REST {type(exc).__name__}")


class McpSession:
    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self._http = http
        self._url = url
        self._headers: dict[str, str] = {**MCP_HEADERS, "mcp-protocol-version": PROTOCOL}
        self._id = 0

    async def open(self) -> None:
        self._headers.pop("mcp-session-id", None)
        params = {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "soak", "version": "1"}}
        async with self._http.post(self._url, json=self._message("initialize", params), headers=self._headers) as r:
            await _rpc(r)
            session = r.headers.get("mcp-session-id")
        if session:
            self._headers["mcp-session-id"] = session
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        async with self._http.post(self._url, json=note, headers=self._headers) as response:
            await response.read()

    async def call(self, tool: str, arguments: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        message = self._message("tools/call", {"name": tool, "arguments": arguments})
        async with self._http.post(self._url, json=message, headers=self._headers) as response:
            return response.status, await _rpc(response)

    def _message(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self._id += 1
        return {"jsonrpc": "2.0", "id": self._id, "method": method, "params": params}


async def _rpc(response: aiohttp.ClientResponse) -> dict[str, Any] | None:
    body = await response.read()
    if response.status != 200:
        return None
    if response.content_type == "text/event-stream":
        lines = [line[5:].strip() for line in body.splitlines() if line.startswith(b"data:")]
        lines = [line for line in lines if line]
        if not lines:
            return None
        body = lines[-1]
    message: dict[str, Any] = json.loads(body)
    return message


async def mcp_caller(http: aiohttp.ClientSession, url: str, stop: asyncio.Event, tally: Tally, seed: int) -> None:
    chance = random.Random(seed)
    session = McpSession(http, url)
    await session.open()
    while not stop.is_set():
        post = chance.random() < 0.3
        key = uuid.uuid4().hex
        tally.sent += 1
        tally.posts += post
        try:
            tool, arguments = ("create-order", {"order": key}) if post else ("get-thing", {"id": key})
            status, message = await session.call(tool, arguments)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            tally.lose(f"MCP {type(exc).__name__}")
            continue
        if message is None or ("result" not in message and "error" not in message):
            tally.lose(f"MCP HTTP {status} without a JSON-RPC answer")
            if status == 404:  # the session is gone: a client opens another
                await session.open()
            continue
        result = message.get("result") or {}
        kind = "error" if "error" in message else ("isError" if result.get("isError") else "result")
        tally.answers[f"MCP {kind}"] += 1
        if kind == "result" and key not in json.dumps(result):
            tally.wrong += 1


# -- the run


async def load(
    args: argparse.Namespace, rest: str, mcp: str, served: Path, upstream: str, server: Proc
) -> dict[str, Any]:
    tally = Tally()
    stop = asyncio.Event()
    timeout = aiohttp.ClientTimeout(total=CALL_TIMEOUT)
    connector = aiohttp.TCPConnector(limit=0)
    rss: dict[str, float] = {}
    reloads = 0
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        callers = []
        for index in range(args.callers):
            if index % 2:
                callers.append(asyncio.create_task(mcp_caller(http, mcp, stop, tally, index)))
            else:
                callers.append(asyncio.create_task(rest_caller(http, rest, stop, tally, index)))
        started = time.monotonic()
        await asyncio.sleep(args.warmup)
        rss["after warm-up"] = server.memory_mb("VmRSS")
        sent_at_warmup = tally.sent
        next_reload = time.monotonic() + args.reload_every if args.reload_every else float("inf")
        while time.monotonic() - started < args.duration:
            await asyncio.sleep(0.25)
            server.check_alive()
            if time.monotonic() >= next_reload:
                reloads += 1
                served.write_text(capability(upstream, reloads))
                next_reload += args.reload_every
        rss["at the end"] = server.memory_mb("VmRSS")
        rss["peak"] = server.memory_mb("VmHWM")
        stop.set()
        results = await asyncio.gather(*callers, return_exceptions=True)
        crashed = [repr(result) for result in results if isinstance(result, BaseException)]
        async with http.get(f"{upstream}/stats") as response:
            orders = await response.json()
    elapsed = time.monotonic() - started
    return {
        "tally": tally,
        "rss": rss,
        "reloads": reloads,
        "orders": orders,
        "crashed": crashed,
        "rate": (tally.sent - sent_at_warmup) / max(elapsed - args.warmup, 1e-9),
        "elapsed": elapsed,
    }


def report(args: argparse.Namespace, outcome: dict[str, Any], reloaded: int, exit_code: int | None) -> bool:
    tally: Tally = outcome["tally"]
    rss = outcome["rss"]
    growth = (rss["at the end"] - rss["after warm-up"]) / rss["after warm-up"] * 100
    orders = outcome["orders"]
    checks = [
        ("answers lost", tally.lost, tally.lost == 0),
        ("answers about another request", tally.wrong, tally.wrong == 0),
        ("POST duplicates at the upstream", orders["duplicates"], orders["duplicates"] == 0),
        ("RSS growth after warm-up", f"{growth:+.1f}%", growth < 10),
        ("callers that crashed", len(outcome["crashed"]), not outcome["crashed"]),
        ("exit code on SIGTERM", exit_code, exit_code == 0),
    ]
    print(f"# Soak: {args.callers} callers (REST and MCP mixed), {outcome['elapsed']:.0f} s\n")
    print(
        f"calls: {tally.sent} ({outcome['rate']:.0f}/s after warm-up), POSTs: {tally.posts}, "
        f"orders taken by the upstream: {orders['orders']} ({orders['distinct']} distinct)"
    )
    print(f"reloads under load: {outcome['reloads']} asked, {reloaded} done")
    print(
        f"RSS: {rss['after warm-up']:.1f} MB after warm-up, {rss['at the end']:.1f} MB at the end, "
        f"peak {rss['peak']:.1f} MB\n"
    )
    print("| answers | count |\n|---|---|")
    for kind, count in sorted(tally.answers.items()):
        print(f"| {kind} | {count} |")
    print("\n| check | value | |\n|---|---|---|")
    for name, value, ok in checks:
        print(f"| {name} | {value} | {'PASS' if ok else 'FAIL'} |")
    for reason, count in tally.reasons.items():
        print(f"lost: {count} x {reason}")
    for crash in outcome["crashed"][:5]:
        print(f"crashed: {crash}")
    return all(ok for _, _, ok in checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--callers", type=int, default=100)
    parser.add_argument("--duration", type=float, default=45.0, help="seconds of load, warm-up included")
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--reload-every", type=float, default=10.0, help="seconds between file edits (0: none)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--serve-upstream", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_upstream:
        serve_upstream(args.serve_upstream, args.seed)
        return 0
    if args.warmup >= args.duration:
        parser.error("--warmup must be shorter than --duration")
    with tempfile.TemporaryDirectory(prefix="naftiko-soak-") as scratch, Procs(Path(scratch)) as procs:
        upstream_port = free_port()
        upstream = f"http://127.0.0.1:{upstream_port}"
        fake = procs.start(
            "upstream",
            [sys.executable, str(Path(__file__)), "--serve-upstream", str(upstream_port), "--seed", str(args.seed)],
            core=LOAD_CORE,
        )
        wait_until("the upstream", lambda: _answers(f"{upstream}/healthz"), fake)
        served = Path(scratch) / "shop.yaml"
        served.write_text(capability(upstream, 0))
        rest_port, mcp_port = free_port(), free_port()
        command = [sys.executable, "-m", "naftiko_runtime", "serve", str(served), "--watch"]
        command += ["--port", f"8080={rest_port}", "--port", f"9090={mcp_port}"]
        server = procs.start("naftiko", command, core=SERVER_CORE)
        wait_until("naftiko serve", lambda: _answers(f"http://127.0.0.1:{rest_port}/healthz"), server)
        rest, mcp = f"http://127.0.0.1:{rest_port}", f"http://127.0.0.1:{mcp_port}/mcp"
        try:
            outcome = asyncio.run(load(args, rest, mcp, served, upstream, server))
        except BenchError as exc:
            print(f"soak: {exc}", file=sys.stderr)
            return 1
        server.popen.send_signal(15)
        try:
            exit_code: int | None = server.popen.wait(timeout=30)
        except Exception:
            exit_code = None
        log = server.log.read_text(errors="replace")
        reloaded = log.count("now serving the new version")
        ok = report(args, outcome, reloaded, exit_code)
        if "Traceback" in log:
            print("\nthe server log holds a traceback:\n" + log[-3000:])
            ok = False
        return 0 if ok else 1


def _answers(url: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


if __name__ == "__main__":
    sys.exit(main())
