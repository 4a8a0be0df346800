"""The supervisor of `--workers N` with stand-in workers (forked from this test process, never returning to it).

The real server under `--workers 2` is tested end to end in tests/e2e/test_workers.py.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest

from naftiko_runtime import workers
from naftiko_runtime.workers import Supervisor, shared_metrics

WAIT_SECONDS = 15.0


def dies_at_once(number: int) -> NoReturn:
    os._exit(3)


def sleeps(number: int) -> NoReturn:
    workers._worker(lambda: time.sleep(60), lambda: None)


def signal_self_when(
    condition: str,
    output: io.StringIO,
    signum: int = signal.SIGTERM,
    ready: Callable[[], bool] = lambda: True,
) -> threading.Thread:
    def wait_then_signal() -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not (condition in output.getvalue() and ready()) and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(os.getpid(), signum)

    thread = threading.Thread(target=wait_then_signal, daemon=True)
    thread.start()
    return thread


def gone(pids: list[int]) -> bool:
    return not any(Path(f"/proc/{pid}").exists() for pid in pids)


@pytest.mark.timeout(30)
def test_workers_that_keep_dying_at_start_make_the_supervisor_give_up_with_exit_1(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(workers, "RESTART_PAUSE_CAP", 0.05)
    supervisor = Supervisor(2, dies_at_once, [], stop_seconds=5)
    with caplog.at_level(logging.WARNING, logger="naftiko.workers"):
        assert supervisor.run(io.StringIO()) == 1
    assert "exited with code 3; starting another" in caplog.text
    assert f"{workers.EARLY_DEATHS_TOLERATED} workers died within 5 s of their start in a row: stopping" in caplog.text
    assert supervisor.pids == []


@pytest.mark.timeout(30)
def test_sigterm_stops_the_workers_gracefully_and_the_supervisor_returns_0() -> None:
    banner = io.StringIO()
    supervisor = Supervisor(2, sleeps, [], stop_seconds=10)
    signal_self_when("stop with Ctrl-C or SIGTERM", banner)
    started = time.monotonic()
    assert supervisor.run(banner) == 0
    assert time.monotonic() - started < 10  # the workers stopped on the signal, not on the deadline
    pids = [int(pid) for pid in banner.getvalue().split("(pids ")[1].split(")")[0].split(", ")]
    assert len(pids) == 2 and gone(pids)


@pytest.mark.timeout(30)
def test_a_worker_that_ignores_sigterm_is_killed_after_the_stop_deadline_with_exit_1(tmp_path: Path) -> None:
    ignoring = tmp_path / "ignoring"

    def stubborn(number: int) -> NoReturn:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        ignoring.touch()
        time.sleep(60)
        os._exit(0)

    banner = io.StringIO()
    supervisor = Supervisor(1, stubborn, [], stop_seconds=0.5)
    # The stop begins once the worker ignores SIGTERM (a busy machine may be slow to get it there).
    signal_self_when("stop with Ctrl-C or SIGTERM", banner, ready=ignoring.exists)
    assert supervisor.run(banner) == 1
    assert supervisor.pids == []


def test_shared_metrics_makes_a_directory_for_several_workers_and_removes_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    with shared_metrics(2):
        directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
        assert directory.parent == tmp_path and directory.is_dir()
    assert not directory.exists()
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ


def test_shared_metrics_keeps_a_directory_the_user_named_and_does_nothing_for_one_worker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    with shared_metrics(2):
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)
    assert tmp_path.is_dir()
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    with shared_metrics(1):
        assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
