from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.consumer.upstream_stub import StubUpstream


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def upstream() -> AsyncIterator[StubUpstream]:
    stub = await StubUpstream().start()
    try:
        yield stub
    finally:
        await stub.stop()
