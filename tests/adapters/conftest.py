"""Adapters driven in-process, wired to a real upstream (aiohttp.web on 127.0.0.1) through the real client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from naftiko_runtime.adapters.health import Health
from naftiko_runtime.adapters.rest import RestApp
from naftiko_runtime.capability import CompiledCapability, LoadOptions, load_capability
from naftiko_runtime.consumer.aiohttp_client import AiohttpClient
from naftiko_runtime.consumer.client import Timeouts

DATA = Path(__file__).parents[1] / "data"
KOMBO = Path(__file__).parents[2] / "capabilities" / "kombo.yaml"

FAST = Timeouts(connect=2.0, read=5.0)

Wire = Callable[..., Awaitable[CompiledCapability]]
OpenRest = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def wire() -> AsyncIterator[Wire]:
    """Load a capability and give every action a real AiohttpClient; the clients are closed afterwards."""
    clients: list[AiohttpClient] = []

    async def load(
        path: Path,
        *,
        base_uris: Mapping[str, str],
        environ: Mapping[str, str] | None = None,
        timeouts: Timeouts = FAST,
    ) -> CompiledCapability:
        capability = load_capability(path, LoadOptions(base_uris=base_uris, environ=environ or {}))
        client = AiohttpClient(timeouts)
        clients.append(client)
        for adapter in capability.adapters:
            for action in adapter.actions:
                action.client = client
        return capability

    try:
        yield load
    finally:
        for client in clients:
            await client.close()


@pytest.fixture
async def open_rest(secret_tripwire: Any) -> AsyncIterator[OpenRest]:
    """An httpx client talking to the RestApp of a capability; every response body goes to the tripwire."""
    async with AsyncExitStack() as stack:

        async def open_client(capability: CompiledCapability, **app_options: int) -> httpx.AsyncClient:
            actions = [a for adapter in capability.adapters if adapter.type == "rest" for a in adapter.actions]
            app = RestApp(actions, Health([capability]), **app_options)

            async def record(response: httpx.Response) -> None:
                await response.aread()
                secret_tripwire.record(f"REST {response.request.method} {response.request.url}", response.content)

            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://facade.test",
                timeout=10.0,
                event_hooks={"response": [record]},
            )
            return await stack.enter_async_context(client)

        yield open_client
