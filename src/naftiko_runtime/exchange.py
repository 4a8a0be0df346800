"""One request to the upstream, with its failures turned into errors a caller can read."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any

from naftiko_runtime.consumer.client import (
    UpstreamClient,
    UpstreamError,
    UpstreamOverloaded,
    UpstreamRequest,
    UpstreamResponse,
    UpstreamTimeout,
    UpstreamTooLarge,
)
from naftiko_runtime.consumer.operation import UpstreamOperation
from naftiko_runtime.errors import CallError


def exchange(
    target: UpstreamOperation, client: UpstreamClient, values: Mapping[str, Any], label: str = ""
) -> Awaitable[UpstreamResponse]:
    """Build the request (at once: its errors are raised here) and send it when awaited; 504 on a
    timeout, 502 when the upstream cannot be reached or answers too much, 503 (with `retryAfter`)
    when too many calls to it are under way."""
    return send_to(target, client, target.build_request(values), label)


async def send_to(
    target: UpstreamOperation, client: UpstreamClient, request: UpstreamRequest, label: str = ""
) -> UpstreamResponse:
    try:
        return await client.send(request)
    except UpstreamError as error:
        raise upstream_failure(target.ref, error, label) from None


def upstream_failure(ref: str, error: UpstreamError, label: str = "") -> CallError:
    """What the caller of operation `ref` is told of `error` (`label`: which step of a call it was)."""
    prefix = f"{label}: " if label else ""
    attempts = f" ({error.attempts} attempts)" if error.attempts > 1 else ""
    if isinstance(error, UpstreamOverloaded):
        detail = f"{prefix}upstream {ref} is busy: {error}; retry after {error.retry_after} s"
        return CallError(503, "Service Unavailable", detail, operation=ref, extra={"retryAfter": error.retry_after})
    if isinstance(error, UpstreamTimeout):
        detail = f"{prefix}upstream {ref} timed out: {error}{attempts}"
        return CallError(504, "Gateway Timeout", detail, operation=ref)
    if isinstance(error, UpstreamTooLarge):
        return CallError(502, "Bad Gateway", f"{prefix}upstream {ref}: {error}", operation=ref)
    detail = f"{prefix}upstream {ref} unreachable: {error}{attempts}"
    return CallError(502, "Bad Gateway", detail, operation=ref)
