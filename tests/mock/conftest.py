"""Fixtures for the mock upstream tests: the Microcks tutorial documents and Kombo's cut."""

from __future__ import annotations

import pytest

from naftiko_runtime.mock import MockApi
from tests.mock.support import DOCKYARD, KOMBO, REGISTRY


@pytest.fixture(scope="session")
def registry() -> MockApi:
    return MockApi.from_file(REGISTRY)


@pytest.fixture(scope="session")
def dockyard() -> MockApi:
    return MockApi.from_file(DOCKYARD)


@pytest.fixture(scope="session")
def kombo() -> MockApi:
    return MockApi.from_file(KOMBO)
