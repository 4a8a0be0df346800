"""All 13 operations as MCP tools, through the official client over Streamable HTTP."""

from __future__ import annotations

import json

import pytest
from mcp import Client

from tests.conftest import SecretTripwire
from tests.e2e.kombo_cases import CASES, Case, assert_upstream_saw
from tests.e2e.server import NaftikoServer
from tests.fakes import KomboFake

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_each_kombo_tool_reaches_the_upstream_through_mcp(
    case: Case, naftiko: NaftikoServer, kombo: KomboFake, api_key: str, secret_tripwire: SecretTripwire
) -> None:
    async with Client(naftiko.mcp_url) as client:
        result = await client.call_tool(case.tool, case.arguments)
    text = result.content[0].text  # type: ignore[union-attr]
    secret_tripwire.record(f"MCP {case.tool}", text)
    assert not result.is_error, text
    assert_upstream_saw(case, kombo, api_key)
    answer = json.loads(text)
    assert result.structured_content == answer
    case.check(answer, kombo)


async def test_tools_list_carries_names_annotations_and_closed_schemas(naftiko: NaftikoServer) -> None:
    async with Client(naftiko.mcp_url) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == {case.tool for case in CASES}
    delete = tools["delete-integration"]
    assert delete.annotations is not None
    assert (delete.annotations.read_only_hint, delete.annotations.destructive_hint) == (False, True)
    assert delete.annotations.idempotent_hint is True
    assert delete.input_schema["required"] == ["integration_id"]
    assert delete.input_schema["additionalProperties"] is False
    assert tools["check-api-key"].annotations.read_only_hint is True  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", ["legacy", "auto", "2026-07-28"])
async def test_clients_of_each_protocol_era_list_and_call_tools(
    mode: str, naftiko: NaftikoServer, kombo: KomboFake
) -> None:
    async with Client(naftiko.mcp_url, mode=mode) as client:  # type: ignore[arg-type]
        assert len((await client.list_tools()).tools) == 13
        result = await client.call_tool("check-api-key", {})
    assert not result.is_error


async def test_wrong_and_missing_arguments_are_tool_errors_naming_them(
    naftiko: NaftikoServer, kombo: KomboFake
) -> None:
    async with Client(naftiko.mcp_url) as client:
        unknown = await client.call_tool("get-tools", {"category": "ats", "colour": "red"})
        missing = await client.call_tool("get-integration-details", {})
        wrong = await client.call_tool("trigger-sync", {"X-Integration-Id": "x", "body": "FULL"})
    assert unknown.is_error and "colour: unknown argument" in unknown.content[0].text  # type: ignore[union-attr]
    assert missing.is_error and "integration_id: required argument is missing" in missing.content[0].text  # type: ignore[union-attr]
    assert wrong.is_error and "body: expected object, got string" in wrong.content[0].text  # type: ignore[union-attr]
    assert kombo.requests == []


async def test_upstream_error_is_a_tool_error_with_status_and_message(naftiko: NaftikoServer, kombo: KomboFake) -> None:
    async with Client(naftiko.mcp_url) as client:
        result = await client.call_tool("get-integration-details", {"integration_id": "nobody:nothing"})
    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert "HTTP 404" in text and "kombo-general.getintegrationsintegrationid" in text


async def test_path_traversal_in_a_tool_argument_stays_one_upstream_segment(
    naftiko: NaftikoServer, kombo: KomboFake
) -> None:
    async with Client(naftiko.mcp_url) as client:
        await client.call_tool("get-integration-details", {"integration_id": "a/../../check-api-key"})
    assert kombo.last.raw_path == "/v1/integrations/a%2F..%2F..%2Fcheck-api-key"
