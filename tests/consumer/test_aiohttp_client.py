"""consumer/aiohttp_client.py: AiohttpClient against a real aiohttp.web server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
from collections.abc import AsyncIterator, Iterator

import anyio
import pytest

from naftiko_runtime.consumer.aiohttp_client import AiohttpClient
from naftiko_runtime.consumer.client import (
    Timeouts,
    UpstreamRequest,
    UpstreamResponse,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from tests.consumer.upstream_stub import StubUpstream

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client() -> AsyncIterator[AiohttpClient]:
    client = AiohttpClient(Timeouts(connect=2.0, read=5.0))
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening: connecting to it is refused, and nobody else can take it meanwhile."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def test_the_request_arrives_exactly_as_built(upstream: StubUpstream, client: AiohttpClient) -> None:
    request = UpstreamRequest(
        "PUT",
        upstream.url + "/v1/integrations/a%2F..%2Fb/enabled?cursor=a%20b&tag=x&tag=y",
        (("X-Integration-Id", "personio:1"), ("Content-Type", "application/json")),
        b'{"value": true}',
    )

    with anyio.fail_after(10):
        response = await client.send(request)

    assert response.status == 200
    received = upstream.last
    assert received.method == "PUT"
    assert received.raw_path == "/v1/integrations/a%2F..%2Fb/enabled"
    assert received.query == [("cursor", "a b"), ("tag", "x"), ("tag", "y")]
    assert received.headers["X-Integration-Id"] == "personio:1"
    assert received.headers["Content-Type"] == "application/json"
    assert received.body == b'{"value": true}'


async def test_encoded_dot_segments_are_not_normalised_away(upstream: StubUpstream, client: AiohttpClient) -> None:
    with anyio.fail_after(10):
        await client.send(UpstreamRequest("GET", upstream.url + "/items/%2E%2E/parts"))

    assert upstream.last.raw_path == "/items/%2E%2E/parts"


async def test_no_user_agent_header_is_added(upstream: StubUpstream, client: AiohttpClient) -> None:
    with anyio.fail_after(10):
        await client.send(UpstreamRequest("GET", upstream.url + "/x"))

    assert "User-Agent" not in upstream.last.headers


async def test_a_cookie_one_answer_sets_never_rides_along_on_later_requests(
    upstream: StubUpstream, client: AiohttpClient
) -> None:
    upstream.answer(200, headers={"Set-Cookie": "session=caller-one; Path=/"})
    named = f"http://localhost:{upstream.port}"  # a cookie jar keeps no cookie of a bare IP address
    await client.send(UpstreamRequest("GET", f"{named}/v1/first"))
    await client.send(UpstreamRequest("GET", f"{named}/v1/second"))
    assert "cookie" not in {name.lower() for name in upstream.last.headers}


async def test_the_answer_comes_back_with_status_lower_case_headers_and_body(
    upstream: StubUpstream, client: AiohttpClient
) -> None:
    upstream.answer(201, json_body={"status": "success"}, headers={"Concurrency-Remaining": "3"})

    with anyio.fail_after(10):
        response = await client.send(UpstreamRequest("POST", upstream.url + "/force-sync", (), b"{}"))

    assert response.status == 201
    assert response.headers["concurrency-remaining"] == "3"
    assert response.content_type == "application/json"
    assert response.body == b'{"status": "success"}'


async def test_an_error_status_is_an_answer_not_an_exception(upstream: StubUpstream, client: AiohttpClient) -> None:
    upstream.answer(404, json_body={"status": "error", "error": {"message": "not found"}})

    with anyio.fail_after(10):
        response = await client.send(UpstreamRequest("GET", upstream.url + "/integrations/nope"))

    assert response.status == 404
    assert b"not found" in response.body


async def test_redirects_are_returned_not_followed(upstream: StubUpstream, client: AiohttpClient) -> None:
    upstream.answer(302, body=b"", content_type=None, headers={"Location": "/elsewhere"})

    with anyio.fail_after(10):
        response = await client.send(UpstreamRequest("GET", upstream.url + "/old"))

    assert response.status == 302
    assert response.headers["location"] == "/elsewhere"
    assert len(upstream.requests) == 1


async def test_a_gzip_answer_is_decompressed(upstream: StubUpstream, client: AiohttpClient) -> None:
    upstream.answer(body=gzip.compress(b'{"a": 1}'), headers={"Content-Encoding": "gzip"})

    with anyio.fail_after(10):
        response = await client.send(UpstreamRequest("GET", upstream.url + "/x"))

    assert response.body == b'{"a": 1}'


async def test_a_refused_connection_is_upstream_unreachable_naming_host_and_port(closed_port: int) -> None:
    client = AiohttpClient(Timeouts(connect=2.0, read=2.0))
    try:
        with anyio.fail_after(10), pytest.raises(UpstreamUnreachable) as caught:
            await client.send(UpstreamRequest("GET", f"http://127.0.0.1:{closed_port}/x"))
    finally:
        await client.close()

    assert str(caught.value) == f"cannot connect to 127.0.0.1:{closed_port}"


async def send_once(timeouts: Timeouts, url: str) -> UpstreamResponse:
    """One GET through a client of its own, closed after."""
    client = AiohttpClient(timeouts)
    try:
        with anyio.fail_after(10):
            return await client.send(UpstreamRequest("GET", url))
    finally:
        await client.close()


async def test_an_answer_slower_than_the_read_timeout_is_upstream_timeout(upstream: StubUpstream) -> None:
    upstream.hold()
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout) as caught:
        await send_once(Timeouts(connect=2.0, read=0.2), upstream.url + "/slow")

    assert time.monotonic() - started >= 0.2  # never early
    assert str(caught.value) == "no answer within 0.2 s"
    assert caught.value.sent
    assert len(upstream.requests) == 1


async def test_a_body_that_stops_arriving_for_the_read_timeout_is_upstream_timeout(upstream: StubUpstream) -> None:
    upstream.trickle(2, every=None)
    with pytest.raises(UpstreamTimeout) as caught:
        await send_once(Timeouts(connect=2.0, read=0.2, total=None), upstream.url + "/stalls")

    assert str(caught.value) == "no answer within 0.2 s"


async def test_a_body_arriving_in_parts_within_the_read_timeout_is_read_whole_however_long_it_takes(
    upstream: StubUpstream,
) -> None:
    upstream.answer(body=b"part;", content_type="text/plain")
    upstream.trickle(4, every=0.35)
    started = time.monotonic()
    response = await send_once(Timeouts(connect=2.0, read=1.0, total=None), upstream.url + "/parts")

    assert time.monotonic() - started > 1.0  # longer than the read limit, which counts between parts
    assert response.body == b"part;" * 4


async def test_an_answer_still_arriving_at_the_total_timeout_is_upstream_timeout(upstream: StubUpstream) -> None:
    upstream.trickle(50, every=0.05)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout) as caught:
        await send_once(Timeouts(connect=2.0, read=1.0, total=0.4), upstream.url + "/endless")

    assert time.monotonic() - started >= 0.4
    assert str(caught.value) == "no complete answer within 0.4 s"


async def test_a_timed_out_answer_s_connection_is_not_reused_for_the_next_request(upstream: StubUpstream) -> None:
    upstream.answer(body=b"stale-part;", content_type="text/plain")
    upstream.trickle(2, every=None)
    client = AiohttpClient(Timeouts(connect=2.0, read=0.2, total=None))
    try:
        with anyio.fail_after(10):
            with pytest.raises(UpstreamTimeout):
                await client.send(UpstreamRequest("GET", upstream.url + "/stalls"))
            upstream.answer(body=b'{"fresh": true}')
            response = await client.send(UpstreamRequest("GET", upstream.url + "/next"))
    finally:
        await client.close()

    assert response.status == 200
    assert response.body == b'{"fresh": true}'


async def test_cancelling_the_caller_during_an_attempt_is_a_cancellation_not_a_timeout(
    upstream: StubUpstream,
) -> None:
    upstream.hold()
    client = AiohttpClient(Timeouts(connect=2.0, read=30.0))
    try:
        with anyio.fail_after(10):
            task = asyncio.ensure_future(client.send(UpstreamRequest("GET", upstream.url + "/slow")))
            await upstream.arrivals(1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    finally:
        await client.close()


async def test_sequential_calls_reuse_one_keep_alive_connection(upstream: StubUpstream, client: AiohttpClient) -> None:
    with anyio.fail_after(10):
        for index in range(3):
            await client.send(UpstreamRequest("GET", f"{upstream.url}/n/{index}"))

    ports = {received.client_port for received in upstream.requests}
    assert len(upstream.requests) == 3
    assert len(ports) == 1


async def test_a_closed_client_opens_a_new_session_on_the_next_call(upstream: StubUpstream) -> None:
    client = AiohttpClient(Timeouts(connect=2.0, read=5.0))
    try:
        with anyio.fail_after(10):
            await client.send(UpstreamRequest("GET", upstream.url + "/a"))
            await client.close()
            response = await client.send(UpstreamRequest("GET", upstream.url + "/b"))
    finally:
        await client.close()

    assert response.status == 200
    assert [received.raw_path for received in upstream.requests] == ["/a", "/b"]
