"""The upstream HTTP client seam: our own small interface (`aiohttp_client` implements it).

Everything above this module speaks `UpstreamRequest` / `UpstreamResponse`; swapping
the library (pyreqwest once stable) or putting a fake behind it (the mock upstream,
unit tests) means implementing `UpstreamClient` and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

# Upstream answers larger than this are refused (`--max-upstream-body-bytes`).
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds allowed to connect, to wait for each read of the answer, and for a whole attempt.

    None means no limit.
    """

    connect: float | None = 5.0
    read: float | None = 30.0
    total: float | None = 60.0


# Requests and responses are made several times a call and never changed once made; they are not
# frozen only because a frozen dataclass's __init__ takes three times as long.
@dataclass(slots=True)
class UpstreamRequest:
    """A fully built request: `url` is absolute and already percent-encoded.

    `timeouts`, when set, replace the client's own for this request (an operation's own timeouts).
    """

    method: str
    url: str
    headers: Sequence[tuple[str, str]] = ()
    body: bytes | None = None
    timeouts: Timeouts | None = None


@dataclass(slots=True)
class UpstreamResponse:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def content_type(self) -> str:
        # `headers` is case-insensitive when it comes from a client library, lower-case otherwise.
        return self.headers.get("content-type") or self.headers.get("Content-Type") or ""


class UpstreamError(Exception):
    """The upstream could not be asked or did not answer; the message is safe to show.

    `sent` is False only when the request provably never reached the upstream (no connection was
    made), so even a non-idempotent request may be tried again. `attempts` counts the tries made.
    """

    def __init__(self, message: str, *, sent: bool = True) -> None:
        super().__init__(message)
        self.sent = sent
        self.attempts = 1


class UpstreamUnreachable(UpstreamError):
    pass


class UpstreamTimeout(UpstreamError):
    pass


class UpstreamTooLarge(UpstreamError):
    """The answer is larger than the client accepts; it was not read."""


class UpstreamOverloaded(UpstreamError):
    """Too many calls to this upstream are running and waiting: the request was not sent."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, sent=False)
        self.retry_after = retry_after


class UpstreamClient(Protocol):
    async def send(self, request: UpstreamRequest) -> UpstreamResponse: ...

    async def close(self) -> None: ...
