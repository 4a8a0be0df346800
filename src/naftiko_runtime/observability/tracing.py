"""OpenTelemetry traces: a SERVER span per route or tool call, a CLIENT span per upstream attempt.

The inbound trace context (W3C `traceparent`, or B3 when the control adapter asks for it) is the
parent of the SERVER span; each attempt's context is injected into the upstream request, so the
upstream's spans join the same trace. Needs the `otel` extra (the SDK; the OTLP exporter for
`--otel-exporter otlp`); none of it is imported while tracing is off.

With W3C propagation the sampling decision is taken here, before the SDK is asked for anything: it
follows the caller's sampled flag, else keeps the share `sampling` of new traces by trace id (the
rule of the SDK's TraceIdRatioBased). A call not sampled costs no span object: its upstream
requests carry its trace id in a `traceparent` marked not sampled (and the caller's `tracestate`),
so the services behind take the same decision.
"""

from __future__ import annotations

import collections
import random
import re
import sys
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from opentelemetry.context import Context
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, TraceIdRatioBased
from opentelemetry.trace import NonRecordingSpan, Span, SpanKind, StatusCode, set_span_in_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from naftiko_runtime.consumer.client import UpstreamRequest
from naftiko_runtime.engine import CURRENT_CALL
from naftiko_runtime.observability.context import INBOUND
from naftiko_runtime.observability.metrics import adapter_type

if TYPE_CHECKING:
    from naftiko_runtime.engine import Action, CallRecord

Exporter = Literal["otlp", "console", "none"]
Propagation = Literal["w3c", "b3"]
OTLP_TRACES_PATH = "/v1/traces"
_ROOT = Context()
# W3C Trace Context: version, trace id, parent id, flags (a later version may add fields).
_TRACEPARENT = re.compile(r"\s*([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?\s*")
_LOW_64 = (1 << 64) - 1
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


class Unsampled(tuple[tuple[str, str], ...]):
    """A call whose trace is not recorded, as the trace headers its upstream requests carry (made once).

    Its trace id, marked not sampled, under a parent id of its own (no span records it, so one
    serves all its requests), and the caller's `tracestate`.
    """

    __slots__ = ()


def _unsampled(trace_id: str, tracestate: str | None) -> Unsampled:
    traceparent = ("traceparent", f"00-{trace_id}-{random.getrandbits(64) or 1:016x}-00")
    return Unsampled((traceparent,) if tracestate is None else (traceparent, ("tracestate", tracestate)))


def _inbound_sampled(traceparent: str) -> tuple[str, bool] | None:
    """A valid `traceparent`'s trace id and sampled flag, else None (then it is ignored, as W3C says)."""
    match = _TRACEPARENT.fullmatch(traceparent)
    if match is None:
        return None
    version, trace_id, parent_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest) or trace_id == _ZERO_TRACE or parent_id == _ZERO_SPAN:
        return None
    return trace_id, bool(int(flags, 16) & 1)


class TracingUnavailable(Exception):
    """A part of tracing asked for is not installed; the message says which package brings it."""


def exporter_for(kind: Exporter, endpoint: str | None = None) -> SpanExporter | None:
    """The span exporter `--otel-exporter` names. OTLP goes to `endpoint` when given (a base URL, as
    OTEL_EXPORTER_OTLP_ENDPOINT), else where the standard OTEL_EXPORTER_OTLP_* variables say."""
    if kind == "console":
        # stderr, with the logs: stdout may be an MCP stdio session's channel.
        return ConsoleSpanExporter(out=sys.stderr)
    if kind != "otlp":
        return None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        raise TracingUnavailable(
            "--otel-exporter otlp needs opentelemetry-exporter-otlp-proto-http: pip install 'naftiko-runtime[otel]'"
        ) from None
    if endpoint is None:
        return OTLPSpanExporter()
    base = endpoint.rstrip("/")
    return OTLPSpanExporter(endpoint=base if base.endswith(OTLP_TRACES_PATH) else base + OTLP_TRACES_PATH)


def propagator_for(propagation: Propagation) -> TextMapPropagator:
    if propagation == "w3c":
        return TraceContextTextMapPropagator()
    try:
        from opentelemetry.propagators.b3 import B3MultiFormat
    except ImportError:
        raise TracingUnavailable(
            "traces.propagation: b3 needs opentelemetry-propagator-b3 (pip install opentelemetry-propagator-b3)"
        ) from None
    b3: TextMapPropagator = B3MultiFormat()
    return b3


