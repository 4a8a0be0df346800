"""adapters/mcp_progress.py: progress reported while a call runs, and only while it runs."""

from __future__ import annotations

from typing import Any, cast

import anyio
import pytest
from mcp.server.session import ServerSession

from naftiko_runtime.adapters.mcp_progress import with_progress

pytestmark = pytest.mark.anyio

INTERVAL = 0.01
WAIT = 5.0


class RecordingSession:
    """Stands in for the SDK's session: records progress; `reported` is set after `count` reports."""

    def __init__(self, count: int = 3, fail: bool = False) -> None:
        self.updates: list[tuple[float, float | None, str | None]] = []
        self.reported = anyio.Event()
        self._count = count
        self._fail = fail

    async def report_progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        self.updates.append((progress, total, message))
        if len(self.updates) >= self._count:
            self.reported.set()
        if self._fail:
            raise anyio.ClosedResourceError


def _session(recording: RecordingSession) -> ServerSession:
    return cast(ServerSession, recording)


async def test_progress_is_reported_while_the_call_runs_and_stops_when_it_ends() -> None:
    recording = RecordingSession(count=3)

    async def call() -> str:
        await recording.reported.wait()
        return "done"

    with anyio.fail_after(WAIT):
        result = await with_progress(_session(recording), "upstream ns.op", call(), interval=INTERVAL)
    reported = len(recording.updates)
    await anyio.wait_all_tasks_blocked()

    assert result == "done"
    assert len(recording.updates) == reported >= 3
    progress = [update[0] for update in recording.updates]
    assert progress == sorted(progress)
    assert all(total is None for _, total, _ in recording.updates)
    assert all(message and message.startswith("waiting for upstream ns.op: ") for *_, message in recording.updates)


async def test_a_fast_call_reports_nothing() -> None:
    recording = RecordingSession()

    async def call() -> int:
        return 42

    assert await with_progress(_session(recording), "tool t", call(), interval=WAIT) == 42
    assert recording.updates == []


async def test_a_caller_that_can_no_longer_be_told_does_not_fail_the_call() -> None:
    recording = RecordingSession(count=1, fail=True)
    finished = anyio.Event()

    async def call() -> str:
        await recording.reported.wait()
        await finished.wait()
        return "done"

    with anyio.fail_after(WAIT):
        async with anyio.create_task_group() as tasks:
            outcome: list[Any] = []

            async def run() -> None:
                outcome.append(await with_progress(_session(recording), "tool t", call(), interval=INTERVAL))

            tasks.start_soon(run)
            await recording.reported.wait()
            await anyio.wait_all_tasks_blocked()
            finished.set()

    assert outcome == ["done"]
    assert len(recording.updates) == 1


async def test_a_failing_call_raises_its_own_error_not_a_group() -> None:
    async def call() -> None:
        raise LookupError("gone")

    with pytest.raises(LookupError, match="gone"):
        await with_progress(_session(RecordingSession()), "tool t", call(), interval=WAIT)


async def test_cancelling_the_caller_cancels_the_call() -> None:
    started, cancelled = anyio.Event(), anyio.Event()

    async def call() -> None:
        started.set()
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled.set()
            raise

    with anyio.fail_after(WAIT):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(with_progress, _session(RecordingSession()), "tool t", call(), INTERVAL)
            await started.wait()
            tasks.cancel_scope.cancel()
        await cancelled.wait()
