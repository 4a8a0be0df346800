"""End to end: `naftiko serve` logs, counts and traces real calls from real clients to a fake upstream."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from tests.conftest import SecretTripwire
from tests.e2e.mcp_client import connect
from tests.e2e.server import NaftikoServer
from tests.fakes import FakeServer, KomboFake
from tests.observability.conftest import INBOUND_TRACE_ID, KOMBO, TRACEPARENT

CONTROL = """\
naftiko: 1.0.0-alpha2
capability:
  exposes:
  - type: control
    port: 9199
"""
CHECK = "kombo-general.getcheckapikey"
DETAILS = "kombo-general.getintegrationsintegrationid"
CONFORMANCE = Path(__file__).resolve().parents[1] / "conformance"
AUTHENTICATED_MCP = CONFORMANCE / "tutorial" / "step-3-shipyard-auth.yml"
REGISTRY = CONFORMANCE / "microcks" / "naftiko-shipyard-maritime-registry-api.yaml"
METRICS_BANNER = re.compile(r"^naftiko: METRICS at (http://\S+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def kombo(api_key: str) -> Iterator[KomboFake]:
    with KomboFake(api_key) as fake:
        yield fake


@pytest.fixture
def control_file(tmp_path: Path) -> Path:
    path = tmp_path / "control.yaml"
    path.write_text(CONTROL)
    return path


def serve(kombo: KomboFake, api_key: str, *paths: Path, args: tuple[str, ...] = ()) -> NaftikoServer:
    return NaftikoServer(
        [KOMBO, *paths],
        args=["--base-uri", f"kombo-general={kombo.base_url}", "--port", "9199=0", *args],
        env={"KOMBO_API_KEY": api_key},
    )


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    answer = httpx.get(url, timeout=5)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def labels(**given: str) -> frozenset[tuple[str, str]]:
    return frozenset(given.items())


def rest(name: str) -> frozenset[tuple[str, str]]:
    return labels(adapter="rest", namespace="kombo-general-rest", name=name)


def tool(name: str) -> frozenset[tuple[str, str]]:
    return labels(adapter="mcp", namespace="kombo-general-mcp", name=name)


async def calls(server: NaftikoServer, control: str) -> tuple[Samples, Samples]:
    """3 REST calls and 2 tool calls, one of each failing; the metrics during and after the MCP session."""
    async with httpx.AsyncClient(base_url=server.rest_url, timeout=10) as client:
        for path in ("/v1/check-api-key", "/v1/check-api-key", "/v1/integrations/nobody:nothing"):
            await client.get(path)
    # A handshake-era client: its session is open from the handshake to the end of the block.
    async with connect(server.mcp_url, mode="legacy") as mcp:
        assert not (await mcp.call_tool("check-api-key", {})).is_error
        assert (await mcp.call_tool("get-integration-details", {"integration_id": "nobody:nothing"})).is_error
        during = await anyio.to_thread.run_sync(scrape, f"{control}/metrics")
    with anyio.fail_after(10):
        while True:
            after = await anyio.to_thread.run_sync(scrape, f"{control}/metrics")
            if after[("naftiko_mcp_sessions", labels(endpoint="kombo-general-mcp"))] == 0:
                return during, after
            await anyio.sleep(0.05)


@pytest.mark.anyio
async def test_the_control_port_metrics_count_known_calls_exactly(
    kombo: KomboFake, api_key: str, control_file: Path
) -> None:
    with serve(kombo, api_key, control_file) as server:
        server.wait_ready()
        during, after = await calls(server, server.urls_by_namespace["control"])
        assert server.stop() == 0

    assert during[("naftiko_mcp_sessions", labels(endpoint="kombo-general-mcp"))] == 1
    assert after[("naftiko_calls_total", rest("GET /v1/check-api-key"))] == 2
    details = rest("GET /v1/integrations/{integration-id}")
    assert after[("naftiko_call_errors_total", rest("GET /v1/check-api-key") | {("status_class", "4xx")})] == 0
    assert after[("naftiko_calls_total", details)] == 1
    assert after[("naftiko_call_errors_total", details | {("status_class", "4xx")})] == 1
    assert after[("naftiko_calls_total", tool("check-api-key"))] == 1
    assert after[("naftiko_calls_total", tool("get-integration-details"))] == 1
    assert after[("naftiko_call_errors_total", tool("get-integration-details") | {("status_class", "4xx")})] == 1
    assert after[("naftiko_call_duration_seconds_count", rest("GET /v1/check-api-key"))] == 2
    assert after[("naftiko_upstream_requests_total", labels(operation=CHECK, status="200"))] == 3
    assert after[("naftiko_upstream_requests_total", labels(operation=DETAILS, status="404"))] == 2
    assert after[("naftiko_upstream_request_duration_seconds_count", labels(operation=DETAILS))] == 2
    assert after[("naftiko_calls_in_flight", labels(adapter="rest", namespace="kombo-general-rest"))] == 0
    assert sum(value for (name, _), value in after.items() if name == "naftiko_calls_total") == 5


def test_metrics_port_serves_metrics_without_a_control_adapter(kombo: KomboFake, api_key: str) -> None:
    with serve(kombo, api_key, args=("--metrics-port", "0")) as server:
        server.wait_ready()
        match = METRICS_BANNER.search(server.output)
        assert match is not None, server.output
        httpx.get(f"{server.rest_url}/v1/check-api-key", timeout=10)
        scraped = scrape(match.group(1))
        elsewhere = httpx.get(match.group(1).removesuffix("/metrics") + "/status", timeout=5)
        assert server.stop() == 0
    assert scraped[("naftiko_calls_total", rest("GET /v1/check-api-key"))] == 1
    assert elsewhere.status_code == 404


def test_a_control_adapter_with_observability_disabled_serves_no_metrics(
    kombo: KomboFake, api_key: str, tmp_path: Path
) -> None:
    path = tmp_path / "control.yaml"
    path.write_text(CONTROL + "    observability: {enabled: false}\n")
    with serve(kombo, api_key, path) as server:
        server.wait_ready()
        answer = httpx.get(f"{server.urls_by_namespace['control']}/metrics", timeout=5)
        assert server.stop() == 0
    assert answer.status_code == 404


@pytest.mark.anyio
async def test_an_inbound_trace_reaches_the_upstream_and_the_recent_traces(
    kombo: KomboFake, api_key: str, control_file: Path
) -> None:
    with serve(kombo, api_key, control_file, args=("--otel-exporter", "console")) as server:
        server.wait_ready()
        kombo.reset()
        async with httpx.AsyncClient(timeout=10) as client:
            await client.get(f"{server.rest_url}/v1/check-api-key", headers={"traceparent": TRACEPARENT})
        from_rest = kombo.last.headers["traceparent"]
        async with connect(server.mcp_url, headers={"traceparent": TRACEPARENT}) as mcp:
            await mcp.call_tool("check-api-key", {})
        from_mcp = kombo.last.headers["traceparent"]
        recent = httpx.get(f"{server.urls_by_namespace['control']}/traces", timeout=5).json()["traces"]
        assert server.stop() == 0
    assert from_rest.split("-")[1] == INBOUND_TRACE_ID
    assert from_mcp.split("-")[1] == INBOUND_TRACE_ID
    assert from_rest != from_mcp  # each attempt is a span of its own
    assert [trace["name"] for trace in recent] == ["tools/call check-api-key", "GET /v1/check-api-key"]
    assert all(trace["traceId"] == INBOUND_TRACE_ID for trace in recent)
    # The console exporter wrote the spans, flushed at the stop.
    assert f"0x{INBOUND_TRACE_ID}" in server.output


def test_each_call_logs_one_json_line_with_its_fields_and_no_secret(
    kombo: KomboFake, api_key: str, secret_tripwire: SecretTripwire
) -> None:
    with serve(kombo, api_key, args=("--log-format", "json")) as server:
        server.wait_ready()
        answered = httpx.get(f"{server.rest_url}/v1/check-api-key", headers={"X-Request-Id": "e2e-1"}, timeout=10)
        refused = httpx.post(f"{server.rest_url}/v1/force-sync", json={"type": "FULL"}, timeout=10)
        assert server.stop() == 0
    output = server.output
    secret_tripwire.record("naftiko serve --log-format json", output)
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    call_lines = [line for line in lines if line["logger"] == "naftiko.calls"]
    assert answered.headers["x-request-id"] == "e2e-1"
    assert [line["request_id"] for line in call_lines] == ["e2e-1", refused.headers["x-request-id"]]
    first = call_lines[0]
    assert (first["route"], first["upstream_operation"], first["upstream_status"]) == (
        "GET /v1/check-api-key",
        CHECK,
        200,
    )
    assert (first["retries"], first["status"], first["outcome"]) == (0, 200, "ok")
    assert call_lines[1]["reason"] == "validation"
    assert api_key not in output
    assert "HTTP/1.1" not in output  # uvicorn's access log stays off


def test_requests_an_mcp_endpoint_refuses_for_authentication_count_as_rejected() -> None:
    with NaftikoServer(
        [AUTHENTICATED_MCP],
        args=["--mock", "--openapi", f"registry={REGISTRY}", "--port", "3001=0", "--metrics-port", "0"],
        move_ports=(),
    ) as server:
        server.wait_ready(kinds=("mcp",))
        match = METRICS_BANNER.search(server.output)
        assert match is not None, server.output
        stranger = httpx.post(
            server.mcp_url,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
            headers={"accept": "application/json, text/event-stream", "authorization": "Bearer guess"},
            timeout=5,
        )
        scraped = scrape(match.group(1))
        (namespace,) = server.urls_by_namespace
        assert server.stop() == 0
    assert stranger.status_code == 401
    assert scraped[("naftiko_rejected_calls_total", labels(adapter="mcp", namespace=namespace, reason="auth"))] == 1


async def _accept(scope: Scope, receive: Receive, send: Send) -> None:
    await Response(b"", status_code=200, media_type="application/x-protobuf")(scope, receive, send)


def test_otlp_exports_the_spans_to_the_collector_the_standard_variable_names(kombo: KomboFake, api_key: str) -> None:
    with FakeServer(_accept) as collector:
        with NaftikoServer(
            [KOMBO],
            args=["--base-uri", f"kombo-general={kombo.base_url}", "--otel-exporter", "otlp"],
            env={"KOMBO_API_KEY": api_key, "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url},
        ) as server:
            server.wait_ready()
            httpx.get(f"{server.rest_url}/v1/check-api-key", headers={"traceparent": TRACEPARENT}, timeout=10)
            assert server.stop() == 0  # the stop sends what the batch still holds
        exported = collector.requests
    assert [request.raw_path for request in exported] == ["/v1/traces"]
    assert exported[0].headers["content-type"] == "application/x-protobuf"
    assert bytes.fromhex(INBOUND_TRACE_ID) in exported[0].body
    assert api_key.encode() not in exported[0].body
