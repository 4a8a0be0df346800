"""One path for every call, whichever adapter it came in by: arguments -> result."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Protocol, TypeVar

from naftiko_runtime.adapters.inbound_auth import InboundAuth
from naftiko_runtime.arguments import Signature
from naftiko_runtime.consumer.client import UpstreamClient, UpstreamError, UpstreamResponse
from naftiko_runtime.consumer.operation import UpstreamOperation
from naftiko_runtime.diagnostics import Location
from naftiko_runtime.errors import CallError, UpstreamAnswer
from naftiko_runtime.exchange import upstream_failure
from naftiko_runtime.json_depth import bounded_loads
from naftiko_runtime.mapping import OutputMapping
from naftiko_runtime.observability.context import INBOUND, Inbound, new_request_id
from naftiko_runtime.orchestration import Orchestration
from naftiko_runtime.output_schema import OutputSchema

ActionKind = Literal["route", "tool", "resource"]
# MCP text results above this size are cut (`--max-result-bytes`): about 25,000 tokens, the
# default cap of common clients (Claude Code's MAX_MCP_OUTPUT_TOKENS), at ~4 bytes a token.
DEFAULT_MAX_RESULT_BYTES = 100_000


@dataclass(frozen=True, slots=True)
class Hints:
    read_only: bool = False
    destructive: bool = False
    idempotent: bool = False
    open_world: bool = True


_UNDECODED: Any = object()
_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Media:
    """A 2xx answer that is not JSON (an image, a PDF, plain text), passed on as it came."""

    body: bytes
    content_type: str

    @property
    def media_type(self) -> str:
        return self.content_type.split(";", 1)[0].strip().lower()

    @property
    def is_text(self) -> bool:
        return is_textual(self.media_type)

    def text(self) -> str:
        charset = "utf-8"
        for parameter in self.content_type.split(";")[1:]:
            name, _, value = parameter.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            return self.body.decode(charset, "replace")
        except LookupError:
            return self.body.decode("utf-8", "replace")


class Success:
    """A 2xx result. `raw_json` holds the upstream's own JSON bytes when the mapping leaves
    them unchanged, so REST can pass them on without decoding; `value` decodes on first use.
    `media` holds a non-JSON answer (its `value` is its text, or None for binary). `headers` are
    the upstream's response headers, as they came (REST passes an allowlist of them on)."""

    __slots__ = ("_decode", "_value", "headers", "media", "raw_json", "status")

    def __init__(
        self,
        status: int,
        value: Any = None,
        raw_json: bytes | None = None,
        decode: Callable[[], Any] | None = None,
        media: Media | None = None,
        headers: Mapping[str, str] = _NO_HEADERS,
    ) -> None:
        self.status = status
        self.raw_json = raw_json
        self.media = media
        self.headers = headers
        self._value = _UNDECODED if decode is not None else value
        self._decode = decode

    @property
    def value(self) -> Any:
        if self._value is _UNDECODED:
            assert self._decode is not None
            self._value = self._decode()
        return self._value

    @property
    def is_empty(self) -> bool:
        return self.raw_json is None and self._value is None and self.media is None


# Why a call was refused before or instead of reaching the upstream (`naftiko_rejected_calls_total`).
Refusal = Literal["auth", "validation", "too_large", "backpressure"]
# A caller that went away before its answer (nginx's convention; no HTTP status says it).
CANCELLED_STATUS = 499


class CallRecord:
    """One call, as observers see it: made when it starts, filled in as it goes, final when it ends.

    `upstream_operation` and `upstream_status` are those of the last upstream call (an orchestration
    makes several); `retries` counts the attempts beyond the first of every upstream call it made.
    `trace` belongs to the tracing observer (its span).
    """

    __slots__ = (
        "action",
        "error",
        "inbound",
        "refusal",
        "request_id",
        "retries",
        "seconds",
        "started",
        "status",
        "trace",
        "upstream_operation",
        "upstream_status",
    )

    def __init__(self, action: Action, inbound: Inbound | None) -> None:
        self.action = action
        self.inbound = inbound
        self.request_id = inbound.request_id if inbound is not None else new_request_id()
        self.started = time.perf_counter()
        self.status = 0
        self.seconds = 0.0
        self.error: CallError | None = None
        self.refusal: Refusal | None = None
        self.upstream_operation = action.target.ref if action.target is not None else None
        self.upstream_status: int | None = None
        self.retries = 0
        self.trace: Any = None

    @property
    def outcome(self) -> str:
        """ok, refused, upstream_error (the upstream's own non-2xx answer), error (ours), cancelled."""
        if self.refusal is not None:
            return "refused"
        if self.status == CANCELLED_STATUS:
            return "cancelled"
        if self.status < 400:
            return "ok"
        return "error" if self.error is not None or self.upstream_status != self.status else "upstream_error"

    def finish(self, status: int, error: CallError | None = None) -> None:
        self.seconds = time.perf_counter() - self.started
        self.status = status
        self.error = error


