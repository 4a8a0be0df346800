"""Where calls come in: each inbound request's id and trace context, set for the calls it makes.

REST: the app reads `X-Request-Id` (a usable one is kept, else one is made) and the trace
headers, and returns the id on the answer. MCP: a server middleware of the SDK's does the same for
each `tools/call` and `resources/read` from the HTTP request that carried it (trace context from
the message's `_meta` first, the MCP convention, then from its headers); it also counts the
sessions open, from their `notifications/initialized` (whose handler lasts the session) to their end.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextvars import Token
from typing import TYPE_CHECKING, Any

from naftiko_runtime.adapters.asgi import Message, Scope, Send
from naftiko_runtime.observability.context import (
    INBOUND,
    REQUEST_ID_HEADER,
    Inbound,
    accepted_request_id,
    new_request_id,
)

if TYPE_CHECKING:
    from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

_REQUEST_ID = REQUEST_ID_HEADER.encode()
CALL_METHODS = frozenset({"tools/call", "resources/read"})


class RequestIds:
    """REST: each request's id and trace headers, read once (`RestApp` asks, so no middleware
    stands between the server and the routes), and `X-Request-Id` on every answer."""

    __slots__ = ("_fields",)

    def __init__(self, trace_fields: frozenset[str] = frozenset()) -> None:
        self._fields = frozenset(field.encode() for field in trace_fields)

    def enter(self, scope: Scope, send: Send) -> tuple[Token[Inbound | None], Send]:
        """Set the request's `Inbound` for the calls it makes: the token that resets it, and the
        `send` that puts the id on the answer."""
        request_id = None
        carrier: dict[str, str] | None = None
        fields = self._fields
        for name, value in scope["headers"]:
            if name == _REQUEST_ID:
                request_id = accepted_request_id(value)
            elif name in fields:
                if carrier is None:
                    carrier = {}
                carrier[name.decode("latin-1")] = value.decode("latin-1")
        if request_id is None:
            request_id = new_request_id()
        header = (_REQUEST_ID, request_id.encode())

        # Not a coroutine: the server's own send is awaited directly, one frame fewer per message.
        def send_with_id(message: Message) -> Awaitable[None]:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            return send(message)

        return INBOUND.set(Inbound(request_id, carrier)), send_with_id


class McpCalls:
    """MCP: each call's request id and trace context; the open sessions (`on_session(+1 / -1)`)."""

    def __init__(
        self, trace_fields: frozenset[str] = frozenset(), on_session: Callable[[int], None] | None = None
    ) -> None:
        self._fields = trace_fields
        self._on_session = on_session

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        method = ctx.method
        if method in CALL_METHODS:
            token = INBOUND.set(self._inbound(ctx))
            try:
                return await call_next(ctx)
            finally:
                INBOUND.reset(token)
        if method == "notifications/initialized" and self._on_session is not None:
            self._on_session(1)
            try:
                return await call_next(ctx)
            finally:
                self._on_session(-1)
        return await call_next(ctx)

    def _inbound(self, ctx: ServerRequestContext[Any, Any]) -> Inbound:
        request = ctx.request
        headers: Mapping[str, str] = getattr(request, "headers", None) or {}
        request_id = accepted_request_id(headers.get(REQUEST_ID_HEADER)) or new_request_id()
        if not self._fields:
            return Inbound(request_id)
        carrier = _carrier(ctx.meta, self._fields) or _carrier(headers, self._fields)
        return Inbound(request_id, carrier)


def _carrier(source: Mapping[str, Any] | None, fields: frozenset[str]) -> dict[str, str] | None:
    if not source:
        return None
    found = {field: value for field in fields if isinstance(value := source.get(field), str)}
    return found or None
