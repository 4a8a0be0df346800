"""In-process observability: the Kombo capability built for serving, with telemetry, against a stub upstream."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from tests.consumer.upstream_stub import StubUpstream

from naftiko_runtime.adapters.rest import RestApp
from naftiko_runtime.engine import Action
from naftiko_runtime.observability.metrics import Metrics
from naftiko_runtime.observability.telemetry import Telemetry, TelemetryOptions
from naftiko_runtime.observability.tracing import Tracing
from naftiko_runtime.runtime import Runtime, RuntimeOptions, build_runtime

KOMBO = Path(__file__).parents[2] / "capabilities" / "kombo.yaml"
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
INBOUND_TRACE_ID = "0af7651916cd43dd8448eb211c80319c"


class Served:
    """A built runtime: its REST app as served (request ids on), its actions by `rest:`/`mcp:` name."""

    def __init__(self, runtime: Runtime, telemetry: Telemetry) -> None:
        self.runtime = runtime
        self.telemetry = telemetry
        self.actions: dict[str, Action] = {}
        for capability in runtime.capabilities:
            for adapter in capability.adapters:
                for action in adapter.actions:
                    self.actions[f"{adapter.type}:{action.name}"] = action
        routes = [action for key, action in self.actions.items() if key.startswith("rest:")]
        self.rest = RestApp(routes, runtime.health, request_ids=telemetry.request_ids())

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.rest), base_url="http://naftiko", timeout=10)

    async def call_tool(self, name: str, arguments: dict[str, Any] | None = None) -> Any:
        from naftiko_runtime.adapters.mcp import call_action

        return await call_action(self.actions[f"mcp:{name}"], arguments or {})

    @property
    def metrics(self) -> Metrics:
        assert self.telemetry.metrics is not None
        return self.telemetry.metrics

    def sample(self, metric: str, /, **labels: str) -> float:
        value = self.metrics.registry.get_sample_value(metric, labels)
        return 0.0 if value is None else value


Serve = Callable[..., Any]


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def serve(upstream: StubUpstream, api_key: str, exporter: InMemorySpanExporter) -> Callable[..., Any]:
    """`async with serve(...) as served`: Kombo against the stub, with metrics, call logs and traces on."""

    @asynccontextmanager
    async def serving(
        *,
        tracing: Tracing | None = None,
        log_format: str = "text",
        log_stream: TextIO | None = None,
        **options: Any,
    ) -> AsyncIterator[Served]:
        telemetry = Telemetry(
            TelemetryOptions(log_format=log_format),  # type: ignore[arg-type]
            metrics=Metrics(),
            tracing=tracing or Tracing(exporter, batch=False, recent=20),
            log_stream=log_stream or io.StringIO(),
        )
        runtime = build_runtime(
            [KOMBO],
            RuntimeOptions(
                base_uris={"kombo-general": upstream.url},
                environ={"KOMBO_API_KEY": api_key},
                telemetry=telemetry,
                **options,
            ),
        )
        try:
            yield Served(runtime, telemetry)
        finally:
            telemetry.close()
            await runtime.close()

    return serving
