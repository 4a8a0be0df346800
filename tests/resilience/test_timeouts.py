"""Timeouts: connect, read and total, per namespace and per operation, each failure a 504 naming the operation."""

from __future__ import annotations

import argparse
import time

import anyio
import httpx
import pytest

from naftiko_runtime.cli import main
from naftiko_runtime.cli_upstream import add_upstream_arguments, upstream_options
from naftiko_runtime.consumer.aiohttp_client import AiohttpClient
from naftiko_runtime.consumer.client import Timeouts, UpstreamRequest, UpstreamTimeout
from naftiko_runtime.consumer.guard import Resilience, TimeoutOverride, resolve_timeouts
from naftiko_runtime.runtime import RuntimeOptions, build_runtime
from tests.conftest import SecretTripwire
from tests.e2e.mcp_client import connect
from tests.fakes.faulty import FaultyUpstream, slow
from tests.resilience.conftest import SHOP, shop_server, stopped

pytestmark = pytest.mark.anyio


def _parsed(*argv: str) -> tuple[Timeouts, Resilience]:
    parser = argparse.ArgumentParser()
    add_upstream_arguments(parser)
    return upstream_options(parser.parse_args(argv))


def test_an_operations_timeouts_override_its_namespaces_which_override_the_defaults() -> None:
    defaults = Timeouts(connect=5.0, read=30.0, total=60.0)
    overrides = {"shop": TimeoutOverride(read=10.0, total=20.0), "shop.get-report": TimeoutOverride(total=0.0)}

    assert resolve_timeouts(defaults, overrides, "shop") == Timeouts(connect=5.0, read=10.0, total=20.0)
    assert resolve_timeouts(defaults, overrides, "shop", "shop.get-report") == Timeouts(5.0, 10.0, None)
    assert resolve_timeouts(defaults, overrides, "other", "other.x") == defaults


def test_timeout_flags_take_a_bare_default_or_a_namespace_or_an_operation() -> None:
    defaults, resilience = _parsed(
        "--connect-timeout", "2", "--upstream-timeout", "0", "--read-timeout", "shop=3",
        "--upstream-timeout", "shop.get-report=0.5", "--read-timeout", "shop.get-report=9",
    )  # fmt: skip

    assert defaults == Timeouts(connect=2.0, read=30.0, total=None)
    assert resilience.timeouts == {
        "shop": TimeoutOverride(read=3.0),
        "shop.get-report": TimeoutOverride(read=9.0, total=0.5),
    }


def test_without_flags_an_attempt_has_the_documented_defaults() -> None:
    defaults, resilience = _parsed()

    assert defaults == Timeouts(connect=5.0, read=30.0, total=60.0)
    assert resilience.timeouts == {}
    assert resilience.retry.retries == 2


@pytest.mark.parametrize("value", ["soon", "shop=", "=3", "-1", "shop=nan"])
def test_a_malformed_timeout_is_a_usage_error_naming_the_flag(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", str(SHOP), "--upstream-timeout", value]) == 2
    assert "--upstream-timeout expects SECONDS or KEY=SECONDS" in capsys.readouterr().err


async def test_a_timeout_for_an_unknown_namespace_is_a_warning_at_start() -> None:
    overrides = {"shop.get-report": TimeoutOverride(total=1.0), "shoop": TimeoutOverride(read=1.0)}
    runtime = build_runtime([SHOP], RuntimeOptions(environ={}, resilience=Resilience(timeouts=overrides)))
    await runtime.close()

    warnings = [str(d) for d in runtime.diagnostics if "timeout for" in d.message]
    assert len(warnings) == 1 and "timeout for shoop names no consumes namespace or operation" in warnings[0]


async def test_a_read_timeout_is_upstream_timeout_naming_the_wait(faulty: FaultyUpstream) -> None:
    faulty.script(slow(3.0))
    client = AiohttpClient(Timeouts(connect=2.0, read=0.3, total=10.0))
    try:
        with anyio.fail_after(10), pytest.raises(UpstreamTimeout) as caught:
            await client.send(UpstreamRequest("GET", faulty.url + "/items/1"))
    finally:
        await client.close()

    assert str(caught.value) == "no answer within 0.3 s"


async def test_a_requests_own_timeouts_replace_the_clients(faulty: FaultyUpstream) -> None:
    faulty.script(slow(3.0))
    client = AiohttpClient(Timeouts(connect=2.0, read=30.0, total=60.0))
    request = UpstreamRequest("GET", faulty.url + "/report", timeouts=Timeouts(connect=2.0, read=30.0, total=0.2))
    try:
        with anyio.fail_after(10), pytest.raises(UpstreamTimeout) as caught:
            await client.send(request)
    finally:
        await client.close()

    assert str(caught.value) == "no complete answer within 0.2 s"


async def test_namespace_and_operation_timeouts_from_the_command_line_answer_504_naming_the_operation(
    faulty: FaultyUpstream, secret_tripwire: SecretTripwire
) -> None:
    faulty.set_default(slow(5.0))
    args = ["--read-timeout", "shop=1", "--upstream-timeout", "shop.get-report=0.4", "--upstream-timeout", "nope=2"]
    with shop_server(faulty, *args) as server:
        server.wait_ready()
        with anyio.fail_after(30):
            async with httpx.AsyncClient(timeout=10) as http:
                started = time.monotonic()
                report = await http.get(f"{server.rest_url}/report")
                report_seconds = time.monotonic() - started
                started = time.monotonic()
                items = await http.get(f"{server.rest_url}/items/1")
                item_seconds = time.monotonic() - started
            async with connect(server.mcp_url) as mcp:
                tool = await mcp.call_tool("get-report", {})
        output = stopped(server, secret_tripwire)

    assert report.status_code == 504
    assert report.headers["content-type"] == "application/problem+json"
    assert report.json()["operation"] == "shop.get-report"
    assert report.json()["detail"] == "upstream shop.get-report timed out: no complete answer within 0.4 s"
    assert 0.3 < report_seconds < 2.0
    assert items.status_code == 504
    assert items.json()["detail"] == "upstream shop.get-item timed out: no answer within 1 s"
    assert 0.9 < item_seconds < 3.0
    assert tool.is_error
    assert "Gateway Timeout (504): upstream shop.get-report timed out" in tool.content[0].text  # type: ignore[union-attr]
    assert len(faulty.seen) == 3  # timeouts are not retried
    assert "timeout for nope names no consumes namespace" in output
