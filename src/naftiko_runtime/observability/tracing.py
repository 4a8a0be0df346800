"""OpenTelemetry traces: a SERVER span per route or tool call, a CLIENT span per upstream attempt.

The inbound trace context (W3C `traceparent`, or B3 when the control adapter asks for it) is the
parent of the SERVER span; each attempt's context is injected into the upstream request, so the
upstream's spans join the same trace. Needs the `otel` extra (the SDK; the OTLP exporter for
`--otel-exporter otlp`); none of it is imported while tracing is off.
"""

from __future__ import annotations

import collections
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from opentelemetry import context as otel_context
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
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import NonRecordingSpan, Span, SpanKind, StatusCode, get_current_span, set_span_in_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from naftiko_runtime.consumer.client import UpstreamRequest
from naftiko_runtime.observability.context import INBOUND
from naftiko_runtime.observability.metrics import adapter_type

if TYPE_CHECKING:
    from naftiko_runtime.engine import Action, CallRecord
    from naftiko_runtime.observability.upstream import Exchange

Exporter = Literal["otlp", "console", "none"]
Propagation = Literal["w3c", "b3"]
OTLP_TRACES_PATH = "/v1/traces"
_ROOT = Context()


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
        self.provider = TracerProvider(resource=_resource(), sampler=ParentBased(TraceIdRatioBased(sampling)))
        if exporter is not None:
            # Console output (and tests) want each span as it ends; a collector wants batches.
            processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
            self.provider.add_span_processor(processor)
        self.recent = RecentTraces(recent) if recent else None
        if self.recent is not None:
            self.provider.add_span_processor(self.recent)
        self.tracer = self.provider.get_tracer("naftiko_runtime")
        self.propagator = propagator or TraceContextTextMapPropagator()
        self.fields = frozenset(field.lower() for field in self.propagator.fields)

    def bind(self, action: Action) -> ActionTracer:
        return ActionTracer(self, action)

    def extract(self, carrier: Mapping[str, str] | None) -> Context:
        return self.propagator.extract(carrier) if carrier else _ROOT

    def start_attempt(self, request: UpstreamRequest, exchange: Exchange) -> tuple[Span, UpstreamRequest]:
        """A CLIENT span for one attempt, its context in the request's headers (replacing any sent as given)."""
        parent = None
        if not get_current_span().get_span_context().is_valid:
            # No call around this one (a forward): the inbound request's context, if it sent one.
            inbound = INBOUND.get()
            parent = self.extract(inbound.carrier if inbound is not None else None)
        span = self.tracer.start_span(
            f"{request.method} {exchange.ref}",
            context=parent,
            kind=SpanKind.CLIENT,
            attributes={
                "http.request.method": request.method,
                "url.full": request.url.split("?", 1)[0],
                "naftiko.upstream.operation": exchange.ref,
                "naftiko.upstream.attempt": exchange.attempts,
            },
        )
        carrier: dict[str, str] = {}
        self.propagator.inject(carrier, context=set_span_in_context(span))
        fields = self.fields
        headers = [(name, value) for name, value in request.headers if name.lower() not in fields]
        headers.extend(carrier.items())
        return span, replace(request, headers=headers)

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

    __slots__ = ("_attributes", "_name", "_tracing")

    def __init__(self, tracing: Tracing, action: Action) -> None:
        self._tracing = tracing
        kind = adapter_type(action)
        attributes: dict[str, Any] = {"naftiko.adapter.type": kind, "naftiko.adapter.namespace": action.adapter}
        if action.kind == "route":
            self._name = action.name
            attributes |= {"http.request.method": action.method, "http.route": action.path}
        elif action.kind == "tool":
            self._name = f"tools/call {action.name}"
            attributes |= {"mcp.method.name": "tools/call", "gen_ai.tool.name": action.name}
        else:
            self._name = f"resources/read {action.name}"
            attributes |= {"mcp.method.name": "resources/read"}
        self._attributes = attributes

    def _start(self, record: CallRecord) -> Span:
        inbound = record.inbound
        parent = self._tracing.extract(inbound.carrier if inbound is not None else None)
        # Attributes given at the start cost one validation pass; each later `set_attribute` takes a lock.
        attributes = {**self._attributes, "naftiko.request_id": record.request_id}
        return self._tracing.tracer.start_span(self._name, context=parent, kind=SpanKind.SERVER, attributes=attributes)

    def call_started(self, record: CallRecord) -> None:
        span = self._start(record)
        record.trace = (span, otel_context.attach(set_span_in_context(span)))

    def call_finished(self, record: CallRecord) -> None:
        span, token = record.trace
        otel_context.detach(token)
        self._end(span, record)

    def call_refused(self, record: CallRecord) -> None:
        span = self._start(record)
        span.set_attribute("naftiko.refusal", record.refusal or "")
        self._end(span, record)

    def _end(self, span: Span, record: CallRecord) -> None:
        if isinstance(span, NonRecordingSpan):
            return
        attributes: dict[str, Any] = {"http.response.status_code": record.status, "naftiko.outcome": record.outcome}
        if record.upstream_operation is not None:
            attributes["naftiko.upstream.operation"] = record.upstream_operation
        if record.status >= 500:
            # A SERVER span errs on the server's side only; a 4xx is the caller's.
            attributes["error.type"] = str(record.status)
            span.set_status(StatusCode.ERROR)
        span.set_attributes(attributes)
        span.end()


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
