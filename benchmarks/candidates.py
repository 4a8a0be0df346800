"""Start the servers under test, each pinned to the server core, and say where to send load."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from deps import Tools
from procs import Proc, Procs, free_port, wait_http, wait_log, wait_mcp
from upstream import API_KEY, start_nginx_proxy

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
KOMBO = ROOT / "capabilities" / "kombo.yaml"
KOMBO_OPENAPI = ROOT / "capabilities" / "kombo.openapi.yaml"
BANNER = re.compile(r"^naftiko: (REST|MCP)\s+\S+ at (http://\S+)")
NAFTIKO_ENV = {"KOMBO_API_KEY": API_KEY}


@dataclass
class Candidate:
    key: str
    label: str
    url: str
    proc: Proc | None  # whose memory is reported (the upstream for the direct lines)
    tool: str = "check-api-key"


def naftiko_command(*extra: str) -> list[str]:
    return [sys.executable, "-m", "naftiko_runtime", *extra]


OBSERVED_SAMPLE_RATIO = "0.01"


def observed_flags(upstream_base: str) -> tuple[list[str], dict[str, str]]:
    """What production runs with: a call line per call at info, Prometheus metrics, and tracing on:
    every call's context passed upstream, 1% of new traces recorded (OTLP, batched, to the
    upstream's canned answer: it only has to say 200)."""
    origin = upstream_base.removesuffix("/v1")
    flags = ["--log-level", "info", "--metrics-port", "0", "--otel-exporter", "otlp"]
    flags += ["--otel-sample-ratio", OBSERVED_SAMPLE_RATIO]
    return flags, {"OTEL_EXPORTER_OTLP_ENDPOINT": origin}


def start_naftiko(
    procs: Procs,
    upstream_base: str | None,
    flags: Sequence[str] = (),
    env: dict[str, str] | None = None,
    name: str = "naftiko",
) -> tuple[Proc, dict[str, str]]:
    """`naftiko serve capabilities/kombo.yaml` on free ports; its REST and MCP URLs once it answers."""
    command = ["serve", str(KOMBO), "--port", "8080=0", "--port", "9090=0", "--log-level", "warning", *flags]
    if upstream_base:
        command += ["--base-uri", f"kombo-general={upstream_base}"]
    proc = procs.start(name, naftiko_command(*command), env={**NAFTIKO_ENV, **(env or {})}, cwd=ROOT)
    urls = {m.group(1): m.group(2) for m in wait_log(proc, BANNER, 2)}
    wait_http(urls["REST"] + "/healthz", proc)
    return proc, urls


def start_baseline(
    procs: Procs, name: str, script: str, upstream_base: str, *extra: str, python: str = sys.executable
) -> tuple[Proc, str]:
    port = free_port()
    command = [python, str(HERE / "baselines" / script), "--port", str(port), "--upstream", upstream_base, *extra]
    proc = procs.start(name, command, env={"KOMBO_API_KEY": API_KEY})
    return proc, f"http://127.0.0.1:{port}"


def rest_candidates(
    procs: Procs, tools: Tools, upstream: Proc, upstream_base: str, scratch: Path, clients: bool
) -> list[Candidate]:
    route = "/v1/check-api-key"
    kind = "nginx" if tools.nginx else "aiohttp stand-in"
    found = [Candidate("direct", f"direct (upstream {kind})", upstream_base + "/check-api-key", upstream)]
    if tools.nginx:
        upstream_port = int(upstream_base.rsplit(":", 1)[1].split("/")[0])
        proxy, url = start_nginx_proxy(procs, scratch, upstream_port)
        found.append(Candidate("nginx", "nginx proxy_pass (keepalive)", url + route, proxy))
    servers: list[tuple[str, str, str, tuple[str, ...], str]] = [
        ("asgi", "raw ASGI + aiohttp", "raw_asgi.py", (), sys.executable),
        ("starlette", "Starlette + aiohttp", "starlette_proxy.py", (), sys.executable),
    ]
    if clients and tools.httpx_python:
        servers.append(("starlette-httpx", "Starlette + httpx 0.28", "starlette_proxy.py", ("--client", "httpx"),
                        tools.httpx_python))  # fmt: skip
    for key, label, script, extra, python in servers:
        proc, url = start_baseline(procs, key, script, upstream_base, *extra, python=python)
        wait_http(url + "/healthz", proc)
        found.append(Candidate(key, label, url + route, proc))
    proc, urls = start_naftiko(procs, upstream_base)
    found.append(Candidate("naftiko", "naftiko serve", urls["REST"] + route, proc))
    flags, env = observed_flags(upstream_base)
    proc, urls = start_naftiko(procs, upstream_base, flags, env, name="naftiko-observed")
    found.append(Candidate("observed", "naftiko serve, logs info + metrics + traces", urls["REST"] + route, proc))
    return found


def mcp_candidates(procs: Procs, tools: Tools, upstream: Proc, upstream_base: str, scratch: Path) -> list[Candidate]:
    found = [Candidate("direct", "direct (aiohttp GET, no MCP)", upstream_base + "/check-api-key", upstream)]
    proc, url = start_baseline(procs, "sdk", "mcp_lowlevel.py", upstream_base)
    wait_mcp(url + "/mcp", proc)
    found.append(Candidate("sdk", "mcp SDK low-level + aiohttp", url + "/mcp", proc))
    if tools.fastmcp_python:
        document = scratch / "kombo.openapi.json"
        document.write_text(json.dumps(yaml.safe_load(KOMBO_OPENAPI.read_text())))
        proc, url = start_baseline(
            procs, "fastmcp", "fastmcp_openapi.py", upstream_base, "--openapi", str(document),
            python=tools.fastmcp_python,
        )  # fmt: skip
        wait_mcp(url + "/mcp", proc)
        # FastMCP turns the given names into identifiers: check-api-key becomes check_api_key.
        found.append(Candidate("fastmcp", "FastMCP.from_openapi", url + "/mcp", proc, tool="check_api_key"))
    proc, urls = start_naftiko(procs, upstream_base, ["--stateless", "--json-response"])
    wait_mcp(urls["MCP"], proc)
    found.append(Candidate("naftiko", "naftiko serve --stateless --json-response", urls["MCP"], proc))
    flags, env = observed_flags(upstream_base)
    proc, urls = start_naftiko(
        procs, upstream_base, ["--stateless", "--json-response", *flags], env, name="naftiko-observed"
    )
    wait_mcp(urls["MCP"], proc)
    found.append(Candidate("observed", "the same, logs info + metrics + traces", urls["MCP"], proc))
    return found
