"""observability/logs.py: one line per call, with its fields, as text or JSON, and nothing secret."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from types import SimpleNamespace
from typing import Any

import anyio
import pytest
from tests.conftest import SecretTripwire
from tests.consumer.upstream_stub import StubUpstream

from naftiko_runtime.consumer.guard import Resilience
from naftiko_runtime.observability.logs import FLUSH_SECONDS, CallLines, CallLog, JsonFormatter, _Clock
from naftiko_runtime.observability.telemetry import Telemetry, TelemetryOptions

pytestmark = pytest.mark.anyio
RECORD: Any = SimpleNamespace(request_id="id-1")
TEXT_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO naftiko\.calls: ")


async def test_each_call_writes_one_text_line_with_its_fields(serve: Any, upstream: StubUpstream) -> None:
    stream = io.StringIO()
    async with serve(log_stream=stream) as served, served.client() as client:
        await client.get("/v1/check-api-key", headers={"x-request-id": "req-42"})
        upstream.answer(404, json_body={"status": "error"})
        await served.call_tool("get-integration-details", {"integration_id": "nobody"})

    first, second = stream.getvalue().splitlines()
    assert TEXT_PREFIX.match(first) and TEXT_PREFIX.match(second)
    first = TEXT_PREFIX.sub("", first)
    assert first.startswith(
        'call request_id=req-42 adapter=rest namespace=kombo-general-rest route="GET /v1/check-api-key" '
        "upstream=kombo-general.getcheckapikey upstream_status=200 retries=0 duration_ms="
    )
    assert first.endswith(" status=200 outcome=ok")
    assert "adapter=mcp namespace=kombo-general-mcp tool=get-integration-details" in second
    assert "upstream_status=404" in second and second.endswith(" status=404 outcome=upstream_error")


async def test_a_json_line_carries_the_same_fields_as_members(serve: Any) -> None:
    stream = io.StringIO()
    async with serve(log_format="json", log_stream=stream) as served, served.client() as client:
        await client.get("/v1/check-api-key", headers={"x-request-id": "req-43"})
        await client.post("/v1/force-sync", json={"type": "FULL"})

    answered, refused = (json.loads(line) for line in stream.getvalue().splitlines())
    assert answered["duration_ms"] >= 0 and answered["time"].endswith("+00:00")
    del answered["time"], answered["duration_ms"]
    assert answered == {
        "level": "info",
        "logger": "naftiko.calls",
        "message": "call",
        "request_id": "req-43",
        "adapter": "rest",
        "namespace": "kombo-general-rest",
        "route": "GET /v1/check-api-key",
        "upstream_operation": "kombo-general.getcheckapikey",
        "upstream_status": 200,
        "retries": 0,
        "status": 200,
        "outcome": "ok",
    }
    assert (refused["status"], refused["outcome"], refused["reason"]) == (400, "refused", "validation")
    assert refused["request_id"] != answered["request_id"]


async def test_call_lines_hold_no_secret_no_header_and_no_upstream_query(
    serve: Any, upstream: StubUpstream, api_key: str, secret_tripwire: SecretTripwire
) -> None:
    stream = io.StringIO()
    async with serve(log_stream=stream) as served, served.client() as client:
        await client.get("/v1/integrations/x/custom-fields", params={"cursor": "page-two-cursor"})
    assert upstream.last.headers["authorization"] == f"Bearer {api_key}"
    text = stream.getvalue()
    secret_tripwire.record("call log lines", text)
    assert len(text.splitlines()) == 1
    assert api_key not in text and "Bearer" not in text and "page-two-cursor" not in text


async def test_a_cancelled_call_is_logged_as_cancelled(serve: Any, upstream: StubUpstream) -> None:
    stream = io.StringIO()
    upstream.hold()
    async with serve(log_stream=stream) as served:
        with anyio.move_on_after(0.3):
            await served.call_tool("check-api-key")
        await upstream.stop()
    assert stream.getvalue().endswith(" status=499 outcome=cancelled\n")


async def test_lines_are_written_in_a_batch_soon_after_the_calls() -> None:
    stream = io.StringIO()
    lines = CallLines(stream)
    lines.write(lambda stamp, record: "one\n", RECORD)
    lines.write(lambda stamp, record: "two\n", RECORD)
    assert stream.getvalue() == ""
    await anyio.sleep(FLUSH_SECONDS * 3)
    assert stream.getvalue() == "one\ntwo\n"


def test_outside_an_event_loop_a_line_is_written_at_once() -> None:
    stream = io.StringIO()
    CallLines(stream).write(lambda stamp, record: f"{record.request_id} now\n", RECORD)
    assert stream.getvalue() == "id-1 now\n"


def test_above_info_no_call_logger_is_bound() -> None:
    quiet = Telemetry(TelemetryOptions(log_calls=False))
    assert quiet.observers() == [] and not quiet.active
    bound = Telemetry(TelemetryOptions()).observers()
    assert [type(bind.__self__) for bind in bound] == [CallLog]  # type: ignore[attr-defined]


def test_json_lines_format_every_other_record_with_its_exception() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("naftiko.serve", logging.ERROR, __file__, 1, "failed %s", ("here",), None)
        record.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record))
    assert (line["level"], line["logger"], line["message"]) == ("error", "naftiko.serve", "failed here")
    assert "ValueError: boom" in line["exception"]


async def test_a_call_refused_because_the_upstream_is_busy_says_so(serve: Any, upstream: StubUpstream) -> None:
    stream = io.StringIO()
    upstream.hold()
    limited = Resilience(max_concurrency=1, max_queue=0)
    async with (
        serve(log_stream=stream, resilience=limited) as served,
        served.client() as client,
        anyio.create_task_group() as tasks,
    ):
        tasks.start_soon(client.get, "/v1/check-api-key")
        with anyio.fail_after(5):
            while not upstream.requests:
                await anyio.sleep(0.01)
        await client.get("/v1/check-api-key")
        await upstream.stop()
        tasks.cancel_scope.cancel()
    busy = next(line for line in stream.getvalue().splitlines() if "status=503" in line)
    assert " upstream=kombo-general.getcheckapikey upstream_status=- retries=0 " in busy
    assert busy.endswith(" status=503 outcome=refused reason=backpressure")


@pytest.mark.parametrize("iso", [False, True])
def test_time_stamps_match_the_log_records_and_change_with_each_millisecond(iso: bool) -> None:
    clock = _Clock(iso=iso)
    formatter = JsonFormatter() if iso else logging.Formatter()

    def expected(now: float) -> str:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
        record.created, record.msecs = now, int(now * 1000) % 1000
        return json.loads(formatter.format(record))["time"] if iso else formatter.formatTime(record)

    stamps = []
    for now in (1_700_000_000.0004, 1_700_000_000.0009, 1_700_000_000.0012, 1_700_000_000.9995, 1_700_000_001.25):
        stamps.append(clock.at(now))
        assert stamps[-1] == expected(now)
    assert stamps[0] == stamps[1] and len(set(stamps)) == 4
