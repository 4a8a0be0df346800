"""Forwards' relays and MCP resource reads are calls too: a call line, the call series, a trace."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from tests.consumer.upstream_stub import StubUpstream

from naftiko_runtime.adapters.rest import RestApp
from naftiko_runtime.observability.metrics import Metrics
from naftiko_runtime.observability.telemetry import Telemetry, TelemetryOptions
from naftiko_runtime.observability.tracing import Tracing
from naftiko_runtime.runtime import Runtime, RuntimeOptions, build_runtime

pytestmark = pytest.mark.anyio

CAPABILITY = """\
naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: notes
    baseUri: http://notes.invalid
    resources:
    - name: note
      path: /notes/{{note_id}}
      operations:
      - {name: get-note, method: GET, inputParameters: [{name: note_id, in: path}]}
  exposes:
  - type: rest
    namespace: relay
    port: 8080
    resources:
    - path: /notes/{{path}}
      description: Everything under /notes, relayed.
      forward: {targetNamespace: notes, trustedHeaders: []}
  - type: mcp
    namespace: notes-mcp
    port: 9000
    tools:
    - name: get-note
      description: One note.
      inputParameters: [{name: id, type: string, description: Note id}]
      call: notes.get-note
      with: {note_id: notes-mcp.id}
    resources:
    - name: welcome
      uri: notes://welcome
      description: The welcome note.
      call: notes.get-note
      with: {note_id: welcome}
"""


def served(tmp_path: Path, upstream: StubUpstream, telemetry: Telemetry) -> Runtime:
    path = tmp_path / "notes.yaml"
    path.write_text(CAPABILITY)
    options = RuntimeOptions(base_uris={"notes": upstream.url}, environ={}, telemetry=telemetry)
    return build_runtime([path], options)


async def test_a_relayed_request_is_logged_counted_and_traced_as_a_call_of_its_forward(
    tmp_path: Path, upstream: StubUpstream
) -> None:
    lines, exporter = io.StringIO(), InMemorySpanExporter()
    telemetry = Telemetry(
        TelemetryOptions(), metrics=Metrics(), tracing=Tracing(exporter, batch=False), log_stream=lines
    )
    runtime = served(tmp_path, upstream, telemetry)
    rest = next(adapter for c in runtime.capabilities for adapter in c.adapters if adapter.type == "rest")
    app = RestApp(rest.actions, runtime.health, forwards=rest.forwards, request_ids=telemetry.request_ids())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://naftiko") as client:
        answer = await client.post("/notes/7/archive", json={}, headers={"x-request-id": "relay-1"})
    telemetry.close()
    await runtime.close()

    assert answer.status_code == 200 and upstream.last.raw_path == "/7/archive"  # the rest of the path
    (line,) = lines.getvalue().splitlines()
    assert 'request_id=relay-1 adapter=rest namespace=relay route="* /notes/{{path}}"' in line
    assert "upstream=notes.forward upstream_status=200" in line and line.endswith("status=200 outcome=ok")
    assert telemetry.metrics is not None
    sample = telemetry.metrics.registry.get_sample_value
    labels = {"adapter": "rest", "namespace": "relay", "name": "* /notes/{{path}}"}
    assert sample("naftiko_calls_total", labels) == 1
    assert sample("naftiko_upstream_requests_total", {"operation": "notes.forward", "status": "200"}) == 1
    (server,) = [span for span in exporter.get_finished_spans() if span.kind is SpanKind.SERVER]
    assert server.attributes is not None and "http.request.method" not in server.attributes
    assert upstream.last.headers["traceparent"].split("-")[1] == format(server.context.trace_id, "032x")


async def test_reading_an_mcp_resource_is_a_call_line_and_a_count_of_its_own(
    tmp_path: Path, upstream: StubUpstream
) -> None:
    lines = io.StringIO()
    telemetry = Telemetry(TelemetryOptions(), metrics=Metrics(), log_stream=lines)
    runtime = served(tmp_path, upstream, telemetry)
    mcp = next(adapter for c in runtime.capabilities for adapter in c.adapters if adapter.type == "mcp")
    (welcome,) = mcp.resources
    assert welcome.action is not None
    await welcome.action.invoke(welcome.action.signature.validate({}))
    telemetry.close()
    await runtime.close()

    (line,) = lines.getvalue().splitlines()
    assert "adapter=mcp namespace=notes-mcp resource=welcome upstream=notes.get-note upstream_status=200" in line
    assert telemetry.metrics is not None
    labels = {"adapter": "mcp", "namespace": "notes-mcp", "name": "welcome"}
    assert telemetry.metrics.registry.get_sample_value("naftiko_calls_total", labels) == 1
