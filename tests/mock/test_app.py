"""`mock_app` serves the documents over HTTP: in process, and under uvicorn on a real socket."""

from __future__ import annotations

import socket

import anyio
import httpx
import pytest
import uvicorn

from naftiko_runtime.mock import MockApi, mock_app
from tests.mock.support import REGISTRY_BASE


@pytest.mark.anyio
async def test_mock_app_answers_any_method_and_path_from_its_documents(registry: MockApi, dockyard: MockApi) -> None:
    transport = httpx.ASGITransport(app=mock_app([registry, dockyard]))
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        with anyio.fail_after(10):
            health = await client.get("/healthz")
            ships = await client.get(f"{REGISTRY_BASE}/ships", params={"status": "maintenance"})
            created = await client.post("/voyages", json={"shipImo": "IMO-9456781"})
            vessels = await client.get("/vessels")
            missing = await client.patch("/harbours/1")

    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert [ship["vessel_name"] for ship in ships.json()] == ["Pacific Dawn"]
    assert (created.status_code, created.json()["shipImo"]) == (201, "IMO-9456781")
    assert vessels.headers["content-type"] == "application/xml"
    assert missing.status_code == 501
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["detail"] == "no mock document describes PATCH /harbours/1"


@pytest.mark.anyio
async def test_mock_app_keeps_an_encoded_slash_inside_one_segment() -> None:
    doc = {
        "openapi": "3.1.0",
        "paths": {
            "/files/{id}": {
                "get": {
                    "x-microcks-operation": {"dispatcher": "URI_PARTS", "dispatcherRules": "id"},
                    "responses": {
                        "200": {
                            "description": "x",
                            "content": {"application/json": {"examples": {"a": {"value": 1}, "/id=a/b": {"value": 2}}}},
                        }
                    },
                }
            }
        },
    }
    transport = httpx.ASGITransport(app=mock_app([MockApi.from_document(doc, "files")]))
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        with anyio.fail_after(10):
            response = await client.get("/files/a%2Fb")

    assert response.json() == 2


@pytest.mark.anyio
async def test_mock_app_under_uvicorn_answers_over_http(kombo: MockApi) -> None:
    # A listening socket handed to uvicorn: connections queue in its backlog until the
    # server accepts them, so the client needs no readiness poll.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(mock_app([kombo]), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(server.serve, [listener])
            try:
                with anyio.fail_after(15):
                    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                        health = await client.get("/healthz")
                        checked = await client.get("/v1/check-api-key", headers={"Authorization": "Bearer k"})
                        relinked = await client.post("/integrations/personio:1/relink", json={"language": "de"})
                        missing = await client.get("/v2/nothing")
            finally:
                server.should_exit = True
    finally:
        listener.close()

    assert health.json()["status"] == "ok"
    assert checked.status_code == 200
    assert checked.json()["data"]["environment_id"]
    assert relinked.json()["data"]["link"].startswith("https://")
    assert missing.status_code == 501