class Tracing:
    """A tracer provider of our own (the process-wide one is left alone), its propagator, and the
    recent traces `/traces` shows."""

    def __init__(
        self,
        exporter: SpanExporter | None,
        *,
        sampling: float = 1.0,
        propagator: TextMapPropagator | None = None,
        recent: int = 0,
        batch: bool = True,
    ) -> None:
        self.propagator = propagator or TraceContextTextMapPropagator()
        self.fields = frozenset(field.lower() for field in self.propagator.fields)
        self.sampling = sampling
        # W3C: sampling decided here (`begin`), so the SDK records what it is given; else the SDK decides.
        self._decides = isinstance(self.propagator, TraceContextTextMapPropagator)
        self._bound = round(sampling * (_LOW_64 + 1))
        sampler = ParentBased(ALWAYS_ON) if self._decides else ParentBased(TraceIdRatioBased(sampling))
        self.provider = TracerProvider(resource=_resource(), sampler=sampler)
        if exporter is not None:
            # Console output (and tests) want each span as it ends; a collector wants batches.
            processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
            self.provider.add_span_processor(processor)
        self.recent = RecentTraces(recent) if recent else None
        if self.recent is not None:
            self.provider.add_span_processor(self.recent)
        self.tracer = self.provider.get_tracer("naftiko_runtime")

    def bind(self, action: Action) -> ActionTracer:
        return ActionTracer(self, action)

    def begin(self, carrier: Mapping[str, str] | None) -> Unsampled | Context:
        """A call's trace: `Unsampled`, or the context its recorded span starts in (the caller's, if any)."""
        if self._decides:
            inbound = _inbound_sampled(carrier["traceparent"]) if carrier and "traceparent" in carrier else None
            if inbound is None:
                trace_id = random.getrandbits(128) or 1
                if trace_id & _LOW_64 >= self._bound:
                    return _unsampled(f"{trace_id:032x}", None)
            elif not inbound[1]:
                return _unsampled(inbound[0], carrier.get("tracestate") if carrier else None)
        return self.propagator.extract(carrier) if carrier else _ROOT

    def start_attempt(self, request: UpstreamRequest, ref: str, number: int) -> tuple[Span | None, UpstreamRequest]:
        """A CLIENT span for one attempt (None: not sampled), the trace headers in the request's
        (replacing any sent as given)."""
        record = CURRENT_CALL.get()
        trace = record.trace if record is not None else None
        if trace is None:
            # No call around this one (a forward): the inbound request's context, if it sent one.
            inbound = INBOUND.get()
            trace = self.begin(inbound.carrier if inbound is not None else None)
        if isinstance(trace, Unsampled):
            return None, self._with_headers(request, trace)
        span = self.tracer.start_span(
            f"{request.method} {ref}",
            context=set_span_in_context(trace) if isinstance(trace, Span) else trace,
            kind=SpanKind.CLIENT,
            attributes={
                "http.request.method": request.method,
                "url.full": request.url.split("?", 1)[0],
                "naftiko.upstream.operation": ref,
                "naftiko.upstream.attempt": number,
            },
        )
        carrier: dict[str, str] = {}
        self.propagator.inject(carrier, context=set_span_in_context(span))
        return span, self._with_headers(request, list(carrier.items()))

    def _with_headers(self, request: UpstreamRequest, trace_headers: Sequence[tuple[str, str]]) -> UpstreamRequest:
        fields = self.fields
        headers = [header for header in request.headers if header[0].lower() not in fields]
        headers += trace_headers
        return UpstreamRequest(request.method, request.url, headers, request.body, request.timeouts)

    def end_attempt(self, span: Span, status: int | str) -> None:
        if isinstance(status, int):
            if status < 400:
                span.set_attribute("http.response.status_code", status)
            else:
                span.set_attributes({"http.response.status_code": status, "error.type": str(status)})
                span.set_status(StatusCode.ERROR)
        else:
            span.set_attribute("error.type", status)
            span.set_status(StatusCode.ERROR)
        span.end()

    def shutdown(self) -> None:
        """Send what is still buffered, then stop."""
        self.provider.shutdown()


def _resource() -> Resource:
    """OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES as the SDK reads them; `naftiko` when they name no service."""
    detected = Resource.create()
    if str(detected.attributes.get("service.name", "")).startswith("unknown_service"):
        return detected.merge(Resource({"service.name": "naftiko"}))
    return detected


