"""`naftiko serve --workers N`: N processes serving the same sockets, supervised by the first.

The supervisor builds the runtime and binds every listener once, prints the banner, then forks
the workers: each inherits the build and its listening sockets and runs its own event loop on them.
On Linux each worker has its own socket per port (SO_REUSEPORT, set once the ports are known to be
free), so the kernel spreads new connections evenly; sharing one socket, the first worker to wake
would accept a whole burst of them, and long-lived MCP connections would stay on it. Fork, not
spawn: a worker starts in milliseconds with nothing to load or bind, and one that dies is replaced
by a copy of the same build on the same sockets (the supervisor keeps them open), so no connection
is refused meanwhile. The supervisor serves nothing:
it restarts a worker that dies, forwards SIGTERM and SIGINT as SIGTERM, waits for the workers'
graceful stop and exits 0. MCP sessions cannot be shared by processes, so MCP runs stateless.
Metrics are shared through `PROMETHEUS_MULTIPROC_DIR` (a temporary directory when it is not set).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import logging
import math
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, TextIO

from naftiko_runtime.runtime import Runtime, RuntimeOptions
from naftiko_runtime.serve import Listening, ServeError, announce, bind_socket, listen, run, settle_heap

logger = logging.getLogger("naftiko.workers")
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"  # read by observability/metrics.py
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# A worker that dies sooner than this after its start is restarted after a growing pause; after
# this many such deaths in a row the supervisor gives up (something fails at every start).
EARLY_DEATH_SECONDS = 5.0
EARLY_DEATHS_TOLERATED = 5
RESTART_PAUSE_CAP = 8.0
# Beyond uvicorn's own backstop (the graceful timeout rounded up, plus 2 s): then SIGKILL.
STOP_MARGIN_SECONDS = 3.0
PR_SET_PDEATHSIG = 1


@contextlib.contextmanager
def shared_metrics(workers: int) -> Iterator[None]:
    """For several workers, `PROMETHEUS_MULTIPROC_DIR` set before the build (the metrics library reads it
    at import): the one given, else a temporary directory removed when serving ends."""
    if workers <= 1 or os.environ.get(MULTIPROCESS_ENV):
        yield
        return
    directory = tempfile.mkdtemp(prefix="naftiko-metrics-")
    os.environ[MULTIPROCESS_ENV] = directory
    try:
        yield
    finally:
        os.environ.pop(MULTIPROCESS_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)


def serve_workers(
    runtime: Runtime,
    options: RuntimeOptions,
    count: int,
    *,
    paths: Sequence[Path] = (),
    reads: Iterable[Path] | None = None,
    banner: TextIO = sys.stderr,
    on_worker_exit: Callable[[], None] = lambda: None,
) -> int:
    """Serve from `count` worker processes until SIGTERM or SIGINT; the exit code (0 after a graceful stop).

    `on_worker_exit` runs in each worker as it ends (telemetry flushed).
    """
    if runtime.stdio is not None:
        raise ServeError(f"--workers {count}: MCP over stdio is one process's stdin and stdout; use --workers 1")
    if not options.stateless and any(listener.type == "mcp" for listener in runtime.listeners):
        print(
            f"naftiko: --workers {count}: MCP runs stateless (a session cannot be shared by processes)",
            file=banner,
            flush=True,
        )
    options = dataclasses.replace(options, stateless=True)
    listening = listen(runtime, options)  # bound without SO_REUSEPORT first: the ports are ours alone
    announce(listening, runtime, options, banner)
    shares = _per_worker(listening, count)

    def worker(number: int) -> NoReturn:
        own = shares[number - 1]
        for share in shares:
            if share is not own:
                share.close()  # this process's copies only
        _worker(lambda: run(runtime, options, paths=paths, reads=reads, listening=own), on_worker_exit)

    every_socket = list(dict.fromkeys(sock for share in shares for sock in share.sockets))
    supervisor = Supervisor(count, worker, every_socket, stop_seconds=_stop_seconds(options))
    return supervisor.run(banner)


def _per_worker(listening: Listening, count: int) -> list[Listening]:
    """Each worker's sockets: its own on every port where the kernel balances SO_REUSEPORT, else the shared ones."""
    if not (sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")):
        return [listening] * count
    shares = [listening]
    added: list[socket.socket] = []
    addresses = [sock.getsockname()[:2] for sock in listening.sockets]
    try:
        for sock in listening.sockets:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        for _ in range(count - 1):
            own: list[socket.socket] = []
            for host, port in addresses:
                own.append(bind_socket(host, port, reuse_port=True))
                added.append(own[-1])
            shares.append(dataclasses.replace(listening, sockets=own))
    except OSError as exc:
        for sock in added:
            sock.close()
        logger.warning("workers share one socket per port (SO_REUSEPORT: %s): connections may not spread evenly", exc)
        return [listening] * count
    return shares


def _stop_seconds(options: RuntimeOptions) -> float:
    return math.ceil(options.graceful_timeout) + 2 + STOP_MARGIN_SECONDS


@dataclass(slots=True)
class Worker:
    number: int  # 1..N, kept by a restarted worker
    pid: int
    started: float


class Supervisor:
    """Forks the workers, restarts those that die, stops them all on SIGTERM or SIGINT."""

    def __init__(
        self,
        count: int,
        worker: Callable[[int], NoReturn],
        sockets: Sequence[socket.socket],
        *,
        stop_seconds: float,
    ) -> None:
        """`worker(number)` serves as worker `number` (1..count) in the forked process; `sockets`: every
        listening socket, kept open for the workers restarted on them and closed when stopping."""
        self._count = count
        self._worker = worker
        self._sockets = sockets
        self._stop_seconds = stop_seconds
        self._workers: dict[int, Worker] = {}
        self._restarts: list[tuple[float, int]] = []  # (when, worker number)
        self._early_deaths = 0
        self._stop_deadline: float | None = None
        self._exit_code = 0

    @property
    def pids(self) -> list[int]:
        return sorted(self._workers)

    def run(self, banner: TextIO) -> int:
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_read, False)
        os.set_blocking(wake_write, False)
        handled = (signal.SIGCHLD, *STOP_SIGNALS)
        previous = {signum: signal.signal(signum, _noted) for signum in handled}
        previous_wakeup = signal.set_wakeup_fd(wake_write)
        try:
            # Out of the collector's sight before forking: the workers share these pages instead of copying them.
            settle_heap()
            for number in range(1, self._count + 1):
                self._start(number, (wake_read, wake_write))
            print(
                f"naftiko: serving from {self._count} workers (pids {', '.join(map(str, self.pids))}); "
                "stop with Ctrl-C or SIGTERM",
                file=banner,
                flush=True,
            )
            self._loop(wake_read, (wake_read, wake_write))
        finally:
            signal.set_wakeup_fd(previous_wakeup)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            os.close(wake_read)
            os.close(wake_write)
            self._close_sockets()
        return self._exit_code

    def _loop(self, wake_read: int, wake: tuple[int, int]) -> None:
        while self._workers or (self._stop_deadline is None and self._restarts):
            ready, _, _ = select.select([wake_read], [], [], self._timeout())
            signals = _drain(wake_read) if ready else []
            for signum in signals:
                if signum in STOP_SIGNALS:
                    self._stop(signum)
            self._reap()
            now = time.monotonic()
            if self._stop_deadline is not None and now >= self._stop_deadline:
                self._kill_remaining()
            due = [number for when, number in self._restarts if when <= now]
            self._restarts = [(when, number) for when, number in self._restarts if when > now]
            for number in due:
                self._start(number, wake)

    def _timeout(self) -> float | None:
        moments = [when for when, _ in self._restarts]
        if self._stop_deadline is not None:
            moments.append(self._stop_deadline)
        return max(0.0, min(moments) - time.monotonic()) if moments else None

    def _start(self, number: int, wake: tuple[int, int]) -> None:
        # Signals stay blocked across the fork: the worker sets its own handlers before it sees any.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                _become_worker(parent, wake)
                self._worker(number)
            finally:
                os._exit(1)  # never back into the supervisor's code, whatever the worker did
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        self._workers[pid] = Worker(number, pid, time.monotonic())
        logger.debug("worker %d started (pid %d)", number, pid)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            worker = self._workers.pop(pid, None)
            if worker is None:
                continue
            _forget_metrics(pid)
            if self._stop_deadline is None:
                self._replace(worker, _ending(status))

    def _replace(self, worker: Worker, ending: str) -> None:
        lived = time.monotonic() - worker.started
        self._early_deaths = self._early_deaths + 1 if lived < EARLY_DEATH_SECONDS else 0
        if self._early_deaths >= EARLY_DEATHS_TOLERATED:
            logger.error(
                "worker %d (pid %d) %s; %d workers died within %g s of their start in a row: stopping",
                *(worker.number, worker.pid, ending, self._early_deaths, EARLY_DEATH_SECONDS),
            )
            self._exit_code = 1
            self._stop(signal.SIGTERM)
            return
        pause = min(RESTART_PAUSE_CAP, 0.5 * 2 ** (self._early_deaths - 1)) if self._early_deaths else 0.0
        logger.warning(
            "worker %d (pid %d) %s; starting another%s",
            *(worker.number, worker.pid, ending, f" in {pause:g} s" if pause else ""),
        )
        self._restarts.append((time.monotonic() + pause, worker.number))

    def _stop(self, signum: int) -> None:
        if self._stop_deadline is not None:
            if signum == signal.SIGINT:  # a second Ctrl-C: the workers stop at once, as one process would
                self._signal_all(signal.SIGINT)
            return
        logger.info("stopping %d workers", len(self._workers))
        self._stop_deadline = time.monotonic() + self._stop_seconds
        self._restarts.clear()
        # SIGTERM even for a Ctrl-C: the workers got that SIGINT from the terminal already, and a
        # second SIGINT would make uvicorn stop without waiting for calls in flight.
        self._signal_all(signal.SIGTERM)
        # The ports close once the last worker closes its copy too.
        self._close_sockets()

    def _close_sockets(self) -> None:
        for sock in self._sockets:
            sock.close()

    def _signal_all(self, signum: int) -> None:
        for pid in self._workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def _kill_remaining(self) -> None:
        for worker in list(self._workers.values()):
            seconds = self._stop_seconds
            logger.error("worker %d (pid %d) did not stop in %g s: killed", worker.number, worker.pid, seconds)
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(worker.pid, 0)
            _forget_metrics(worker.pid)
            del self._workers[worker.pid]
        self._exit_code = 1


