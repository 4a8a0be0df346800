"""Suite-wide fixtures: the anyio backend and the secret tripwire.

Every test that sees what the runtime said (server logs, responses, error texts)
hands it to `secret_tripwire`; at the end of the session none of it may contain
the API key the tests run with.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.consumer.upstream_stub import StubUpstream

TEST_API_KEY = "ks_test_" + secrets.token_hex(16)


class SecretTripwire:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.texts: list[tuple[str, str]] = []

    def record(self, where: str, text: str | bytes) -> None:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        self.texts.append((where, text))

    def leaks(self) -> list[str]:
        return [where for where, text in self.texts if self.secret in text]


_TRIPWIRE = SecretTripwire(TEST_API_KEY)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def api_key() -> str:
    return TEST_API_KEY


def tripwire() -> SecretTripwire:
    """The session's tripwire, for helpers that are not fixtures (server wrappers)."""
    return _TRIPWIRE


@pytest.fixture(scope="session", autouse=True)
def secret_tripwire() -> Iterator[SecretTripwire]:
    yield _TRIPWIRE
    leaks = _TRIPWIRE.leaks()
    assert not leaks, f"the API key leaked into: {', '.join(leaks)}"


@pytest.fixture
async def upstream() -> AsyncIterator[StubUpstream]:
    """A real upstream on loopback that records requests and plays scripted answers."""
    stub = await StubUpstream().start()
    try:
        yield stub
    finally:
        await stub.stop()
