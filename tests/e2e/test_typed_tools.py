"""Typed tools, structured output, non-JSON answers and the result cap, through the real server.

The seed capability is served with its companion `capabilities/kombo.openapi.yaml` beside it
(the `naftiko` fixture); a small capability with its own companion is served against a fake
upstream answering an image, a drifting JSON object and a long text.
"""

from __future__ import annotations

import base64
import json
import textwrap
from collections.abc import Iterator
from typing import Any

import httpx
import mcp_types as types
import pytest
from starlette.types import Receive, Scope, Send

from tests.conftest import SecretTripwire
from tests.e2e.mcp_client import connect
from tests.e2e.server import NaftikoServer
from tests.fakes import CF_SHOE_SIZE, PERSONIO_ID, FakeServer, KomboFake

pytestmark = pytest.mark.anyio

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
REPORT = "line of the quarterly report\n" * 100
LIMIT = 1000

MEDIA = """\
naftiko: "1.0.0-alpha2"
info:
  label: Media
capability:
  consumes:
    - namespace: media
      type: http
      baseUri: "http://media.invalid/v1"
      resources:
        - {name: pic, path: /pic, operations: [{name: get-pic, method: GET}]}
        - {name: item, path: /item, operations: [{name: get-item, method: GET}]}
        - {name: report, path: /report, operations: [{name: get-report, method: GET}]}
  exposes:
    - type: rest
      namespace: media-rest
      resources:
        - {path: /pic, name: pic, operations: [{method: GET, name: pic, call: media.get-pic}]}
    - type: mcp
      namespace: media-mcp
      tools:
        - {name: get-pic, description: A picture, call: media.get-pic}
        - {name: get-item, description: An item, call: media.get-item}
        - {name: get-report, description: A report, call: media.get-report}
"""

MEDIA_OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "servers": [{"url": "https://media.example.com/v1"}],
    "paths": {
        "/item": {
            "get": {
                "responses": {
                    "200": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"id": {"type": "string"}, "label": {"type": "string"}},
                                    "required": ["id"],
                                }
                            }
                        }
                    }
                }
            }
        }
    },
}


async def media_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The fake media upstream: an image, an item whose `id` drifted to a number, a long text."""
    answers = {
        "/v1/pic": (b"image/png", PNG),
        "/v1/item": (b"application/json", json.dumps({"id": 7, "label": "drifted"}).encode()),
        "/v1/report": (b"text/plain; charset=utf-8", REPORT.encode()),
    }
    content_type, body = answers.get(scope["path"], (b"text/plain", b"no such path"))
    status = 200 if scope["path"] in answers else 404
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type)]})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def media_upstream() -> Iterator[FakeServer]:
    with FakeServer(media_app) as fake:
        yield fake


@pytest.fixture(scope="module")
def media(media_upstream: FakeServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NaftikoServer]:
    folder = tmp_path_factory.mktemp("media")
    (folder / "media.yaml").write_text(textwrap.dedent(MEDIA))
    (folder / "media.openapi.json").write_text(json.dumps(MEDIA_OPENAPI))
    with NaftikoServer(
        [folder / "media.yaml"],
        args=["--base-uri", f"media={media_upstream.url}/v1", "--max-result-bytes", str(LIMIT)],
    ) as server:
        server.wait_ready()
        yield server
        assert server.stop() == 0, server.output


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


# -- the seed capability, typed by its companion document


async def test_the_seed_tool_advertises_its_documented_body_field_and_an_output_schema(naftiko: NaftikoServer) -> None:
    async with connect(naftiko.mcp_url) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}

    put = tools["put-custom-field-mappings"]
    field = put.input_schema["properties"]["body"]["properties"]["integration_field_id"]
    assert field["type"] == ["string", "null"]
    assert field["description"].startswith("The integration field's unique ID")
    assert put.output_schema is not None and put.output_schema["type"] == "object"
    assert "data" in put.output_schema["properties"]


async def test_a_body_breaking_the_documented_schema_is_a_tool_error_naming_the_field_and_never_sent(
    naftiko: NaftikoServer, kombo: KomboFake
) -> None:
    arguments = {"integration_id": PERSONIO_ID, "custom_field_id": CF_SHOE_SIZE, "body": {"integration_field_id": 5}}

    async with connect(naftiko.mcp_url) as client:
        result = await client.call_tool("put-custom-field-mappings", arguments)

    assert result.is_error
    assert "body.integration_field_id: expected string or null, got integer" in text_of(result)
    assert result.structured_content is None
    assert kombo.requests == []


def test_the_same_body_on_the_rest_route_is_a_400_problem_naming_the_field(
    naftiko: NaftikoServer, kombo: KomboFake
) -> None:
    response = httpx.put(
        f"{naftiko.rest_url}/v1/integrations/{PERSONIO_ID}/custom-fields/{CF_SHOE_SIZE}",
        json={"integration_field_id": ["not", "an", "id"]},
        timeout=10,
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"location": "body.integration_field_id", "message": "expected string or null, got array"}
    ]
    assert kombo.requests == []


async def test_a_good_call_returns_structured_content_the_client_checks_against_the_output_schema(
    naftiko: NaftikoServer, kombo: KomboFake, secret_tripwire: SecretTripwire
) -> None:
    arguments = {"integration_id": PERSONIO_ID, "custom_field_id": CF_SHOE_SIZE, "body": {"integration_field_id": None}}

    async with connect(naftiko.mcp_url) as client:
        # The official client raises when structured content does not match the advertised schema.
        result = await client.call_tool("put-custom-field-mappings", arguments)

    secret_tripwire.record("MCP put-custom-field-mappings", text_of(result))
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    assert result.structured_content["data"]["integration_field"] is None
    assert len(kombo.requests) == 1


# -- non-JSON answers, drift and the result cap


async def test_an_upstream_image_is_image_content(media: NaftikoServer) -> None:
    async with connect(media.mcp_url) as client:
        result = await client.call_tool("get-pic", {})

    [image] = result.content
    assert isinstance(image, types.ImageContent)
    assert image.mime_type == "image/png" and base64.b64decode(image.data) == PNG
    assert not result.is_error


def test_an_upstream_image_passes_through_rest_with_its_content_type(media: NaftikoServer) -> None:
    response = httpx.get(f"{media.rest_url}/pic", timeout=10)

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == PNG


async def test_an_answer_drifting_from_the_output_schema_reaches_the_model_without_breaking_the_client(
    media: NaftikoServer,
) -> None:
    async with connect(media.mcp_url) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        result = await client.call_tool("get-item", {})

    assert tools["get-item"].output_schema is not None
    assert result.is_error and result.structured_content is None
    assert json.loads(result.content[0].text) == {"id": 7, "label": "drifted"}  # type: ignore[union-attr]
    assert "id: expected string, got integer" in text_of(result)
    media.wait_for_output("does not match its output schema")


async def test_a_text_answer_over_the_limit_is_cut_with_a_note(media: NaftikoServer) -> None:
    async with connect(media.mcp_url) as client:
        result = await client.call_tool("get-report", {})

    data, note = (block.text for block in result.content if isinstance(block, types.TextContent))
    assert data == REPORT[:LIMIT]
    assert f"the answer is {len(REPORT):,} bytes" in note and "--max-result-bytes" in note
    assert not result.is_error
