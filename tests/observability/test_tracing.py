"""observability/tracing.py: SERVER span per call, CLIENT span per attempt, context carried upstream."""

from __future__ import annotations

import random
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from tests.consumer.upstream_stub import StubUpstream
from tests.observability.conftest import INBOUND_TRACE_ID, TRACEPARENT

from naftiko_runtime.consumer.guard import Resilience
from naftiko_runtime.consumer.retry import RetryPolicy
from naftiko_runtime.observability.tracing import Tracing, Unsampled

pytestmark = pytest.mark.anyio


def spans(exporter: InMemorySpanExporter, kind: SpanKind) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.kind is kind]


def hex_id(value: int, width: int) -> str:
    return format(value, f"0{width}x")


async def test_a_route_call_continues_the_inbound_trace_and_the_upstream_sees_the_same_trace(
    serve: Any, upstream: StubUpstream, exporter: InMemorySpanExporter
) -> None:
    async with serve() as served, served.client() as client:
        await client.get("/v1/check-api-key", headers={"traceparent": TRACEPARENT, "x-request-id": "req-7"})

    (server,) = spans(exporter, SpanKind.SERVER)
    (attempt,) = spans(exporter, SpanKind.CLIENT)
    assert server.name == "GET /v1/check-api-key"
    assert server.context is not None and attempt.context is not None
    assert hex_id(server.context.trace_id, 32) == INBOUND_TRACE_ID
    assert server.parent is not None and hex_id(server.parent.span_id, 16) == "b7ad6b7169203331"
    assert attempt.parent is not None and attempt.parent.span_id == server.context.span_id
    assert upstream.last.headers["traceparent"] == f"00-{INBOUND_TRACE_ID}-{hex_id(attempt.context.span_id, 16)}-01"
    assert server.attributes is not None and attempt.attributes is not None
    assert server.attributes["naftiko.request_id"] == "req-7"
    assert server.attributes["http.route"] == "/v1/check-api-key"
    assert server.attributes["http.response.status_code"] == 200
    assert attempt.attributes["naftiko.upstream.operation"] == "kombo-general.getcheckapikey"
    assert "?" not in str(attempt.attributes["url.full"])


async def test_each_upstream_attempt_has_a_client_span_of_its_own(
    serve: Any, upstream: StubUpstream, exporter: InMemorySpanExporter
) -> None:
    upstream.answer(503, json_body={"status": "error"})
    resilience = Resilience(retry=RetryPolicy(retries=1, base_delay=0.01, max_delay=0.01))
    async with serve(resilience=resilience) as served, served.client() as client:
        await client.get("/v1/check-api-key")

    attempts = spans(exporter, SpanKind.CLIENT)
    (server,) = spans(exporter, SpanKind.SERVER)
    assert [span.attributes["naftiko.upstream.attempt"] for span in attempts if span.attributes] == [1, 2]
    assert all(span.status.status_code is StatusCode.ERROR for span in attempts)
    assert server.status.status_code is StatusCode.ERROR
    sent = [request.headers["traceparent"] for request in upstream.requests]
    assert len(set(sent)) == 2 and all(INBOUND_TRACE_ID not in value for value in sent)


async def test_a_call_without_a_trace_context_starts_a_trace_and_a_4xx_is_no_server_error(
    serve: Any, upstream: StubUpstream, exporter: InMemorySpanExporter
) -> None:
    upstream.answer(404, json_body={"status": "error"})
    async with serve() as served, served.client() as client:
        await client.get("/v1/integrations/nobody")

    (server,) = spans(exporter, SpanKind.SERVER)
    assert server.parent is None
    assert server.status.status_code is StatusCode.UNSET
    assert server.attributes is not None and server.attributes["naftiko.outcome"] == "upstream_error"


async def test_a_tool_call_is_a_server_span_named_after_the_tool(serve: Any, exporter: InMemorySpanExporter) -> None:
    async with serve() as served:
        await served.call_tool("check-api-key")

    (server,) = spans(exporter, SpanKind.SERVER)
    assert server.name == "tools/call check-api-key"
    assert server.attributes is not None and server.attributes["gen_ai.tool.name"] == "check-api-key"


async def test_an_unsampled_trace_records_nothing_yet_still_carries_its_context_upstream(
    serve: Any, upstream: StubUpstream, exporter: InMemorySpanExporter
) -> None:
    async with serve(tracing=Tracing(exporter, sampling=0.0, batch=False)) as served, served.client() as client:
        await client.get("/v1/check-api-key")

    assert exporter.get_finished_spans() == ()
    flags = upstream.last.headers["traceparent"].rsplit("-", 1)[1]
    assert int(flags, 16) & 1 == 0  # not sampled