def _noted(signum: int, frame: object) -> None:
    """The signal is read from the wake-up pipe; the handler only has to exist."""


def _drain(fd: int) -> list[int]:
    signals: list[int] = []
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(fd, 512):
            signals.extend(chunk)
    return signals


def _ending(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def _forget_metrics(pid: int) -> None:
    if not os.environ.get(MULTIPROCESS_ENV):
        return
    # Imported here, once PROMETHEUS_MULTIPROC_DIR is set: the library decides its storage at import.
    from naftiko_runtime.observability.metrics import worker_exited

    worker_exited(pid)


class _Stop(BaseException):
    """A stop signal that reached a worker before its server was listening for one."""


def _stop_now(signum: int, frame: object) -> None:
    raise _Stop


def _become_worker(parent: int, wake: tuple[int, int]) -> None:
    """Right after the fork: the supervisor's signal plumbing undone, the worker's own handlers set."""
    signal.set_wakeup_fd(-1)
    for fd in wake:
        os.close(fd)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for signum in STOP_SIGNALS:
        signal.signal(signum, _stop_now)  # serve() installs the graceful ones as it starts
    _die_with(parent)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def _die_with(parent: int) -> None:
    """A worker gets SIGTERM if the supervisor dies without stopping it (Linux), so none is orphaned."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:
        os._exit(0)


def _worker(serve: Callable[[], None], on_exit: Callable[[], None]) -> NoReturn:
    """Serve, then leave the process without unwinding into the supervisor's code (`os._exit`)."""
    code = 0
    try:
        serve()
    except _Stop:
        pass
    except ServeError as exc:
        print(f"naftiko: worker {os.getpid()}: {exc}", file=sys.stderr)
        code = 1
    except BaseException as exc:
        logger.debug("worker %d: internal error", os.getpid(), exc_info=True)
        print(f"naftiko: worker {os.getpid()}: internal error ({type(exc).__name__}): {exc}", file=sys.stderr)
        code = 1
    finally:
        with contextlib.suppress(BaseException):
            on_exit()
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
