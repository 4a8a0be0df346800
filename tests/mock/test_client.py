"""`MockClient` stands in for the upstream HTTP client, in process."""

from __future__ import annotations

import pytest

from naftiko_runtime.consumer.client import UpstreamClient, UpstreamRequest
from naftiko_runtime.mock import MockApi, MockClient
from tests.mock.support import REGISTRY_BASE, data


@pytest.mark.anyio
async def test_mock_client_asks_the_first_document_that_describes_the_request(
    registry: MockApi, dockyard: MockApi
) -> None:
    client: UpstreamClient = MockClient([registry, dockyard])

    ships = await client.send(UpstreamRequest("GET", f"https://mocks.example{REGISTRY_BASE}/ships?status=active"))
    vessels = await client.send(UpstreamRequest("GET", "http://127.0.0.1:9/vessels/LEGACY-4012"))
    await client.close()

    assert [ship["vessel_name"] for ship in data(ships)] == ["Northern Star"]
    assert vessels.headers["content-type"] == "application/xml"
    assert b"<vesselCode>LEGACY-4012</vesselCode>" in vessels.body


@pytest.mark.anyio
async def test_mock_client_answers_501_problem_json_for_an_undescribed_operation(registry: MockApi) -> None:
    client = MockClient([registry])

    response = await client.send(UpstreamRequest("GET", "https://upstream.example/x?y=1"))

    assert response.status == 501
    assert response.headers["content-type"] == "application/problem+json"
    assert data(response) == {
        "type": "about:blank",
        "title": "Not Implemented",
        "status": 501,
        "detail": "no mock document describes GET /x",
    }


@pytest.mark.anyio
async def test_mock_client_hands_the_body_and_decoded_query_to_the_document(registry: MockApi) -> None:
    client = MockClient([registry])
    body = b'{"shipImo": "IMO-9456781", "departurePort": "Bergen"}'

    created = await client.send(
        UpstreamRequest("POST", "https://x/voyages", [("Content-Type", "application/json")], body)
    )
    filtered = await client.send(UpstreamRequest("GET", "https://x/ships?status=mainten%61nce"))

    assert created.status == 201
    assert (data(created)["shipImo"], data(created)["departurePort"]) == ("IMO-9456781", "Bergen")
    assert [ship["vessel_name"] for ship in data(filtered)] == ["Pacific Dawn"]


@pytest.mark.anyio
async def test_mock_client_without_documents_answers_501_for_everything() -> None:
    response = await MockClient([]).send(UpstreamRequest("POST", "https://x/"))

    assert response.status == 501
