"""adapters/inbound_auth.py: what an expose's `authentication` asks of callers."""

from __future__ import annotations

import base64

import httpx
import pytest

from naftiko_runtime.adapters.asgi import Receive, Scope, Send, send_bytes
from naftiko_runtime.adapters.inbound_auth import InboundAuth, guard

pytestmark = pytest.mark.anyio


async def _ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send_bytes(send, 200, b'{"ok":true}', b"application/json")


async def _get(auth: InboundAuth, path: str = "/x", headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=guard(_ok, [auth]))
    async with httpx.AsyncClient(transport=transport, base_url="http://adapter") as client:
        return await client.get(path, headers=headers or {})


async def test_a_bearer_adapter_refuses_a_missing_or_wrong_token_and_admits_the_right_one() -> None:
    auth = InboundAuth("bearer", "sk-right")
    missing = await _get(auth)
    wrong = await _get(auth, headers={"Authorization": "Bearer sk-wrong"})
    right = await _get(auth, headers={"Authorization": "Bearer sk-right"})
    assert missing.status_code == wrong.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert missing.headers["content-type"] == "application/problem+json"
    assert right.status_code == 200


async def test_an_apikey_adapter_reads_its_header_or_its_query_parameter() -> None:
    header = InboundAuth("apikey", "k1", key="X-Api-Key")
    query = InboundAuth("apikey", "k2", key="api_key", in_query=True)
    assert (await _get(header, headers={"x-api-key": "k1"})).status_code == 200
    assert (await _get(header, headers={"x-api-key": "k2"})).status_code == 401
    assert (await _get(query, "/x?api_key=k2")).status_code == 200
    assert (await _get(query, "/x?api_key=k1")).status_code == 401


async def test_a_basic_adapter_checks_user_and_password() -> None:
    auth = InboundAuth("basic", "ana:s3cret")
    good = base64.b64encode(b"ana:s3cret").decode()
    bad = base64.b64encode(b"ana:guess").decode()
    assert (await _get(auth, headers={"Authorization": f"Basic {good}"})).status_code == 200
    refused = await _get(auth, headers={"Authorization": f"Basic {bad}"})
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
    assert (await _get(auth, headers={"Authorization": "Basic not-base64!"})).status_code == 401


async def test_health_paths_stay_open_for_probes() -> None:
    assert (await _get(InboundAuth("bearer", "sk"), "/healthz")).status_code == 200


async def test_a_credential_whose_variable_is_missing_admits_nobody() -> None:
    auth = InboundAuth("bearer", "")
    assert (await _get(auth, headers={"Authorization": "Bearer "})).status_code == 401
    assert (await _get(auth, headers={"Authorization": "Bearer anything"})).status_code == 401
