"""The upstream HTTP client seam: our own small interface (`aiohttp_client` implements it).

Everything above this module speaks `UpstreamRequest` / `UpstreamResponse`; swapping
the library (pyreqwest once stable) or putting a fake behind it (the mock upstream,
unit tests) means implementing `UpstreamClient` and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds allowed to connect and to wait for each read of the answer."""

    connect: float = 5.0
    read: float = 30.0


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    """A fully built request: `url` is absolute and already percent-encoded."""

    method: str
    url: str
    headers: Sequence[tuple[str, str]] = ()
    body: bytes | None = None


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def content_type(self) -> str:
        # `headers` is case-insensitive when it comes from a client library, lower-case otherwise.
        return self.headers.get("content-type") or self.headers.get("Content-Type") or ""


class UpstreamError(Exception):
    """The upstream could not be asked or did not answer; the message is safe to show."""


class UpstreamUnreachable(UpstreamError):
    pass


class UpstreamTimeout(UpstreamError):
    pass


class UpstreamClient(Protocol):
    async def send(self, request: UpstreamRequest) -> UpstreamResponse: ...

    async def close(self) -> None: ...
