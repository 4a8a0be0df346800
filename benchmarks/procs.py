"""Process helpers: pinned children in their own process groups, bounded readiness waits, /proc memory.

Servers run on core 0 and load generators on core 1 (`taskset -c`), so a candidate never
competes with the load that measures it. Every child is started in a new session (its own
process group) and `Procs` stops every group it started, whatever happens.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

SERVER_CORE = "0"
LOAD_CORE = "1"
TASKSET = shutil.which("taskset")


class BenchError(RuntimeError):
    """A piece of the benchmark could not start or answered wrongly."""


def pinned(command: Sequence[str], core: str) -> list[str]:
    """`command` pinned to one CPU when taskset is there and the machine has that core."""
    if TASKSET is None or int(core) >= (os.cpu_count() or 1):
        return list(command)
    return [TASKSET, "-c", core, *command]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        if not self.alive():
            raise BenchError(f"{self.name} exited with {self.popen.returncode}:\n{self.log_tail()}")

    def tree(self) -> list[int]:
        """This process and its descendants (nginx's workers, for instance)."""
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                # The command name (field 2) may hold spaces; fields after its ')' are plain.
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        found = [self.pid]
        for pid in found:
            found.extend(children.get(pid, []))
        return found

    def memory_mb(self, field: str) -> float:
        """A /proc status field (VmRSS, VmHWM) summed over the process tree, in MB (10^6 bytes)."""
        total_kib = 0
        for pid in self.tree():
            total_kib += _status_kib(pid, field)
        return total_kib * 1024 / 1e6

    def stop(self, timeout: float = 15.0) -> None:
        if self.popen.poll() is not None:
            return
        _signal_group(self.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(self.pid, signal.SIGKILL)
            self.popen.wait(timeout=5)
        # Whatever else is left in the group (a worker that outlived its master).
        _signal_group(self.pid, signal.SIGKILL)


def _status_kib(pid: int, field: str) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


class Procs:
    """Starts long-running children; stops all of them on exit (normal or not)."""

    def __init__(self, log_dir: Path) -> None:
        self._log_dir = log_dir
        self._started: list[Proc] = []

    def start(
        self,
        name: str,
        command: Sequence[str],
        *,
        core: str = SERVER_CORE,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Proc:
        log = self._log_dir / f"{name}.log"
        with log.open("wb") as sink:
            popen = subprocess.Popen(
                pinned(command, core),
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                cwd=cwd,
                start_new_session=True,
            )
        proc = Proc(name, popen, log)
        self._started.append(proc)
        return proc

    def stop(self, proc: Proc) -> None:
        proc.stop()
        if proc in self._started:
            self._started.remove(proc)

    def running(self) -> list[Proc]:
        return list(self._started)

    def stop_all(self) -> None:
        while self._started:
            self._started.pop().stop()

    def __enter__(self) -> Procs:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop_all()


def run_once(command: Sequence[str], *, core: str, timeout: float, env: Mapping[str, str] | None = None) -> str:
    """Run a bounded command pinned to `core` in its own group; return stdout, raise on failure."""
    popen = subprocess.Popen(
        pinned(command, core),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    try:
        out, err = popen.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _signal_group(popen.pid, signal.SIGKILL)
        popen.communicate()
        raise BenchError(f"{command[0]} did not finish within {timeout:g} s") from None
    if popen.returncode != 0:
        raise BenchError(f"{' '.join(command)} exited {popen.returncode}: {err.decode(errors='replace')[-2000:]}")
    return out.decode(errors="replace")


def wait_until(what: str, probe: Callable[[], bool], proc: Proc | None, timeout: float = 30.0) -> None:
    """Poll `probe` until it holds; fail early if `proc` dies, and after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while time.monotonic() < deadline:
        if proc is not None:
            proc.check_alive()
        if probe():
            return
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)
    tail = f"\n{proc.log_tail()}" if proc is not None else ""
    raise BenchError(f"{what} not ready within {timeout:g} s{tail}")


def http_ok(url: str, body: bytes | None = None, headers: Mapping[str, str] | None = None) -> bool:
    """True when `url` answers 2xx (a POST when `body` is given)."""
    request = urllib.request.Request(url, data=body, headers=dict(headers or {}), method="POST" if body else "GET")
    try:
        with urllib.request.urlopen(request, timeout=2.0) as response:
            response.read()
            status: int = response.status
            return 200 <= status < 300
    except (urllib.error.URLError, OSError):
        return False


def wait_http(url: str, proc: Proc | None, timeout: float = 30.0) -> None:
    wait_until(url, lambda: http_ok(url), proc, timeout)


MCP_PROBE = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "naftiko-bench-probe", "version": "0"},
        },
    }
).encode()
MCP_HEADERS = {
    "content-type": "application/json",
    "accept": "application/json, text/event-stream",
    "mcp-protocol-version": "2025-06-18",
}


def wait_mcp(url: str, proc: Proc, timeout: float = 60.0) -> None:
    """Ready when an MCP `initialize` POST succeeds (the same probe for every MCP candidate)."""
    wait_until(url, lambda: http_ok(url, MCP_PROBE, MCP_HEADERS), proc, timeout)


def wait_log(proc: Proc, pattern: re.Pattern[str], count: int, timeout: float = 30.0) -> list[re.Match[str]]:
    """Wait until `proc`'s log has `count` lines matching `pattern` (naftiko's banners)."""
    found: list[re.Match[str]] = []

    def probe() -> bool:
        nonlocal found
        text = proc.log.read_text(errors="replace") if proc.log.exists() else ""
        found = [m for line in text.splitlines() if (m := pattern.search(line))]
        return len(found) >= count

    wait_until(f"{proc.name} banners", probe, proc, timeout)
    return found


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of one live process, in seconds (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    # After the command name: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU seconds spent in user, nice and system mode on every CPU since boot."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()
    user, nice, system = (int(v) for v in fields[1:4])
    return (user + nice + system) / CLOCK_TICKS


class CpuWatch:
    """How much CPU others used while we measured: the machine's busy time less our processes'.

    Ours are every process `procs` started (servers and upstream, with their children), the
    finished load generators (RUSAGE_CHILDREN) and this process. What is left is a neighbour's
    work, which makes a run worth repeating.
    """

    def __init__(self, procs: Procs) -> None:
        self._procs = procs

    def _ours(self) -> float:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        me = resource.getrusage(resource.RUSAGE_SELF)
        total = children.ru_utime + children.ru_stime + me.ru_utime + me.ru_stime
        for proc in self._procs.running():
            total += sum(process_cpu_seconds(pid) for pid in proc.tree())
        return total

    def __enter__(self) -> CpuWatch:
        self._start = (time.monotonic(), machine_busy_seconds(), self._ours())
        self.foreign_cores = 0.0
        return self

    def __exit__(self, *_: object) -> None:
        wall, busy, ours = time.monotonic(), machine_busy_seconds(), self._ours()
        elapsed = wall - self._start[0]
        foreign = (busy - self._start[1]) - (ours - self._start[2])
        self.foreign_cores = max(0.0, foreign / elapsed) if elapsed > 0 else 0.0


def wait_quiet(procs: Procs, threshold: float, limit: float, window: float = 0.5) -> bool:
    """Wait (at most `limit` s) for a `window` in which others use at most `threshold` CPU."""
    deadline = time.monotonic() + limit
    while True:
        with CpuWatch(procs) as watch:
            time.sleep(window)
        if watch.foreign_cores <= threshold:
            return True
        if time.monotonic() >= deadline:
            return False
