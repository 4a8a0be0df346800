"""Logs, metrics and traces put together from the command line and the control adapters' settings.

One `Telemetry` lives as long as the process (reloads keep it): the first build decides what is on
(`configure`), every build's clients and actions are then observed through it. With everything off,
nothing is wrapped and calls pay one attribute check.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from naftiko_runtime.adapters.asgi import ASGIApp, Receive, Scope, Send, problem, send_bytes, send_problem
from naftiko_runtime.capability import Adapter, CompiledCapability
from naftiko_runtime.diagnostics import CapabilityError, Diagnostic, Location, Severity
from naftiko_runtime.engine import Action, CallObserver
from naftiko_runtime.observability.inbound import McpCalls, RequestIds
from naftiko_runtime.observability.logs import CallLog, LogFormat
from naftiko_runtime.observability.settings import SpecObservability, control_observability
from naftiko_runtime.observability.upstream import OperationWatch

if TYPE_CHECKING:
    from naftiko_runtime.adapters.mcp import McpAdapter
    from naftiko_runtime.observability.metrics import Metrics
    from naftiko_runtime.observability.tracing import Exporter, Tracing

Handler = Callable[[Scope, Receive, Send], Awaitable[None]]
_FLAGS = Location("command line")


@dataclass(frozen=True, slots=True)
class TelemetryOptions:
    """What the command line says: `--log-level` (call lines at info), `--log-format`, `--metrics-port`,
    `--otel-exporter` (None: an OTLP endpoint in the spec turns OTLP on, else none)."""

    log_calls: bool = True
    log_format: LogFormat = "text"
    metrics_port: int | None = None
    otel_exporter: Exporter | None = None
    # `--otel-sample-ratio`: the share of new traces kept; beats the spec's `sampling` (a caller's
    # sampled flag is followed either way).
    otel_sample_ratio: float | None = None


class Telemetry:
    def __init__(
        self,
        options: TelemetryOptions,
        *,
        metrics: Metrics | None = None,
        tracing: Tracing | None = None,
        log_stream: TextIO | None = None,
    ) -> None:
        """`metrics` and `tracing` given (tests) are used as they are, whatever the settings say; call
        lines go to `log_stream`, else to stderr."""
        self.options = options
        self.metrics = metrics
        self.tracing = tracing
        self._configured = metrics is not None or tracing is not None
        self._calls = CallLog(options.log_format, log_stream) if options.log_calls else None

    @property
    def active(self) -> bool:
        return self._calls is not None or self.metrics is not None or self.tracing is not None

    @property
    def metrics_port(self) -> int | None:
        return self.options.metrics_port

    def configure(self, capabilities: Sequence[CompiledCapability]) -> list[Diagnostic]:
        """Decide, on the first build, what is on; later builds (reloads) keep it."""
        if self._configured:
            return []
        self._configured = True
        controls = [
            (adapter, control_observability(adapter))
            for capability in capabilities
            for adapter in capability.adapters
            if adapter.type == "control"
        ]
        spec = next((settings for _, settings in controls if settings.enabled), None)
        wants_metrics = self.options.metrics_port is not None or any(
            settings.enabled and settings.metrics_local for _, settings in controls
        )
        if wants_metrics:
            from naftiko_runtime.observability.metrics import Metrics

            self.metrics = Metrics()
        return self._start_tracing(spec, controls)

    def _start_tracing(
        self, spec: SpecObservability | None, controls: list[tuple[Adapter, SpecObservability]]
    ) -> list[Diagnostic]:
        chosen = self.options.otel_exporter
        endpoint = spec.otlp_endpoint if spec is not None else None
        kind = chosen or ("otlp" if endpoint else "none")
        if kind == "none":
            return []
        where = _FLAGS if chosen else Location(str(controls[0][0].capability.path))
        try:
            from naftiko_runtime.observability import tracing
        except ImportError:
            return self._unavailable(
                "tracing needs the OpenTelemetry SDK: pip install 'naftiko-runtime[otel]'", where, fatal=bool(chosen)
            )
        try:
            exporter = tracing.exporter_for(kind, endpoint)
        except tracing.TracingUnavailable as exc:
            return self._unavailable(str(exc), where, fatal=bool(chosen))
        remarks = []
        try:
            propagator = tracing.propagator_for("b3" if spec is not None and spec.propagation == "b3" else "w3c")
        except tracing.TracingUnavailable as exc:
            propagator = tracing.propagator_for("w3c")
            spec_file = Location(str(controls[0][0].capability.path))
            remarks.append(
                Diagnostic(Severity.WARNING, f"{exc}; propagating W3C traceparent", spec_file, code="tracing")
            )
        recent = spec.buffer_size if spec is not None and spec.traces_local else 0
        self.tracing = tracing.Tracing(
            exporter,
            sampling=self._sampling(spec.sampling if spec is not None else 1.0),
            propagator=propagator,
            recent=recent,
            batch=kind == "otlp",
        )
        return remarks

    def _sampling(self, declared: float) -> float:
        chosen = self.options.otel_sample_ratio
        return chosen if chosen is not None else declared

    @staticmethod
    def _unavailable(message: str, where: Location, *, fatal: bool) -> list[Diagnostic]:
        if fatal:
            raise CapabilityError([Diagnostic(Severity.ERROR, message, where, code="tracing")])
        return [Diagnostic(Severity.WARNING, f"{message}; tracing is off", where, code="tracing")]

    # -- the request path, wired at load

    def observers(self) -> list[Callable[[Action], CallObserver]]:
        """What to bind to each action (`Runtime.observe`), cheapest first."""
        binders: list[Callable[[Action], CallObserver]] = []
        if self.metrics is not None:
            binders.append(self.metrics.bind)
        if self._calls is not None:
            binders.append(self._calls.bind)
        if self.tracing is not None:
            binders.append(self.tracing.bind)
        return binders

    def operation_watch(self, ref: str) -> OperationWatch:
        """What observes one consumed operation's upstream exchanges, from its guard."""
        metrics = self.metrics.operation(ref) if self.metrics is not None else None
        return OperationWatch(ref, metrics, self.tracing)

    def listener_refusals(self, adapter_type: str, namespace: str) -> Callable[[], None] | None:
        """What counts the requests a listener's authentication refuses before any route or tool is named."""
        if self.metrics is None:
            return None
        counter = self.metrics.rejected.labels(adapter_type, namespace, "auth")
        return counter.inc

    def request_ids(self) -> RequestIds | None:
        """What gives a REST listener's requests their ids (and trace contexts), when anything observes calls."""
        if not self.active:
            return None
        return RequestIds(self.tracing.fields if self.tracing is not None else frozenset())

    def instrument_mcp(self, adapter: McpAdapter) -> None:
        """An MCP endpoint's calls given their ids and trace contexts; its sessions counted."""
        if not self.active:
            return
        on_session = None
        if self.metrics is not None:
            gauge = self.metrics.mcp_sessions.labels(adapter.server.name)
            on_session = gauge.inc
        fields = self.tracing.fields if self.tracing is not None else frozenset()
        adapter.server.middleware.append(McpCalls(fields, on_session))

    # -- endpoints

    def control_routes(self, adapter: Adapter) -> dict[str, Handler]:
        """`/metrics` and `/traces` for a control adapter, as its observability settings allow."""
        settings = control_observability(adapter)
        if not settings.enabled:
            return {}
        routes: dict[str, Handler] = {}
        if settings.metrics_local:
            routes["/metrics"] = self.serve_metrics
        if settings.traces_local:
            routes["/traces"] = self.serve_traces
        return routes

    async def serve_metrics(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.metrics is None:
            detail = "metrics are off: the first files served declared none (restart to apply a control adapter's)"
            await send_problem(send, problem(404, "Not Found", detail))
            return
        await send_bytes(send, 200, self.metrics.exposition(), self.metrics.content_type.encode())

    async def serve_traces(self, scope: Scope, receive: Receive, send: Send) -> None:
        recent = self.tracing.recent if self.tracing is not None else None
        if recent is None:
            detail = "tracing is off: start with --otel-exporter otlp|console, or declare exporters.otlp.endpoint"
            await send_problem(send, problem(404, "Not Found", detail))
            return
        await send_bytes(send, 200, _json({"traces": recent.snapshot()}), b"application/json")

    def metrics_listener(self) -> ASGIApp:
        """The app of `--metrics-port`: `/metrics` and nothing else."""

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                return
            if scope["path"] == "/metrics" and scope["method"] in ("GET", "HEAD"):
                await self.serve_metrics(scope, receive, send)
            else:
                await send_problem(send, problem(404, "Not Found", "this port serves /metrics only"))

        return app

    def flush(self) -> None:
        """Write the call lines still buffered."""
        if self._calls is not None:
            self._calls.lines.flush()

    def close(self) -> None:
        """Write the call lines and send the spans still buffered."""
        self.flush()
        if self.tracing is not None:
            self.tracing.shutdown()


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()
