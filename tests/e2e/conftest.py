from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SecretTripwire
from tests.e2e.server import NaftikoServer
from tests.fakes import KomboFake

ROOT = Path(__file__).resolve().parents[2]
KOMBO_CAPABILITY = ROOT / "capabilities" / "kombo.yaml"


@pytest.fixture(scope="module")
def kombo(api_key: str) -> Iterator[KomboFake]:
    with KomboFake(api_key) as fake:
        yield fake


@pytest.fixture(autouse=True)
def _fresh_kombo_state(request: pytest.FixtureRequest) -> None:
    if "kombo" in request.fixturenames:
        request.getfixturevalue("kombo").reset()


@pytest.fixture(scope="module")
def naftiko(kombo: KomboFake, api_key: str, secret_tripwire: SecretTripwire) -> Iterator[NaftikoServer]:
    """The seed capability served against the fake Kombo, with a real key."""
    with NaftikoServer(
        [KOMBO_CAPABILITY],
        args=["--base-uri", f"kombo-general={kombo.base_url}"],
        env={"KOMBO_API_KEY": api_key},
    ) as server:
        server.wait_ready()
        yield server
        assert server.stop() == 0, server.output
        secret_tripwire.record("naftiko serve output", server.output)