async def test_a_caller_that_did_not_sample_its_trace_is_followed_and_its_context_passed_on(
    serve: Any, upstream: StubUpstream, exporter: InMemorySpanExporter
) -> None:
    unsampled = f"00-{INBOUND_TRACE_ID}-b7ad6b7169203331-00"
    async with serve() as served, served.client() as client:
        await client.get("/v1/check-api-key", headers={"traceparent": unsampled, "tracestate": "vendor=abc"})
        await client.get("/v1/check-api-key", headers={"traceparent": unsampled})

    assert exporter.get_finished_spans() == ()
    first, second = (request.headers["traceparent"].split("-") for request in upstream.requests)
    assert first[1] == second[1] == INBOUND_TRACE_ID and first[3] == second[3] == "00"
    assert first[2] != second[2] and "b7ad6b7169203331" not in (first[2], second[2])
    assert upstream.requests[0].headers["tracestate"] == "vendor=abc"
    assert "tracestate" not in upstream.requests[1].headers


@pytest.mark.parametrize(
    "traceparent",
    [
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",  # no flags
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",  # a version that is never valid
        "00-00000000000000000000000000000000-b7ad6b7169203331-00",  # zero trace id
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-00",  # zero parent id
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-00",  # upper case
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00-extra",  # version 00 has four fields
    ],
)
async def test_an_invalid_traceparent_is_ignored_and_a_new_trace_begins(
    traceparent: str, serve: Any, upstream: StubUpstream, exporter: InMemorySpanExporter
) -> None:
    async with serve() as served, served.client() as client:
        await client.get("/v1/check-api-key", headers={"traceparent": traceparent})

    (server,) = spans(exporter, SpanKind.SERVER)
    assert server.parent is None and server.context is not None
    assert hex_id(server.context.trace_id, 32) != INBOUND_TRACE_ID
    assert int(upstream.last.headers["traceparent"].rsplit("-", 1)[1], 16) & 1 == 1  # sampled


async def test_a_later_traceparent_version_with_more_fields_is_understood(
    serve: Any, upstream: StubUpstream, exporter: InMemorySpanExporter
) -> None:
    async with serve(tracing=Tracing(exporter, sampling=1.0, batch=False)) as served, served.client() as client:
        await client.get("/v1/check-api-key", headers={"traceparent": f"01-{INBOUND_TRACE_ID}-b7ad6b7169203331-00-x"})

    assert exporter.get_finished_spans() == ()
    assert upstream.last.headers["traceparent"].split("-")[1] == INBOUND_TRACE_ID


def test_new_traces_are_kept_in_the_share_the_sampling_ratio_says() -> None:
    tracing = Tracing(None, sampling=0.25)
    random.seed(20261129)
    kept = sum(not isinstance(tracing.begin(None), Unsampled) for _ in range(4000))
    assert 850 <= kept <= 1150
    assert all(not isinstance(Tracing(None, sampling=1.0).begin(None), Unsampled) for _ in range(200))
    assert all(isinstance(Tracing(None, sampling=0.0).begin(None), Unsampled) for _ in range(200))


async def test_recent_traces_summarise_each_call_with_its_upstream_attempts(serve: Any) -> None:
    async with serve() as served, served.client() as client:
        await client.get("/v1/check-api-key", headers={"traceparent": TRACEPARENT, "x-request-id": "req-8"})
        await client.post("/v1/force-sync", json={"type": "FULL"})
        assert served.telemetry.tracing.recent is not None
        refused, answered = served.telemetry.tracing.recent.snapshot()

    assert (answered["traceId"], answered["requestId"], answered["httpStatus"]) == (INBOUND_TRACE_ID, "req-8", 200)
    assert [(a["operation"], a["attempt"], a["httpStatus"]) for a in answered["upstream"]] == [
        ("kombo-general.getcheckapikey", 1, 200)
    ]
    assert (refused["outcome"], refused["upstream"]) == ("refused", [])


def test_the_service_is_named_naftiko_unless_the_environment_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    default = Tracing(None).provider.resource.attributes["service.name"]
    monkeypatch.setenv("OTEL_SERVICE_NAME", "shop-facade")
    named = Tracing(None).provider.resource.attributes["service.name"]
    assert (default, named) == ("naftiko", "shop-facade")