class CallObserver(Protocol):
    """Told of each call of one action; bound to it once, at load (`Runtime.observe`), so whatever it
    needs per action (metric label sets, log line parts) is made then, not per call."""

    def call_started(self, record: CallRecord) -> None: ...

    def call_finished(self, record: CallRecord) -> None: ...

    def call_refused(self, record: CallRecord) -> None:
        """A call its adapter refused before invoking it (`Action.refused`); no `call_started` came first."""


class _HasStatus(Protocol):
    @property
    def status(self) -> int: ...


_Answered = TypeVar("_Answered", bound=_HasStatus)

# The call under way in this task, for the upstream clients' observers (operation, status, retries).
CURRENT_CALL: ContextVar[CallRecord | None] = ContextVar("naftiko_call", default=None)


@dataclass(slots=True)
class Action:
    """A route or a tool, compiled: its signature, its upstream operation and its output mapping."""

    kind: ActionKind
    adapter: str
    name: str
    signature: Signature
    output: OutputMapping
    location: Location
    target: UpstreamOperation | None = None
    client: UpstreamClient | None = None
    unresolved: CallError | None = None
    title: str | None = None
    description: str | None = None
    hints: Hints = field(default_factory=Hints)
    # REST only.
    method: str = "GET"
    path: str = ""
    operation_name: str | None = None
    # REST: what callers of this route must present (its own file's expose authentication).
    inbound_auth: InboundAuth | None = None
    orchestration: Orchestration | None = None
    # Logs, metrics and traces hook in here; with none, a call pays one attribute check.
    observers: tuple[CallObserver, ...] = ()
    # MCP: the tool's outputSchema (object results only) and the size above which results are cut.
    output_schema: OutputSchema | None = None
    result_limit: int = DEFAULT_MAX_RESULT_BYTES
    # The companion OpenAPI operation this action's schemas come from (`naftiko list`).
    typed_from: str | None = None
    # REST: the JSON Schema of a 2xx answer (typed outputParameters, or the companion's answer when it
    # passes unchanged), for the port's OpenAPI document.
    answer_schema: dict[str, Any] | None = None

    def invoke(self, arguments: dict[str, Any]) -> Awaitable[Success | UpstreamAnswer]:
        """`arguments` are already validated by `signature.validate`. An upstream exchange (most
        calls) tells the observers of itself, in its own coroutine: a wrapping one would be passed
        through again each time the exchange resumes."""
        target = self.target
        if target is not None and self.unresolved is None and self.orchestration is None:
            return self._exchanged(target, arguments)
        work = self._composed(arguments)
        return self.observe(work) if self.observers else work

    async def observe(self, work: Awaitable[_Answered]) -> _Answered:
        """`work` (a forward's relay) awaited with the observers told of it, as a call of this action."""
        if not self.observers:
            return await work
        watched = self._call_started()
        try:
            outcome = await work
        except BaseException as error:
            self._call_failed(watched, error)
            raise
        self._call_finished(watched, outcome)
        return outcome

    def _call_started(self) -> tuple[CallRecord, Token[CallRecord | None]]:
        record = CallRecord(self, INBOUND.get())
        token = CURRENT_CALL.set(record)
        for observer in self.observers:
            observer.call_started(record)
        return record, token

    def _call_failed(self, watched: tuple[CallRecord, Token[CallRecord | None]], error: BaseException) -> None:
        if isinstance(error, CallError):
            self._call_ended(watched, error.status, error)
        else:
            self._call_ended(watched, CANCELLED_STATUS if isinstance(error, asyncio.CancelledError) else 500)

    def _call_finished(self, watched: tuple[CallRecord, Token[CallRecord | None]], outcome: _HasStatus) -> None:
        record = watched[0]
        if record.upstream_status is None and (not isinstance(outcome, Success) or self.target is not None):
            record.upstream_status = outcome.status
        self._call_ended(watched, outcome.status)

    def _call_ended(
        self, watched: tuple[CallRecord, Token[CallRecord | None]], status: int, error: CallError | None = None
    ) -> None:
        record, token = watched
        record.finish(status, error)
        CURRENT_CALL.reset(token)
        for observer in reversed(self.observers):
            observer.call_finished(record)

    def refused(self, reason: Refusal, status: int) -> None:
        """Tell the observers the adapter refused a call of this action (authentication, arguments, size)."""
        if not self.observers:
            return
        record = CallRecord(self, INBOUND.get())
        record.refusal = reason
        record.upstream_operation = None
        record.finish(status)
        for observer in self.observers:
            observer.call_refused(record)

    async def _composed(self, arguments: dict[str, Any]) -> Success | UpstreamAnswer:
        """A call that is not one upstream exchange: an orchestration, a mock's values, or the error
        of an action whose operation is missing."""
        if self.unresolved is not None:
            raise self.unresolved
        if self.orchestration is not None:
            result = await self.orchestration.run(arguments)
            return result if isinstance(result, UpstreamAnswer) else Success(200, result)
        # A mock: its outputs are values rendered with the arguments.
        named = {
            argument.name: arguments[argument.key] for argument in self.signature.arguments if argument.key in arguments
        }
        return Success(200, self.output.apply(named))

    async def _exchanged(self, target: UpstreamOperation, arguments: dict[str, Any]) -> Success | UpstreamAnswer:
        watched = self._call_started() if self.observers else None
        try:
            assert self.client is not None
            values = self.signature.upstream_values(arguments, target.variables_context)
            request = target.build_request(values)
            try:
                response = await self.client.send(request)
            except UpstreamError as error:
                raise upstream_failure(target.ref, error) from None
            outcome = self._answer(target, response)
        except BaseException as error:
            if watched is not None:
                self._call_failed(watched, error)
            raise
        if watched is not None:
            self._call_finished(watched, outcome)
        return outcome

    def _answer(self, target: UpstreamOperation, response: UpstreamResponse) -> Success | UpstreamAnswer:
        """What the upstream's answer makes of the call: its data, mapped, or its own error."""
        headers = response.headers
        if not 200 <= response.status < 300:
            return UpstreamAnswer(target.ref, response.status, response.content_type, response.body, headers)
        body, content_type = response.body, response.content_type
        if self.output.is_identity and target.output_format == "json" and "json" in content_type and body.strip():
            return Success(
                response.status, raw_json=body, decode=lambda: target.decode(body, content_type), headers=headers
            )
        if self.output.is_identity and target.decoder is None and body and passes_as_media(content_type, body):
            media = Media(body, content_type)
            return Success(response.status, media.text() if media.is_text else None, media=media, headers=headers)
        value = target.decode(body, content_type)
        if not self.output.is_identity:
            return Success(response.status, self.output.apply(value), headers=headers)
        passthrough = body if value is not None and target.output_format == "json" else None
        return Success(response.status, value, passthrough, headers=headers)


_TEXT_TYPES = frozenset(
    {"application/xml", "application/yaml", "application/x-yaml", "application/javascript", "application/csv"}
)


def is_textual(media_type: str) -> bool:
    return media_type.startswith("text/") or media_type in _TEXT_TYPES or media_type.endswith(("+xml", "+yaml"))


def passes_as_media(content_type: str, body: bytes) -> bool:
    """Whether a 2xx answer to an operation that promised JSON is passed on as it is.

    Binary answers (images, PDFs, archives) are; text is unless it parses as JSON (some upstreams
    label JSON text/plain). An HTML page where JSON was promised is a sign-in or maintenance page,
    not an answer: it stays a 502 (declare `outputRawFormat: html` to read HTML).
    """
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not media_type or "json" in media_type or media_type == "text/html":
        return False
    if not is_textual(media_type):
        return True
    try:
        bounded_loads(body)
    except ValueError:
        return True
    return False
