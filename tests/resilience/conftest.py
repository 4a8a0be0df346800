"""The resilience tests: the shop capability against a faulty upstream, in-process and through `naftiko serve`."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from naftiko_runtime.consumer.client import UpstreamRequest
from tests.conftest import SecretTripwire
from tests.e2e.server import NaftikoServer
from tests.fakes.faulty import FaultyUpstream

SHOP = Path(__file__).parent / "shop.yaml"
JSON_HEADERS = (("Content-Type", "application/json"),)


@pytest.fixture(scope="module")
def faulty() -> Iterator[FaultyUpstream]:
    with FaultyUpstream() as upstream:
        yield upstream


@pytest.fixture(autouse=True)
def _fresh_faulty(request: pytest.FixtureRequest) -> None:
    if "faulty" in request.fixturenames:
        request.getfixturevalue("faulty").reset()


def shop_server(faulty: FaultyUpstream, *args: str) -> NaftikoServer:
    """`naftiko serve` of the shop capability against `faulty` (use as a context manager, then `wait_ready()`)."""
    return NaftikoServer([SHOP], args=["--base-uri", f"shop={faulty.url}", *args])


def stopped(server: NaftikoServer, tripwire: SecretTripwire) -> str:
    """Stop `server` (it must exit 0 and never print a traceback) and give its output."""
    assert server.stop() == 0, server.output
    tripwire.record("naftiko serve output (resilience)", server.output)
    assert "Traceback" not in server.output, server.output
    return server.output


def marker() -> str:
    return uuid.uuid4().hex


def order(url: str, mark: str, item: str = "tea") -> UpstreamRequest:
    return UpstreamRequest("POST", f"{url}/orders", JSON_HEADERS, f'{{"marker": "{mark}", "item": "{item}"}}'.encode())


def item(url: str, mark: str | None = None, item_id: str = "1") -> UpstreamRequest:
    headers: Sequence[tuple[str, str]] = (("X-Marker", mark),) if mark else ()
    return UpstreamRequest("GET", f"{url}/items/{item_id}", headers)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening: connecting is refused, and nobody else takes it meanwhile."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
