"""`naftiko serve --workers 2`: one supervisor, two worker processes on the same ports.

Which worker answered a call is read from the metrics each one writes to the shared
`PROMETHEUS_MULTIPROC_DIR` (a `counter_<pid>.db` file per process, the client library's layout).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from tests.e2e.conftest import KOMBO_CAPABILITY
from tests.e2e.mcp_client import connect
from tests.e2e.server import NaftikoServer
from tests.fakes import KomboFake

pytestmark = pytest.mark.anyio
WORKERS = re.compile(r"^naftiko: serving from (\d+) workers \(pids ([\d, ]+)\)", re.MULTILINE)
METRICS = re.compile(r"^naftiko: METRICS at (http://\S+)", re.MULTILINE)
ROUTE_CALLS = re.compile(r'^naftiko_calls_total\{[^}]*name="GET /v1/check-api-key"[^}]*\} ([\d.]+)$', re.MULTILINE)
WAIT_SECONDS = 15.0


@pytest.fixture(scope="module")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("multiproc")


@pytest.fixture(scope="module")
def pool(kombo: KomboFake, api_key: str, shared_dir: Path) -> Iterator[NaftikoServer]:
    args = ["--base-uri", f"kombo-general={kombo.base_url}", "--workers", "2", "--metrics-port", "0"]
    env = {"KOMBO_API_KEY": api_key, "PROMETHEUS_MULTIPROC_DIR": str(shared_dir)}
    with NaftikoServer([KOMBO_CAPABILITY], args=args, env=env) as server:
        yield server.wait_ready()
        assert server.stop() == 0, server.output


def worker_pids(server: NaftikoServer) -> list[int]:
    match = WORKERS.search(server.output)
    assert match is not None, server.output
    return [int(pid) for pid in match.group(2).split(", ")]


def children(parent: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def calls_by_worker(shared_dir: Path, scratch: Path) -> dict[int, float]:
    """Route calls each process counted, from its own counter file alone."""
    counted: dict[int, float] = {}
    for path in shared_dir.glob("counter_*.db"):
        alone = scratch / path.stem
        alone.mkdir(exist_ok=True)
        shutil.copy(path, alone / path.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))
        counted[int(path.stem.split("_")[1])] = sum(
            sample.value
            for metric in registry.collect()
            for sample in metric.samples
            if sample.name == "naftiko_calls_total" and sample.labels.get("name") == "GET /v1/check-api-key"
        )
    return counted


def new_connection_get(url: str) -> int:
    return httpx.get(url, timeout=10).status_code


def scrape_route_calls(metrics_url: str) -> float:
    match = ROUTE_CALLS.search(httpx.get(metrics_url, timeout=10).text)
    assert match is not None
    return float(match.group(1))


def test_rest_calls_on_fresh_connections_all_succeed_and_both_workers_answer(
    pool: NaftikoServer, shared_dir: Path, tmp_path: Path
) -> None:
    pids = worker_pids(pool)
    assert len(pids) == 2
    url = f"{pool.rest_url}/v1/check-api-key"
    counted: dict[int, float] = {}
    with ThreadPoolExecutor(max_workers=8) as calls:
        for _ in range(10):
            statuses = list(calls.map(new_connection_get, [url] * 40))
            assert statuses == [200] * 40
            counted = calls_by_worker(shared_dir, tmp_path)
            if all(counted.get(pid, 0) > 0 for pid in pids):
                break
    assert all(counted.get(pid, 0) > 0 for pid in pids), counted


def accepted_by(pids: list[int], port: int) -> dict[int, int]:
    """How many established connections to `port` each process holds (socket inodes of /proc/net/tcp)."""
    established = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":
            established.add(f"socket:[{fields[9]}]")
    held = {}
    for pid in pids:
        links = set()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                links.add(os.readlink(fd))
        held[pid] = len(links & established)
    return held


def test_a_burst_of_new_connections_is_spread_over_both_workers(pool: NaftikoServer) -> None:
    pids = worker_pids(pool)
    supervisor = parent_of(pids[0])
    pids = sorted(children(supervisor))  # the current workers (another test may have replaced one)
    port = httpx.URL(pool.rest_url).port or 0
    connections = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(40)]
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while sum((held := accepted_by(pids, port)).values()) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        # Sharing one socket, the first worker awake accepts nearly the whole burst; SO_REUSEPORT
        # spreads it (binomially: fewer than 6 of 40 on one side would happen once in 100,000 runs).
        assert sum(held.values()) == 40 and min(held.values()) >= 6, held
    finally:
        for connection in connections:
            connection.close()


def test_any_worker_answers_metrics_for_the_calls_of_every_worker(pool: NaftikoServer) -> None:
    match = METRICS.search(pool.output)
    assert match is not None, pool.output
    metrics_url = match.group(1)
    before = scrape_route_calls(metrics_url)
    url = f"{pool.rest_url}/v1/check-api-key"
    with ThreadPoolExecutor(max_workers=8) as calls:
        assert list(calls.map(new_connection_get, [url] * 30)) == [200] * 30
    # Each scrape is a new connection, answered by either worker: every one sees all 30 calls.
    assert {scrape_route_calls(metrics_url) for _ in range(6)} == {before + 30}


async def test_mcp_clients_call_tools_statelessly_on_either_worker(pool: NaftikoServer, kombo: KomboFake) -> None:
    assert "--workers 2: MCP runs stateless" in pool.output
    for _ in range(6):  # each client its own connection, accepted by either worker
        async with connect(pool.mcp_url) as client:
            assert len((await client.list_tools()).tools) == 13
            result = await client.call_tool("check-api-key", {})
            assert not result.is_error, result.content
    opened = httpx.post(
        pool.mcp_url,
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        },
        headers={"accept": "application/json, text/event-stream"},
        timeout=10,
    )
    assert opened.status_code == 200
    assert "mcp-session-id" not in opened.headers
    assert kombo.last.raw_path == "/v1/check-api-key"


def test_the_banner_is_printed_once_by_the_supervisor(pool: NaftikoServer) -> None:
    output = pool.output
    assert len(re.findall(r"^naftiko: REST ", output, re.MULTILINE)) == 1
    assert len(re.findall(r"^naftiko: MCP ", output, re.MULTILINE)) == 1
    assert len(WORKERS.findall(output)) == 1


def test_a_killed_worker_is_replaced_and_serving_goes_on(pool: NaftikoServer) -> None:
    victim, survivor = worker_pids(pool)
    supervisor = parent_of(victim)
    assert children(supervisor) == {victim, survivor}
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        now = children(supervisor)
        if len(now) == 2 and victim not in now:
            break
        time.sleep(0.05)
    assert survivor in now and victim not in now and len(now) == 2, pool.output
    assert "was killed by SIGKILL; starting another" in pool.output
    url = f"{pool.rest_url}/v1/check-api-key"
    with ThreadPoolExecutor(max_workers=8) as calls:
        assert list(calls.map(new_connection_get, [url] * 20)) == [200] * 20


def test_sigterm_stops_every_worker_exits_0_and_removes_its_own_metrics_directory(
    kombo: KomboFake, api_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    # Configured the container way: every option but the ports from NAFTIKO_* variables.
    env = {
        "KOMBO_API_KEY": api_key,
        "TMPDIR": str(tmp_path),
        "NAFTIKO_WORKERS": "2",
        "NAFTIKO_METRICS_PORT": "0",
        "NAFTIKO_BASE_URI": f"kombo-general={kombo.base_url}",
    }
    with NaftikoServer([KOMBO_CAPABILITY], env=env) as server:
        server.wait_ready()
        pids = worker_pids(server)
        assert children(parent_of(pids[0])) == set(pids)
        assert len(list(tmp_path.glob("naftiko-metrics-*"))) == 1
        assert httpx.get(f"{server.rest_url}/v1/check-api-key", timeout=10).status_code == 200
        assert server.stop(signal.SIGTERM) == 0, server.output
    deadline = time.monotonic() + WAIT_SECONDS
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in pids)
    assert list(tmp_path.glob("naftiko-metrics-*")) == []
    assert "stopping 2 workers" in server.output


def test_one_worker_by_default_serves_from_the_process_itself(kombo: KomboFake, api_key: str) -> None:
    args = ["--base-uri", f"kombo-general={kombo.base_url}"]
    with NaftikoServer([KOMBO_CAPABILITY], args=args, env={"KOMBO_API_KEY": api_key}) as server:
        server.wait_ready()
        assert httpx.get(f"{server.rest_url}/v1/check-api-key", timeout=10).status_code == 200
        assert "naftiko: serving 2 adapter(s); stop with Ctrl-C or SIGTERM" in server.output
        assert WORKERS.search(server.output) is None
        assert server.stop() == 0, server.output


def test_several_workers_refuse_mcp_over_stdio_before_starting_any() -> None:
    command = [sys.executable, "-m", "naftiko_runtime", "serve", str(KOMBO_CAPABILITY), "--workers", "2", "--stdio"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 1
    assert "--workers 2: MCP over stdio is one process's stdin and stdout; use --workers 1" in done.stderr
