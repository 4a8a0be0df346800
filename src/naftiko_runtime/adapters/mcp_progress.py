"""Progress of a slow tool call, for callers that asked for it with a progress token.

While the call runs longer than a second, `notifications/progress` goes out every second with
the elapsed seconds as progress (the total is unknown) and a message naming what is awaited.
Only used when the request carries `_meta.progressToken`: other calls pay nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

import anyio
from mcp.server.session import ServerSession

from naftiko_runtime.engine import Action

logger = logging.getLogger("naftiko.mcp")

INTERVAL_SECONDS = 1.0
T = TypeVar("T")


def progress_label(action: Action) -> str:
    """What a caller is told it waits for: the upstream operation, else the tool (orchestrations)."""
    if action.target is not None and action.orchestration is None:
        return f"upstream {action.target.ref}"
    return f"tool {action.name}"


async def with_progress(
    session: ServerSession, label: str, call: Awaitable[T], interval: float = INTERVAL_SECONDS
) -> T:
    """Await `call`, reporting progress every `interval` seconds until it ends (or is cancelled)."""
    failure: Exception | None = None
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(_report, session, label, interval)
        try:
            result = await call
        except Exception as exc:
            # Raised as it is, not wrapped in the task group's ExceptionGroup.
            failure = exc
        finally:
            tasks.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return result


async def _report(session: ServerSession, label: str, interval: float) -> None:
    started = anyio.current_time()
    ticks = 0
    while True:
        ticks += 1
        await anyio.sleep_until(started + ticks * interval)
        elapsed = anyio.current_time() - started
        try:
            await session.report_progress(round(elapsed, 1), message=f"waiting for {label}: {elapsed:.0f} s")
        except Exception:
            # The caller's stream is gone: the call itself goes on and answers as it can.
            logger.debug("progress of %s no longer deliverable", label, exc_info=True)
            return
