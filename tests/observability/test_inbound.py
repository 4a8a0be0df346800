"""observability/inbound.py: request ids and trace contexts where calls come in."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from starlette.datastructures import Headers

from naftiko_runtime.adapters.asgi import Message
from naftiko_runtime.adapters.health import Health
from naftiko_runtime.adapters.rest import RestApp
from naftiko_runtime.observability.context import INBOUND, Inbound
from naftiko_runtime.observability.inbound import McpCalls, RequestIds

pytestmark = pytest.mark.anyio
FIELDS = frozenset({"traceparent", "tracestate"})


def rest_app(ids: RequestIds) -> RestApp:
    return RestApp([], Health([]), request_ids=ids)


async def request(app: Any, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://naftiko") as client:
        return await client.get("/anything", headers=headers)


async def ignore(message: Message) -> None:
    return None


def entered(ids: RequestIds, headers: dict[str, str]) -> Inbound | None:
    """What the calls of a request with `headers` see."""
    scope = {"type": "http", "headers": [(name.encode(), value.encode()) for name, value in headers.items()]}
    token, _ = ids.enter(scope, ignore)
    try:
        return INBOUND.get()
    finally:
        INBOUND.reset(token)


async def test_a_usable_request_id_is_kept_and_returned_on_the_answer() -> None:
    ids = RequestIds(FIELDS)
    answer = await request(rest_app(ids), {"x-request-id": "client-id.1", "traceparent": "t"})
    assert answer.status_code == 404 and answer.headers["x-request-id"] == "client-id.1"
    assert entered(ids, {"x-request-id": "client-id.1", "traceparent": "t"}) == Inbound(
        "client-id.1", {"traceparent": "t"}
    )
    assert INBOUND.get() is None


@pytest.mark.parametrize("sent", ["", "two words", "x" * 129, 'quote"d', "new\tline"])
async def test_an_unusable_request_id_is_replaced_by_a_new_one(sent: str) -> None:
    answer = await request(rest_app(RequestIds()), {"x-request-id": sent})
    made = answer.headers["x-request-id"]
    assert made != sent and len(made) == 16
    seen = entered(RequestIds(), {"x-request-id": sent})
    assert seen is not None and seen.request_id not in (sent, made) and seen.carrier is None


async def test_every_answer_carries_a_request_id_of_its_own() -> None:
    app = rest_app(RequestIds())
    first, second = await request(app, {}), await request(app, {})
    assert len({first.headers["x-request-id"], second.headers["x-request-id"]}) == 2


async def test_without_tracing_no_trace_header_is_read() -> None:
    seen = entered(RequestIds(), {"traceparent": "t"})
    assert seen is not None and seen.carrier is None


def mcp_context(method: str, headers: dict[str, str] | None, meta: dict[str, Any] | None = None) -> Any:
    request = SimpleNamespace(headers=Headers(headers)) if headers is not None else None
    return SimpleNamespace(method=method, request=request, meta=meta)


async def seen_by_handler(middleware: McpCalls, ctx: Any) -> Inbound | None:
    seen: list[Inbound | None] = []

    async def call_next(_ctx: Any) -> Any:
        seen.append(INBOUND.get())
        return None

    await middleware(ctx, call_next)
    return seen[0]


async def test_a_tool_call_takes_its_trace_context_from_meta_before_the_http_headers() -> None:
    middleware = McpCalls(FIELDS)
    headers = {"X-Request-Id": "mcp-req", "traceparent": "from-header"}
    from_meta = await seen_by_handler(middleware, mcp_context("tools/call", headers, {"traceparent": "from-meta"}))
    from_headers = await seen_by_handler(middleware, mcp_context("tools/call", headers, {"progress_token": 1}))
    assert from_meta == Inbound("mcp-req", {"traceparent": "from-meta"})
    assert from_headers == Inbound("mcp-req", {"traceparent": "from-header"})


async def test_a_tool_call_over_stdio_gets_a_new_request_id_and_other_messages_none() -> None:
    middleware = McpCalls(FIELDS)
    over_stdio = await seen_by_handler(middleware, mcp_context("tools/call", None))
    listing = await seen_by_handler(middleware, mcp_context("tools/list", {"X-Request-Id": "ignored"}))
    assert over_stdio is not None and len(over_stdio.request_id) == 16 and over_stdio.carrier is None
    assert listing is None


async def test_a_session_counts_from_its_initialized_notification_until_its_handler_ends() -> None:
    counts: list[int] = []
    middleware = McpCalls(on_session=counts.append)

    async def during(_ctx: Any) -> None:
        counts.append(0)

    await middleware(mcp_context("notifications/initialized", None), during)
    assert counts == [1, 0, -1]
