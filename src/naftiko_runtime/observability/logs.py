"""One log line per call (`naftiko.calls`, at info), as text or as JSON lines (`--log-format json`).

A line names the call (request id, adapter type and namespace, route or tool), what it asked
upstream (the consumed operation, its status, the retries) and how it ended (duration, status,
outcome; the reason of a refusal). Nothing else: no header, no argument, no upstream URL, no error
detail, so no secret can reach a log through it.

Call lines are on the request path of every call, so they skip the logging module's per-record
machinery (about 9 µs a line): each action's line is a template made at load, filled with a few
values, and lines are written to stderr in batches, at most `FLUSH_SECONDS` after the call (and at
exit). They look like the other log lines: `--log-level` decides whether they are written at all,
`--log-format` their shape.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
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


class CallLines:
    """Where call lines go: a buffer written out `FLUSH_SECONDS` after its first line, or when full."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream  # None: sys.stderr at each write, where the log handlers write
        self._lines: list[str] = []
        self._timer: asyncio.TimerHandle | None = None

    def write(self, line: str) -> None:
        lines = self._lines
        lines.append(line)
        if len(lines) >= MAX_BUFFERED_LINES:
            self.flush()
        elif len(lines) == 1:
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
        if not self._lines:
            return
        text = "".join(self._lines)
        self._lines.clear()
        stream = self._stream or sys.stderr
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):  # stderr closed: nothing to tell it
            pass


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

    def now(self) -> str:
        millisecond = int(time.time() * 1000)
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


class CallLog:
    """Makes each action's call logger (`Runtime.observe`); all of them write to one `CallLines`."""

    def __init__(self, log_format: LogFormat = "text", stream: TextIO | None = None) -> None:
        self._json = log_format == "json"
        self.lines = CallLines(stream)
        self._clock = _Clock(iso=self._json)

    def bind(self, action: Action) -> JsonCallLine | TextCallLine:
        kind = JsonCallLine if self._json else TextCallLine
        return kind(action, self.lines, self._clock)


# A call refused on its way (backpressure) says why, as a refused one does.
_TEXT_REASONS = {None: "", **{reason: f" reason={reason}" for reason in get_args(Refusal)}}
_JSON_REASONS = {None: "", **{reason: f', "reason": "{reason}"' for reason in get_args(Refusal)}}


def _quoted(value: str) -> str:
    return value if value and all(c.isalnum() or c in "._:/-{}+" for c in value) else json.dumps(value)


class TextCallLine:
    """`... INFO naftiko.calls: call request_id=... adapter=rest namespace=... route="GET /v1/x" ... outcome=ok`."""

    __slots__ = ("_clock", "_head", "_lines", "_operation", "_quoted_operation")

    def __init__(self, action: Action, lines: CallLines, clock: _Clock) -> None:
        adapter, kind = _KINDS[action.kind]
        self._head = f"adapter={adapter} namespace={_quoted(action.adapter)} {kind}={_quoted(action.name)}"
        self._lines = lines
        self._clock = clock
        self._operation = action.target.ref if action.target is not None else None
        self._quoted_operation = _quoted(self._operation) if self._operation is not None else "-"

    def call_started(self, record: CallRecord) -> None:
        return None

    def call_finished(self, record: CallRecord) -> None:
        operation = record.upstream_operation
        if operation != self._operation:
            shown = _quoted(operation) if operation is not None else "-"
        else:
            shown = self._quoted_operation
        self._lines.write(
            f"{self._clock.now()} INFO {CALLS}: call request_id={record.request_id} {self._head} upstream={shown} "
            f"upstream_status={record.upstream_status or '-'} retries={record.retries} "
            f"duration_ms={record.seconds * 1000:.2f} status={record.status} outcome={record.outcome}"
            f"{_TEXT_REASONS[record.refusal]}\n"
        )

    def call_refused(self, record: CallRecord) -> None:
        self._lines.write(
            f"{self._clock.now()} INFO {CALLS}: call request_id={record.request_id} {self._head} "
            f"status={record.status} outcome=refused reason={record.refusal}\n"
        )


class JsonCallLine:
    """The same fields as members of a JSON object, beside `time`, `level`, `logger` and `message`.

    Request ids are made of characters JSON needs no escape for (`context.accepted_request_id`);
    names from the spec are escaped once, at load.
    """

    __slots__ = ("_clock", "_head", "_lines", "_operation", "_operation_json")

    def __init__(self, action: Action, lines: CallLines, clock: _Clock) -> None:
        adapter, kind = _KINDS[action.kind]
        self._head = (
            f'"adapter": "{adapter}", "namespace": {json.dumps(action.adapter)}, "{kind}": {json.dumps(action.name)}'
        )
        self._lines = lines
        self._clock = clock
        self._operation = action.target.ref if action.target is not None else None
        self._operation_json = json.dumps(self._operation)

    def _start(self, record: CallRecord) -> str:
        return (
            f'{{"time": "{self._clock.now()}", "level": "info", "logger": "{CALLS}", "message": "call", '
            f'"request_id": "{record.request_id}", {self._head}'
        )

    def call_finished(self, record: CallRecord) -> None:
        operation = record.upstream_operation
        shown = self._operation_json if operation == self._operation else json.dumps(operation)
        status = record.upstream_status
        self._lines.write(
            f'{self._start(record)}, "upstream_operation": {shown}, '
            f'"upstream_status": {"null" if status is None else status}, "retries": {record.retries}, '
            f'"duration_ms": {round(record.seconds * 1000, 3)}, "status": {record.status}, '
            f'"outcome": "{record.outcome}"{_JSON_REASONS[record.refusal]}}}\n'
        )

    def call_started(self, record: CallRecord) -> None:
        return None

    def call_refused(self, record: CallRecord) -> None:
        self._lines.write(
            f'{self._start(record)}, "status": {record.status}, "outcome": "refused", "reason": "{record.refusal}"}}\n'
        )
