"""Bounded memory: upstream answers read up to a cap, inbound bodies capped, JSON nesting capped everywhere."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import AsyncIterator, Iterator

import anyio
import httpx
import pytest

from naftiko_runtime.consumer.aiohttp_client import AiohttpClient
from naftiko_runtime.consumer.client import Timeouts, UpstreamRequest, UpstreamTooLarge
from naftiko_runtime.json_depth import MAX_JSON_DEPTH, JsonTooDeep, bounded_loads, too_deep
from tests.conftest import SecretTripwire
from tests.e2e.mcp_client import connect
from tests.e2e.server import NaftikoServer
from tests.fakes.faulty import FaultyUpstream, Reply, deep_json, html_page, oversized, truncated
from tests.resilience.conftest import marker, shop_server, stopped

pytestmark = pytest.mark.anyio

CAP = 200_000
HUGE = 64 * 1024 * 1024


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# -- JSON nesting


@pytest.mark.parametrize(
    ("document", "depth"),
    [
        ("[]", 1),
        ('{"a": {"b": [1, {"c": null}]}}', 4),
        ('{"text": "[[[[[[[[[[[[", "list": [[]]}', 3),  # brackets inside strings do not count
        ('{"q": "\\"[[[[\\\\", "x": [[[]]]}', 4),  # nor do they after escaped quotes and backslashes
        ('[{"a": 1}, {"b": [2]}, [], {}]', 3),
        ("3", 0),
    ],
)
def test_nesting_depth_is_measured_outside_strings(document: str, depth: int) -> None:
    data = document.encode()

    assert too_deep(data, depth) is False
    assert too_deep(data, depth - 1) is (depth > 0)
    assert bounded_loads(data, max(depth, 1)) == json.loads(document)


def test_a_long_flat_document_is_within_the_limit() -> None:
    document = json.dumps([{"id": i, "tags": ["a", "b"], "name": "[x]"} for i in range(5000)]).encode()

    assert bounded_loads(document) == json.loads(document)


def test_json_nested_deeper_than_the_limit_is_refused_and_never_recurses() -> None:
    assert bounded_loads(nested(MAX_JSON_DEPTH)) is not None
    for document in (nested(MAX_JSON_DEPTH + 1), nested(200_000), "[" * 200_000, '{"a":' * 100_000):
        with pytest.raises(JsonTooDeep, match=f"nested more than {MAX_JSON_DEPTH} levels deep"):
            bounded_loads(document)


def test_json_too_deep_is_a_value_error_so_existing_handlers_refuse_it() -> None:
    assert issubclass(JsonTooDeep, ValueError)


# -- upstream answer size, in-process


@pytest.fixture
async def capped() -> AsyncIterator[AiohttpClient]:
    client = AiohttpClient(Timeouts(connect=2.0, read=5.0, total=10.0), max_body=CAP)
    try:
        yield client
    finally:
        await client.close()


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "chunked"])
async def test_an_answer_over_the_cap_is_refused_without_reading_it_all(
    faulty: FaultyUpstream, capped: AiohttpClient, declare_length: bool
) -> None:
    faulty.script(oversized(HUGE, declare_length=declare_length))

    with anyio.fail_after(10), pytest.raises(UpstreamTooLarge) as caught:
        await capped.send(UpstreamRequest("GET", faulty.url + "/big"))

    assert f"exceeds the {CAP}-byte limit" in str(caught.value)
    streamed = await anyio.to_thread.run_sync(faulty.wait_streamed, 1)
    assert streamed[0] < HUGE / 4


async def test_an_answer_of_exactly_the_cap_is_accepted(faulty: FaultyUpstream, capped: AiohttpClient) -> None:
    faulty.script(Reply(body=b" " * CAP), Reply(stream=CAP, declare_length=False))

    with anyio.fail_after(10):
        first = await capped.send(UpstreamRequest("GET", faulty.url + "/exact"))
        second = await capped.send(UpstreamRequest("GET", faulty.url + "/exact"))

    assert len(first.body) == len(second.body) == CAP


async def test_a_compressed_answer_is_capped_by_its_decompressed_size(
    faulty: FaultyUpstream, capped: AiohttpClient
) -> None:
    bomb = gzip.compress(b" " * (CAP * 20))
    faulty.script(Reply(body=bomb, headers=(("Content-Encoding", "gzip"),)))

    with anyio.fail_after(10), pytest.raises(UpstreamTooLarge):
        await capped.send(UpstreamRequest("GET", faulty.url + "/bomb"))

    assert len(bomb) < CAP


# -- through `naftiko serve`


@pytest.fixture(scope="module")
def served(faulty: FaultyUpstream, secret_tripwire: SecretTripwire) -> Iterator[NaftikoServer]:
    with shop_server(faulty, "--max-upstream-body-bytes", str(CAP)) as server:
        server.wait_ready()
        yield server
        stopped(server, secret_tripwire)


async def test_an_oversized_upstream_answer_is_502_naming_the_operation_and_the_limit(
    faulty: FaultyUpstream, served: NaftikoServer
) -> None:
    faulty.script(oversized(HUGE), oversized(HUGE, declare_length=False))

    with anyio.fail_after(20):
        async with httpx.AsyncClient(timeout=10) as http:
            started = time.monotonic()
            rest = await http.get(f"{served.rest_url}/items/1")
            seconds = time.monotonic() - started
        async with connect(served.mcp_url) as mcp:
            tool = await mcp.call_tool("get-item", {"id": "1", "marker": marker()})

    assert rest.status_code == 502
    assert rest.json()["operation"] == "shop.get-item"
    assert f"the answer exceeds the {CAP}-byte limit" in rest.json()["detail"]
    assert seconds < 3.0
    assert tool.is_error and f"shop.get-item: the answer exceeds the {CAP}-byte limit" in tool.content[0].text  # type: ignore[union-attr]
    assert len(faulty.seen) == 2  # a refused size is not retried


async def test_truncated_and_html_answers_are_502_naming_the_operation(
    faulty: FaultyUpstream, served: NaftikoServer
) -> None:
    faulty.script(truncated(), truncated(), truncated(), html_page(), on="GET /items/1")
    faulty.script(html_page(), on="GET /items/2")

    with anyio.fail_after(20):
        async with httpx.AsyncClient(timeout=10) as http:
            cut = await http.get(f"{served.rest_url}/items/1")
            page = await http.get(f"{served.rest_url}/items/1")
        async with connect(served.mcp_url) as mcp:
            tool = await mcp.call_tool("get-item", {"id": "2", "marker": marker()})

    assert cut.status_code == 502
    assert cut.json()["detail"] == (
        "upstream shop.get-item unreachable: the connection broke before the whole answer arrived (3 attempts)"
    )
    assert page.status_code == 502
    assert "answered text/html, not the JSON" in page.json()["detail"]
    assert tool.is_error and "shop.get-item answered text/html" in tool.content[0].text  # type: ignore[union-attr]


async def test_deeply_nested_upstream_json_is_an_error_where_it_is_parsed(
    faulty: FaultyUpstream, served: NaftikoServer
) -> None:
    deep = deep_json(50_000)
    faulty.script(deep, deep)

    with anyio.fail_after(20):
        async with connect(served.mcp_url) as mcp:
            tool = await mcp.call_tool("get-item", {"id": "1", "marker": marker()})
        async with httpx.AsyncClient(timeout=10) as http:
            rest = await http.get(f"{served.rest_url}/items/1")

    text = tool.content[0].text  # type: ignore[union-attr]
    assert tool.is_error and "Bad Gateway (502): upstream shop.get-item answered JSON nested more than 64" in text
    # REST passes an unmapped JSON answer on as bytes, never parsing it.
    assert rest.status_code == 200 and rest.content == deep.body


async def test_inbound_bodies_too_large_are_413_and_too_deep_are_400(served: NaftikoServer) -> None:
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    big = b'{"marker": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    deep = ('{"marker": "m", "item": ' + nested(100_000) + "}").encode()
    deep_rpc = ('{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": ' + nested(100_000) + "}").encode()

    with anyio.fail_after(20):
        async with httpx.AsyncClient(timeout=10, headers=headers) as http:
            rest_big = await http.post(f"{served.rest_url}/orders", content=big)
            rest_deep = await http.post(f"{served.rest_url}/orders", content=deep)
            mcp_big = await http.post(served.mcp_url, content=big)
            mcp_deep = await http.post(served.mcp_url, content=deep_rpc)

    assert rest_big.status_code == 413
    assert rest_big.json()["detail"] == "request body exceeds 4194304 bytes"
    assert rest_deep.status_code == 400
    assert rest_deep.json()["errors"] == [
        {"location": "body", "message": "request body is JSON nested more than 64 levels deep"}
    ]
    assert mcp_big.status_code == 413
    assert mcp_deep.status_code == 400
    assert mcp_deep.json()["error"]["code"] == -32700
