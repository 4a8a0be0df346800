"""One request to the upstream, with its failures turned into errors a caller can read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from naftiko_runtime.consumer.client import (
    UpstreamClient,
    UpstreamError,
    UpstreamRequest,
    UpstreamResponse,
    UpstreamTimeout,
)
from naftiko_runtime.consumer.operation import UpstreamOperation
from naftiko_runtime.errors import CallError


async def exchange(
    target: UpstreamOperation, client: UpstreamClient, values: Mapping[str, Any], label: str = ""
) -> UpstreamResponse:
    """Build and send the request; 504 on a timeout, 502 when the upstream cannot be reached."""
    return await send_to(target, client, target.build_request(values), label)


async def send_to(
    target: UpstreamOperation, client: UpstreamClient, request: UpstreamRequest, label: str = ""
) -> UpstreamResponse:
    prefix = f"{label}: " if label else ""
    try:
        return await client.send(request)
    except UpstreamTimeout as exc:
        detail = f"{prefix}upstream {target.ref} timed out: {exc}"
        raise CallError(504, "Gateway Timeout", detail, operation=target.ref) from None
    except UpstreamError as exc:
        detail = f"{prefix}upstream {target.ref} unreachable: {exc}"
        raise CallError(502, "Bad Gateway", detail, operation=target.ref) from None
