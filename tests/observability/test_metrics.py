"""observability/metrics.py: what the series say after known calls, in process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import anyio
import pytest
from tests.consumer.upstream_stub import StubUpstream

from naftiko_runtime.consumer.guard import Resilience
from naftiko_runtime.consumer.retry import RetryPolicy
from naftiko_runtime.observability.metrics import worker_exited

pytestmark = pytest.mark.anyio

REST = {"adapter": "rest", "namespace": "kombo-general-rest"}
MCP = {"adapter": "mcp", "namespace": "kombo-general-mcp"}
CHECK = "kombo-general.getcheckapikey"


async def test_calls_errors_and_latencies_are_counted_per_route_and_tool(serve: Any, upstream: StubUpstream) -> None:
    async with serve() as served, served.client() as client:
        await client.get("/v1/check-api-key")
        await client.get("/v1/check-api-key")
        upstream.answer(404, json_body={"status": "error"})
        await client.get("/v1/integrations/nobody")
        await served.call_tool("get-integration-details", {"integration_id": "nobody"})
        upstream.answer(200)
        await served.call_tool("check-api-key")

        check = {**REST, "name": "GET /v1/check-api-key"}
        details = {**MCP, "name": "get-integration-details"}
        assert served.sample("naftiko_calls_total", **check) == 2
        assert served.sample("naftiko_call_errors_total", **check, status_class="4xx") == 0
        assert served.sample("naftiko_call_duration_seconds_count", **check) == 2
        assert served.sample("naftiko_calls_total", **REST, name="GET /v1/integrations/{integration-id}") == 1
        assert served.sample("naftiko_calls_total", **details) == 1
        assert served.sample("naftiko_call_errors_total", **details, status_class="4xx") == 1
        assert served.sample("naftiko_calls_total", **MCP, name="check-api-key") == 1
        assert served.sample("naftiko_calls_in_flight", **REST) == 0


async def test_upstream_attempts_are_timed_and_counted_per_operation_and_status(
    serve: Any, upstream: StubUpstream
) -> None:
    resilience = Resilience(retry=RetryPolicy(retries=1, base_delay=0.01, max_delay=0.01))
    async with serve(resilience=resilience) as served, served.client() as client:
        await client.get("/v1/check-api-key")
        upstream.answer(503, json_body={"status": "error"})
        answer = await client.get("/v1/check-api-key")

        assert answer.status_code == 503
        assert served.sample("naftiko_upstream_requests_total", operation=CHECK, status="200") == 1
        assert served.sample("naftiko_upstream_requests_total", operation=CHECK, status="503") == 2
        assert served.sample("naftiko_upstream_retries_total", operation=CHECK) == 1
        assert served.sample("naftiko_upstream_request_duration_seconds_count", operation=CHECK) == 3
        assert served.sample("naftiko_call_errors_total", **REST, name="GET /v1/check-api-key", status_class="5xx") == 1


async def test_the_mock_upstream_is_watched_as_a_real_one_is(serve: Any, upstream: StubUpstream) -> None:
    async with serve(mock=True) as served, served.client() as client:
        answer = await client.get("/v1/check-api-key")

        assert answer.status_code == 200 and upstream.requests == []
        assert served.sample("naftiko_upstream_requests_total", operation=CHECK, status="200") == 1
        assert served.sample("naftiko_upstream_request_duration_seconds_count", operation=CHECK) == 1


async def test_refused_calls_are_counted_by_reason_and_as_calls(serve: Any, upstream: StubUpstream) -> None:
    async with serve() as served, served.client() as client:
        refused = await client.post("/v1/force-sync", json={"type": "FULL"})  # X-Integration-Id missing
        await served.call_tool("get-integration-details", {})

        assert refused.status_code == 400
        assert served.sample("naftiko_rejected_calls_total", **REST, reason="validation") == 1
        assert served.sample("naftiko_rejected_calls_total", **MCP, reason="validation") == 1
        sync = {**REST, "name": "POST /v1/force-sync"}
        assert served.sample("naftiko_calls_total", **sync) == 1
        assert served.sample("naftiko_call_errors_total", **sync, status_class="4xx") == 1
        assert upstream.requests == []


async def test_a_call_refused_because_the_upstream_is_busy_counts_as_backpressure(
    serve: Any, upstream: StubUpstream
) -> None:
    upstream.hold()
    async with serve(resilience=Resilience(max_concurrency=1, max_queue=0)) as served, served.client() as client:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(client.get, "/v1/check-api-key")
            with anyio.fail_after(5):
                while not upstream.requests:
                    await anyio.sleep(0.01)
            busy = await client.get("/v1/check-api-key")
            await upstream.stop()  # lets the held call end
            tasks.cancel_scope.cancel()

        assert busy.status_code == 503
        assert served.sample("naftiko_rejected_calls_total", **REST, reason="backpressure") == 1


async def test_calls_in_flight_rise_during_a_call_and_fall_after(serve: Any, upstream: StubUpstream) -> None:
    upstream.hold()
    async with serve() as served:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(served.call_tool, "check-api-key")
            with anyio.fail_after(5):
                while not upstream.requests:
                    await anyio.sleep(0.01)
            during = served.sample("naftiko_calls_in_flight", **MCP)
            await upstream.stop()
        assert (during, served.sample("naftiko_calls_in_flight", **MCP)) == (1, 0)


async def test_series_are_labelled_with_spec_names_never_with_what_callers_send(serve: Any) -> None:
    async with serve() as served, served.client() as client:
        await client.get("/v1/integrations/caller-chosen-id", headers={"x-request-id": "caller-chosen-request"})
        await client.get("/v1/no-such-route/caller-chosen-path")
        text = served.metrics.exposition().decode()
    assert 'name="GET /v1/integrations/{integration-id}"' in text
    assert "caller-chosen" not in text


def test_in_multiprocess_mode_the_values_of_every_worker_are_summed(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import os, sys
        from naftiko_runtime.observability.metrics import Metrics
        metrics = Metrics()
        metrics.upstream_retries.labels("ns.op").inc(int(sys.argv[1]))
        metrics.in_flight.labels("rest", "ns").inc()
        sys.stderr.write(str(os.getpid()))
        sys.stdout.write(metrics.exposition().decode())
        """
    )
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

    def worker(count: int) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-c", script, str(count)], env=environment, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done

    first = worker(2)
    worker_exited(int(first.stderr), str(tmp_path))
    second = worker(3).stdout
    assert 'naftiko_upstream_retries_total{operation="ns.op"} 5.0' in second
    # The first worker ended: its calls in flight are no longer counted, its retries are.
    assert 'naftiko_calls_in_flight{adapter="rest",namespace="ns"} 1.0' in second
