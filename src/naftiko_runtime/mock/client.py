"""The mock as an `UpstreamClient`: capabilities call it in-process instead of over the network."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl, urlsplit

from ..consumer.client import UpstreamRequest, UpstreamResponse
from .api import MockApi, not_implemented


class MockClient:
    """Asks the first document that describes the request; 501 problem+json when none does."""

    def __init__(self, apis: Sequence[MockApi]) -> None:
        self._apis = tuple(apis)

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        url = urlsplit(request.url)
        path = url.path or "/"
        query = parse_qsl(url.query, keep_blank_values=True)
        headers: dict[str, str] = {}
        for name, value in request.headers:
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        return answer(self._apis, request.method, path, query, headers, request.body or b"")

    async def close(self) -> None:
        return None


def answer(
    apis: Sequence[MockApi],
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    headers: dict[str, str],
    body: bytes,
) -> UpstreamResponse:
    for api in apis:
        if api.describes(method, path):
            return api.respond(method, path, query, headers, body)
    return not_implemented(method, path)
