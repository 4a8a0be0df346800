"""One log line per call (`naftiko.calls`, at info), as text or as JSON lines (`--log-format json`).

A line names the call (request id, adapter type and namespace, route or tool), what it asked
upstream (the consumed operation, its status, the retries) and how it ended (duration, status,
outcome; the reason of a refusal). Nothing else: no header, no argument, no upstream URL, no error
detail, so no secret can reach a log through it.

Call lines are on the request path of every call, so they skip the logging module's per-record
machinery (about 9 µs a line): a call only notes its record and the time, and lines are made from
each action's template (made at load) and written to stderr in batches, at most `FLUSH_SECONDS`
after the call (and at exit). Made in one loop, a batch's lines cost less than the same work
spread over the calls, each time in code the call has not run recently. They look like the other
log lines: `--log-level` decides whether they are written at all, `--log-format` their shape.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, TextIO, get_args

from naftiko_runtime.engine import Refusal

if TYPE_CHECKING:
    from naftiko_runtime.engine import Action, CallRecord

LogFormat = Literal["text", "json"]
CALLS = "naftiko.calls"
FLUSH_SECONDS = 0.05
MAX_BUFFERED_LINES = 256
_KINDS = {"route": ("rest", "route"), "tool": ("mcp", "tool"), "resource": ("mcp", "resource")}


def use_json_lines() -> None:
    """Every handler of the root logger writes JSON lines from now on."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(JsonFormatter())


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: time, level, logger, message (and the exception, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class _Clock:
    """Timestamps as the log lines spell them: the part down to the second made once a second, the
    whole stamp once a millisecond (a busy server logs several calls in each)."""

    __slots__ = ("_iso", "_millisecond", "_prefix", "_second", "_stamp")

    def __init__(self, iso: bool) -> None:
        self._iso = iso
        self._second = -1
        self._millisecond = -1
        self._prefix = ""
        self._stamp = ""

    def at(self, when: float) -> str:
        """The stamp of `when` (seconds since the epoch)."""
        millisecond = int(when * 1000)
        if millisecond == self._millisecond:
            return self._stamp
        self._millisecond = millisecond
        second, within = divmod(millisecond, 1000)
        if second != self._second:
            self._second = second
            if self._iso:
                self._prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            else:
                self._prefix = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        # logging's default asctime, or ISO 8601 in UTC as JsonFormatter writes it.
        self._stamp = f"{self._prefix}.{within:03d}+00:00" if self._iso else f"{self._prefix},{within:03d}"
        return self._stamp


# A line from its time stamp and its call's record.
Render = Callable[[str, "CallRecord"], str]


class CallLines:
    """Where call lines go: the calls noted, made into lines and written `FLUSH_SECONDS` after the
    first, or when `MAX_BUFFERED_LINES` wait."""

    def __init__(self, stream: TextIO | None = None, clock: _Clock | None = None) -> None:
        self._stream = stream  # None: sys.stderr at each write, where the log handlers write
        self._clock = clock or _Clock(iso=False)
        self._pending: list[tuple[Render, float, CallRecord]] = []
        self._timer: asyncio.TimerHandle | None = None

    def write(self, render: Render, record: CallRecord) -> None:
        """Note a call's line, to be made by `render` from the time now and `record` (final by now)."""
        pending = self._pending
        pending.append((render, time.time(), record))
        if len(pending) >= MAX_BUFFERED_LINES:
            self.flush()
        elif len(pending) == 1:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush()
                return
            self._timer = loop.call_later(FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending:
            return
        stamp = self._clock.at
        text = "".join([render(stamp(when), record) for render, when, record in self._pending])
        self._pending.clear()
        stream = self._stream or sys.stderr
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):  # stderr closed: nothing to tell it
            pass


class CallLog:
    """Makes each action's call logger (`Runtime.observe`); all of them write to one `CallLines`."""

    def __init__(self, log_format: LogFormat = "text", stream: TextIO | None = None) -> None:
        self._json = log_format == "json"
        self.lines = CallLines(stream, _Clock(iso=self._json))

    def bind(self, action: Action) -> JsonCallLine | TextCallLine:
        kind = JsonCallLine if self._json else TextCallLine
        return kind(action, self.lines)


# A call refused on its way (backpressure) says why, as a refused one does.
_TEXT_REASONS = {None: "", **{reason: f" reason={reason}" for reason in get_args(Refusal)}}
_JSON_REASONS = {None: "", **{reason: f', "reason": "{reason}"' for reason in get_args(Refusal)}}


def _quoted(value: str) -> str:
    return value if value and all(c.isalnum() or c in "._:/-{}+" for c in value) else json.dumps(value)


class _CallLine:
    """What both shapes share: the observer's part (each call's record noted for its line) and the
    action's own operation, which most lines name."""

    __slots__ = ("_finished", "_head", "_lines", "_operation", "_refused")

    def __init__(self, action: Action, lines: CallLines, head: str, finished: Render, refused: Render) -> None:
        """`finished` and `refused`: the shape's lines of a call that ran and of one refused."""
        self._head = head
        self._lines = lines
        self._operation = action.target.ref if action.target is not None else None
        self._finished, self._refused = finished, refused

    def call_started(self, record: CallRecord) -> None:
        return None

    def call_finished(self, record: CallRecord) -> None:
        self._lines.write(self._finished, record)

    def call_refused(self, record: CallRecord) -> None:
        self._lines.write(self._refused, record)


class TextCallLine(_CallLine):
    """`... INFO naftiko.calls: call request_id=... adapter=rest namespace=... route="GET /v1/x" ... outcome=ok`."""

    __slots__ = ("_quoted_operation",)

    def __init__(self, action: Action, lines: CallLines) -> None:
        adapter, kind = _KINDS[action.kind]
        head = f"adapter={adapter} namespace={_quoted(action.adapter)} {kind}={_quoted(action.name)}"
        super().__init__(action, lines, head, self._finished_line, self._refused_line)
        self._quoted_operation = _quoted(self._operation) if self._operation is not None else "-"

    def _finished_line(self, stamp: str, record: CallRecord) -> str:
        operation = record.upstream_operation
        if operation != self._operation:
            shown = _quoted(operation) if operation is not None else "-"
        else:
            shown = self._quoted_operation
        return (
            f"{stamp} INFO {CALLS}: call request_id={record.request_id} {self._head} upstream={shown} "
            f"upstream_status={record.upstream_status or '-'} retries={record.retries} "
            f"duration_ms={record.seconds * 1000:.2f} status={record.status} outcome={record.outcome}"
            f"{_TEXT_REASONS[record.refusal]}\n"
        )

    def _refused_line(self, stamp: str, record: CallRecord) -> str:
        return (
            f"{stamp} INFO {CALLS}: call request_id={record.request_id} {self._head} "
            f"status={record.status} outcome=refused reason={record.refusal}\n"
        )


class JsonCallLine(_CallLine):
    """The same fields as members of a JSON object, beside `time`, `level`, `logger` and `message`.

    Request ids are made of characters JSON needs no escape for (`context.accepted_request_id`);
    names from the spec are escaped once, at load.
    """

    __slots__ = ("_operation_json",)

    def __init__(self, action: Action, lines: CallLines) -> None:
        adapter, kind = _KINDS[action.kind]
        head = f'"adapter": "{adapter}", "namespace": {json.dumps(action.adapter)}, "{kind}": {json.dumps(action.name)}'
        super().__init__(action, lines, head, self._finished_line, self._refused_line)
        self._operation_json = json.dumps(self._operation)

    def _start(self, stamp: str, record: CallRecord) -> str:
        return (
            f'{{"time": "{stamp}", "level": "info", "logger": "{CALLS}", "message": "call", '
            f'"request_id": "{record.request_id}", {self._head}'
        )

    def _finished_line(self, stamp: str, record: CallRecord) -> str:
        operation = record.upstream_operation
        shown = self._operation_json if operation == self._operation else json.dumps(operation)
        status = record.upstream_status
        return (
            f'{self._start(stamp, record)}, "upstream_operation": {shown}, '
            f'"upstream_status": {"null" if status is None else status}, "retries": {record.retries}, '
            f'"duration_ms": {round(record.seconds * 1000, 3)}, "status": {record.status}, '
            f'"outcome": "{record.outcome}"{_JSON_REASONS[record.refusal]}}}\n'
        )

    def _refused_line(self, stamp: str, record: CallRecord) -> str:
        return (
            f'{self._start(stamp, record)}, "status": {record.status}, "outcome": "refused", '
            f'"reason": "{record.refusal}"}}\n'
        )
