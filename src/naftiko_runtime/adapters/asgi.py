"""The few ASGI primitives the adapters share."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PROBLEM_JSON = b"application/problem+json"
HEALTH_PATHS = frozenset({"/healthz", "/readyz"})


class BodyTooLarge(Exception):
    pass


async def send_bytes(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    extra_headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *extra_headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_empty(send: Send, status: int) -> None:
    headers = [] if status in (204, 304) or status < 200 else [(b"content-length", b"0")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def send_problem(send: Send, problem: dict[str, Any], extra_headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    """A problem's `retryAfter` member (seconds, e.g. the upstream is busy) is also sent as `Retry-After`."""
    if "retryAfter" in problem:
        extra_headers = [*extra_headers, (b"retry-after", str(problem["retryAfter"]).encode())]
    await send_bytes(send, int(problem["status"]), json.dumps(problem).encode(), PROBLEM_JSON, extra_headers)


def problem(status: int, title: str, detail: str) -> dict[str, Any]:
    return {"type": "about:blank", "title": title, "status": status, "detail": detail}


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole request body, refusing more than `limit` bytes before reading them all."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
