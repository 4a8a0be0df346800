"""adapters/mcp.py: tool definitions and tool calls, in front of a real upstream."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
import yaml
from jsonschema import Draft202012Validator

from naftiko_runtime.adapters.mcp import call_action, tool_definition
from naftiko_runtime.capability import CompiledCapability, LoadOptions, load_capability
from naftiko_runtime.consumer.client import UpstreamRequest, UpstreamResponse
from naftiko_runtime.engine import Action
from tests.adapters.conftest import DATA, KOMBO, Wire
from tests.consumer.upstream_stub import StubUpstream

pytestmark = pytest.mark.anyio


def tools(capability: CompiledCapability) -> dict[str, Action]:
    return {
        action.name: action for adapter in capability.adapters if adapter.type == "mcp" for action in adapter.actions
    }


async def call(action: Action, arguments: dict[str, Any] | None, tripwire: Any) -> tuple[bool, str, Any]:
    with anyio.fail_after(10):
        result = await call_action(action, arguments)
    [content] = result.content
    assert content.type == "text"
    tripwire.record(f"MCP {action.name}", content.text)
    return bool(result.is_error), content.text, result.structured_content


@pytest.fixture
async def kombo(wire: Wire, upstream: StubUpstream, api_key: str) -> dict[str, Action]:
    capability = await wire(
        KOMBO, base_uris={"kombo-general": upstream.url + "/v1"}, environ={"KOMBO_API_KEY": api_key}
    )
    return tools(capability)


# -- tool definitions


def kombo_hints() -> dict[str, dict[str, bool]]:
    document = yaml.safe_load(KOMBO.read_text())
    return {tool["name"]: tool["hints"] for tool in document["capability"]["exposes"][1]["tools"]}


def test_every_kombo_tool_announces_its_hints_as_annotations() -> None:
    capability = load_capability(KOMBO, LoadOptions(environ={}))
    expected = kombo_hints()

    definitions = {name: tool_definition(action) for name, action in tools(capability).items()}

    assert set(definitions) == set(expected)
    for name, definition in definitions.items():
        annotations = definition.annotations
        assert annotations is not None
        hints = expected[name]
        assert annotations.read_only_hint is hints["readOnly"], name
        assert annotations.destructive_hint is hints["destructive"], name
        assert annotations.idempotent_hint is hints["idempotent"], name
        assert annotations.open_world_hint is True, name


def test_a_generated_tool_schema_is_derived_from_with_and_refuses_other_properties() -> None:
    capability = load_capability(KOMBO, LoadOptions(environ={}))

    definition = tool_definition(tools(capability)["send-passthrough-request"])

    schema = definition.input_schema
    assert schema["additionalProperties"] is False
    assert sorted(schema["properties"]) == ["X-Integration-Id", "api", "body", "tool"]
    assert sorted(schema["required"]) == ["X-Integration-Id", "api", "tool"]
    assert schema["properties"]["body"]["type"] == "object"
    assert definition.description == "Send passthrough request"


def test_an_official_tool_has_its_label_as_title_and_its_declared_parameters_as_schema() -> None:
    capability = load_capability(DATA / "library.yaml", LoadOptions(environ={}))

    definition = tool_definition(tools(capability)["find-books"])

    assert definition.title == "Find books"
    assert definition.annotations is not None and definition.annotations.title == "Find books"
    assert definition.input_schema == {
        "type": "object",
        "properties": {
            "text": {"type": "string", "description": "Search text"},
            "max": {"type": "integer", "description": "Maximum number of hits"},
        },
        "required": ["text"],
        "additionalProperties": False,
    }


def test_declared_hints_are_completed_by_method_defaults() -> None:
    capability = load_capability(DATA / "library.yaml", LoadOptions(environ={}))

    annotations = tool_definition(tools(capability)["remove-book"]).annotations

    assert annotations is not None
    assert (annotations.read_only_hint, annotations.destructive_hint, annotations.idempotent_hint) == (
        False,
        True,
        True,
    )


# -- tool calls


async def test_a_tool_call_returns_the_upstream_json_as_text_and_structured_content(
    kombo: dict[str, Action], upstream: StubUpstream, secret_tripwire: Any
) -> None:
    body = b'{"status": "success", "data": {"environment_id": "env1", "customer_id": "c1"}}'
    upstream.answer(body=body)

    is_error, text, structured = await call(kombo["check-api-key"], {}, secret_tripwire)

    assert not is_error
    assert text == body.decode()
    assert structured == json.loads(body)
    assert upstream.last.raw_path == "/v1/check-api-key"


async def test_a_number_given_for_a_string_argument_is_sent_as_its_text(
    kombo: dict[str, Action], upstream: StubUpstream, secret_tripwire: Any
) -> None:
    is_error, _, _ = await call(
        kombo["get-custom-fields-current-mappings"], {"integration_id": "personio:1", "page_size": 50}, secret_tripwire
    )

    assert not is_error
    assert upstream.last.query == [("page_size", "50")]


async def test_path_argument_with_slash_stays_one_segment(
    kombo: dict[str, Action], upstream: StubUpstream, secret_tripwire: Any
) -> None:
    is_error, _, _ = await call(kombo["get-integration-details"], {"integration_id": "a/../b"}, secret_tripwire)

    assert not is_error
    assert upstream.last.raw_path == "/v1/integrations/a%2F..%2Fb"


async def test_the_body_argument_is_the_json_request_body(
    kombo: dict[str, Action], upstream: StubUpstream, secret_tripwire: Any
) -> None:
    arguments = {"X-Integration-Id": "personio:1", "body": {"type": "DELTA"}}

    is_error, _, _ = await call(kombo["trigger-sync"], arguments, secret_tripwire)

    assert not is_error
    assert upstream.last.headers["X-Integration-Id"] == "personio:1"
    assert upstream.last.json() == {"type": "DELTA"}


async def test_a_mapped_array_result_is_text_only(wire: Wire, upstream: StubUpstream, secret_tripwire: Any) -> None:
    capability = await wire(DATA / "library.yaml", base_uris={"catalog": upstream.url}, environ={"LIBRARY_TOKEN": "t"})
    upstream.answer(json_body={"hits": [{"isbn": "1", "book_title": "Dune", "extra": True}]})

    is_error, text, structured = await call(
        tools(capability)["find-books"], {"text": "dune", "max": "5"}, secret_tripwire
    )

    assert not is_error
    assert json.loads(text) == [{"isbn": "1", "title": "Dune"}]
    assert structured is None
    assert sorted(upstream.last.query) == [("limit", "5"), ("q", "dune")]


async def test_generated_tool_arguments_match_their_parameters_whatever_the_spelling(
    wire: Wire, upstream: StubUpstream, secret_tripwire: Any
) -> None:
    capability = await wire(DATA / "zoo.yaml", base_uris={"zoo": upstream.url}, environ={"ZOO_TOKEN": "zt"})

    is_error, _, _ = await call(
        tools(capability)["get-animal"],
        {"zoo_id": "berlin", "Animal-Id": "..", "include-details": True},
        secret_tripwire,
    )

    assert not is_error
    assert upstream.last.raw_path == "/Zoos/berlin/animals/%2E%2E"
    assert upstream.last.query == [("Include-Details", "true")]


async def test_an_unknown_argument_is_an_error_result_naming_it(
    kombo: dict[str, Action], upstream: StubUpstream, secret_tripwire: Any
) -> None:
    is_error, text, _ = await call(
        kombo["get-integration-details"], {"integration_id": "x", "integrationId": "y"}, secret_tripwire
    )

    assert is_error
    assert text == "invalid arguments: integrationId: unknown argument"
    assert upstream.requests == []


@pytest.mark.parametrize("arguments", [None, {}, {"integration_id": None}])
async def test_a_missing_required_argument_is_an_error_result_naming_it(
    kombo: dict[str, Action], upstream: StubUpstream, secret_tripwire: Any, arguments: dict[str, Any] | None
) -> None:
    is_error, text, _ = await call(kombo["get-integration-details"], arguments, secret_tripwire)

    assert is_error
    assert text == "invalid arguments: integration_id: required argument is missing"
    assert upstream.requests == []


async def test_an_argument_of_the_wrong_type_is_an_error_result_saying_why(
    wire: Wire, upstream: StubUpstream, secret_tripwire: Any
) -> None:
    capability = await wire(DATA / "library.yaml", base_uris={"catalog": upstream.url}, environ={"LIBRARY_TOKEN": "t"})

    is_error, text, _ = await call(tools(capability)["find-books"], {"text": "x", "max": "ten"}, secret_tripwire)

    assert is_error
    assert text == "invalid arguments: max: expected integer, got string"
    assert upstream.requests == []


async def test_an_upstream_error_is_an_error_result_with_its_status_and_message(
    kombo: dict[str, Action], upstream: StubUpstream, secret_tripwire: Any
) -> None:
    upstream.answer(
        404,
        json_body={
            "status": "error",
            "error": {"code": "PLATFORM.INTEGRATION_NOT_FOUND", "message": "No such integration"},
        },
    )

    is_error, text, _ = await call(kombo["get-integration-details"], {"integration_id": "nope"}, secret_tripwire)

    assert is_error
    assert text == "upstream kombo-general.getintegrationsintegrationid answered HTTP 404: No such integration"


async def test_a_non_json_upstream_answer_is_an_error_result(
    kombo: dict[str, Action], upstream: StubUpstream, secret_tripwire: Any
) -> None:
    upstream.answer(200, body=b"<html></html>", content_type="text/html")

    is_error, text, _ = await call(kombo["check-api-key"], {}, secret_tripwire)

    assert is_error
    assert text.startswith("Bad Gateway (502): ")
    assert "text/html" in text


async def test_a_missing_credential_is_an_error_result_naming_the_variable(
    wire: Wire, upstream: StubUpstream, secret_tripwire: Any
) -> None:
    capability = await wire(KOMBO, base_uris={"kombo-general": upstream.url}, environ={})

    is_error, text, _ = await call(tools(capability)["check-api-key"], {}, secret_tripwire)

    assert is_error
    assert text.startswith("Service Unavailable (503): ")
    assert "KOMBO_API_KEY" in text
    assert upstream.requests == []


async def test_an_unresolved_call_is_an_error_result(tmp_path: Path, secret_tripwire: Any) -> None:
    path = tmp_path / "ghost.yaml"
    path.write_text(
        "naftiko: 1.0.0-alpha2\ncapability:\n  exposes:\n  - type: mcp\n    namespace: m\n    tools:\n"
        "    - name: ghost\n      description: d\n      call: nowhere.nothing\n"
    )
    capability = load_capability(path, LoadOptions(environ={}))

    is_error, text, _ = await call(tools(capability)["ghost"], {}, secret_tripwire)

    assert is_error
    assert text.startswith("Not Implemented (501): ")
    assert "nowhere.nothing" in text


class ExplodingUpstream:
    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        raise RuntimeError(f"internal detail {request.url}")

    async def close(self) -> None:
        return None


async def test_an_unexpected_failure_is_an_error_result_without_internal_details(
    secret_tripwire: Any, caplog: pytest.LogCaptureFixture
) -> None:
    capability = load_capability(KOMBO, LoadOptions(environ={"KOMBO_API_KEY": "k"}))
    action = tools(capability)["check-api-key"]
    action.client = ExplodingUpstream()

    is_error, text, _ = await call(action, {}, secret_tripwire)

    assert is_error
    assert text == "tool check-api-key failed inside the runtime; see the server log"
    assert "internal detail" in caplog.text


async def test_a_mock_tool_answers_its_value_outputs_rendered_with_the_arguments(secret_tripwire: Any) -> None:
    capability = load_capability(DATA / "official" / "step-1-shipyard-mock.yml", LoadOptions(environ={}))

    is_error, text, structured = await call(
        tools(capability)["get-ship"], {"imo_number": "IMO-9321483"}, secret_tripwire
    )

    assert not is_error, text
    assert structured == {
        "imo": "IMO-9321483",
        "name": "Northern Star",
        "type": "cargo",
        "flag": "NO",
        "status": "active",
    }


CAPABILITIES = [
    KOMBO,
    DATA / "library.yaml",
    DATA / "zoo.yaml",
    DATA / "generated" / "notion-pages.yaml",
    DATA / "generated" / "video-conferencing.yaml",
    DATA / "generated" / "kombo-kombo-connect.yaml",
    DATA / "official" / "step-4-shipyard-output-shaping.yml",
    DATA / "official" / "nested-object-output-capability.yaml",
]


@pytest.mark.parametrize("path", CAPABILITIES, ids=lambda path: path.name)
def test_every_tool_schema_is_a_valid_closed_json_schema(path: Path) -> None:
    capability = load_capability(path, LoadOptions(environ={}))
    definitions = [tool_definition(action) for action in tools(capability).values()]

    assert definitions
    for definition in definitions:
        schema = definition.input_schema
        Draft202012Validator.check_schema(schema)
        assert schema["additionalProperties"] is False, definition.name
        assert set(schema["required"]) <= set(schema["properties"]), definition.name