class ActionTracer:
    """One route's or tool's SERVER spans, named and labelled once."""

    __slots__ = ("_attributes", "_begin", "_name", "_tracer")

    def __init__(self, tracing: Tracing, action: Action) -> None:
        self._begin = tracing.begin
        self._tracer = tracing.tracer
        kind = adapter_type(action)
        attributes: dict[str, Any] = {"naftiko.adapter.type": kind, "naftiko.adapter.namespace": action.adapter}
        if action.kind == "route":
            self._name = action.name
            attributes["http.route"] = action.path
            if action.method != "*":  # a forward's relays come with any method
                attributes["http.request.method"] = action.method
        elif action.kind == "tool":
            self._name = f"tools/call {action.name}"
            attributes |= {"mcp.method.name": "tools/call", "gen_ai.tool.name": action.name}
        else:
            self._name = f"resources/read {action.name}"
            attributes |= {"mcp.method.name": "resources/read"}
        self._attributes = attributes

    def call_started(self, record: CallRecord) -> None:
        inbound = record.inbound
        begun = self._begin(inbound.carrier if inbound is not None else None)
        if isinstance(begun, Unsampled):
            record.trace = begun
            return
        # Attributes given at the start cost one validation pass; each later `set_attribute` takes a lock.
        attributes = {**self._attributes, "naftiko.request_id": record.request_id}
        record.trace = self._tracer.start_span(self._name, context=begun, kind=SpanKind.SERVER, attributes=attributes)

    def call_finished(self, record: CallRecord) -> None:
        trace = record.trace
        if isinstance(trace, Unsampled | NonRecordingSpan):
            return
        span: Span = trace
        attributes: dict[str, Any] = {"http.response.status_code": record.status, "naftiko.outcome": record.outcome}
        if record.upstream_operation is not None:
            attributes["naftiko.upstream.operation"] = record.upstream_operation
        if record.status >= 500:
            # A SERVER span errs on the server's side only; a 4xx is the caller's.
            attributes["error.type"] = str(record.status)
            span.set_status(StatusCode.ERROR)
        span.set_attributes(attributes)
        span.end()

    def call_refused(self, record: CallRecord) -> None:
        self.call_started(record)
        if isinstance(record.trace, Span):
            record.trace.set_attribute("naftiko.refusal", record.refusal or "")
        self.call_finished(record)


class RecentTraces(SpanProcessor):
    """The last `size` calls' traces, summarised for the control adapter's `/traces`.

    Spans end on the event loop and exporters' threads read nothing here, but a scrape may come
    from anywhere: the buffers are guarded by a lock.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._calls: collections.deque[dict[str, Any]] = collections.deque(maxlen=size)
        # Attempts of calls still under way, by their SERVER span's id; bounded, oldest dropped.
        self._attempts: dict[int, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def on_end(self, span: ReadableSpan) -> None:
        context = span.context
        if context is None:
            return
        if span.kind is SpanKind.CLIENT:
            parent = span.parent
            if parent is None:
                return
            with self._lock:
                attempts = self._attempts.get(parent.span_id)
                if attempts is None:
                    if len(self._attempts) >= 4 * self._size:
                        del self._attempts[next(iter(self._attempts))]
                    attempts = self._attempts[parent.span_id] = []
                attempts.append(_summary(span))
        elif span.kind is SpanKind.SERVER:
            summary = _summary(span)
            summary["traceId"] = format(context.trace_id, "032x")
            with self._lock:
                summary["upstream"] = self._attempts.pop(context.span_id, [])
                self._calls.append(summary)

    def snapshot(self) -> list[dict[str, Any]]:
        """The summaries, the latest first."""
        with self._lock:
            return list(reversed(self._calls))

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _summary(span: ReadableSpan) -> dict[str, Any]:
    attributes = span.attributes or {}
    start, end = span.start_time or 0, span.end_time or 0
    summary: dict[str, Any] = {
        "name": span.name,
        "spanId": format(span.context.span_id, "016x") if span.context is not None else None,
        "start": datetime.fromtimestamp(start / 1e9, UTC).isoformat(timespec="milliseconds"),
        "durationMs": round((end - start) / 1e6, 3),
        "status": "error" if span.status.status_code is StatusCode.ERROR else "ok",
    }
    for key, name in _SUMMARY_ATTRIBUTES:
        if key in attributes:
            summary[name] = attributes[key]
    return summary


_SUMMARY_ATTRIBUTES: Sequence[tuple[str, str]] = (
    ("naftiko.request_id", "requestId"),
    ("naftiko.adapter.type", "adapter"),
    ("naftiko.adapter.namespace", "namespace"),
    ("naftiko.outcome", "outcome"),
    ("naftiko.upstream.operation", "operation"),
    ("naftiko.upstream.attempt", "attempt"),
    ("http.response.status_code", "httpStatus"),
    ("error.type", "error"),
)
