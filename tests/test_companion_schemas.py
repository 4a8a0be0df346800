"""companion_schemas.py: an OpenAPI document's schemas for the operations a capability consumes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from naftiko_runtime.companion_schemas import CompanionDocument, CompanionError, documents_for, shape

ROOT = Path(__file__).resolve().parents[1]
KOMBO_DOCUMENT = ROOT / "capabilities" / "kombo.openapi.yaml"


def document(**extra: Any) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "servers": [{"url": "https://api.example.com/{version}", "variables": {"version": {"default": "v2"}}}],
        "paths": {
            "/items/{itemId}": {
                "parameters": [{"name": "itemId", "in": "path", "required": True, "schema": {"type": "string"}}],
                "get": {
                    "parameters": [
                        {"$ref": "#/components/parameters/Expand"},
                        {"name": "X-Trace", "in": "header", "schema": {"type": "string", "format": "uuid"}},
                    ],
                    "responses": {
                        "default": {"description": "error"},
                        "200": {"$ref": "#/components/responses/Item"},
                    },
                },
                "put": {
                    "requestBody": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ItemInput"}}}
                    },
                    "responses": {"204": {"description": "done"}},
                },
            },
            "/health": {"get": {"responses": {"200": {"content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        },
        "components": {
            "parameters": {
                "Expand": {
                    "name": "expand",
                    "in": "query",
                    "description": "Related objects to include",
                    "schema": {"type": "array", "items": {"type": "string", "enum": ["owner", "tags"]}},
                }
            },
            "responses": {"Item": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}}},
            "schemas": {
                "Item": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
                "ItemInput": {
                    "type": "object",
                    "properties": {"name": {"type": "string", "minLength": 1}},
                    "required": ["name"],
                },
            },
        },
        **extra,
    }


def test_an_operation_is_found_by_method_and_path_shape_under_a_server_base_path() -> None:
    companion = CompanionDocument(document(), "items.openapi.yaml")

    schemas = companion.schemas_for("get", "/v2/items/{{id}}", "/items/{{id}}")

    assert schemas is not None
    assert schemas.source == "items.openapi.yaml GET /items/{itemId}"
    assert schemas.response == {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}


def test_the_operation_path_alone_matches_when_the_base_paths_differ() -> None:
    companion = CompanionDocument(document(), "items.openapi.yaml")

    assert companion.schemas_for("GET", "/api/items/{x}", "/items/{x}") is not None
    assert companion.schemas_for("POST", "/v2/items/{x}", "/items/{x}") is None
    assert companion.schemas_for("GET", "/v2/things/{x}", "/things/{x}") is None


def test_parameters_of_the_path_item_and_operation_are_resolved_with_their_descriptions() -> None:
    schemas = CompanionDocument(document(), "d").schemas_for("GET", "/v2/items/{id}", "/items/{id}")

    assert schemas is not None
    expand = schemas.parameter("query", "expand")
    assert expand is not None and expand.description == "Related objects to include"
    assert expand.schema["items"]["enum"] == ["owner", "tags"]
    trace = schemas.parameter("header", "x-trace")
    assert trace is not None and trace.schema == {"type": "string", "format": "uuid"}
    # The capability may call the placeholder otherwise: by position it is the same parameter.
    assert schemas.parameter("path", "id") is None
    positional = schemas.path_parameter(0)
    assert positional is not None and positional.name == "itemId"


def test_the_request_body_is_inlined_and_an_answer_without_json_gives_no_schema() -> None:
    schemas = CompanionDocument(document(), "d").schemas_for("PUT", "/v2/items/{id}", "/items/{id}")

    assert schemas is not None
    assert schemas.request_body == {
        "type": "object",
        "properties": {"name": {"type": "string", "minLength": 1}},
        "required": ["name"],
    }
    assert schemas.response is None


def test_schemas_that_are_not_valid_json_schema_are_reported_and_not_used() -> None:
    broken = document()
    broken["components"]["schemas"]["Item"] = {"type": "record"}

    schemas = CompanionDocument(broken, "d").schemas_for("GET", "/v2/items/{id}", "/items/{id}")

    assert schemas is not None and schemas.response is None
    assert any(problem.startswith("answer: invalid JSON Schema") for problem in schemas.problems)


def test_only_the_operations_asked_for_are_resolved() -> None:
    companion = CompanionDocument(document(), "d")

    companion.schemas_for("GET", "/v2/health", "/health")

    assert list(companion._resolved) == [("GET", "/health")]


def test_a_document_that_is_not_openapi_3_is_refused_by_name(tmp_path: Path) -> None:
    swagger = tmp_path / "old.openapi.json"
    swagger.write_text(json.dumps({"swagger": "2.0", "paths": {}}))
    broken = tmp_path / "broken.openapi.yaml"
    broken.write_text("openapi: [unclosed")

    with pytest.raises(CompanionError, match=r"old\.openapi\.json: not an OpenAPI 3\.x document"):
        CompanionDocument.load(swagger)
    with pytest.raises(CompanionError, match="not valid YAML"):
        CompanionDocument.load(broken)


def test_a_document_is_read_once_until_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "a.openapi.json"
    path.write_text(json.dumps(document()))

    first = CompanionDocument.load(path)
    assert CompanionDocument.load(path) is first
    path.write_text(json.dumps(document(info={"title": "changed", "version": "2"})))
    assert CompanionDocument.load(path) is not first


def test_the_seed_document_types_the_custom_field_mapping_body() -> None:
    companion = CompanionDocument.load(KOMBO_DOCUMENT)

    schemas = companion.schemas_for(
        "PUT",
        "/v1/integrations/{integration_id}/custom-fields/{custom_field_id}",
        "/integrations/{integration_id}/custom-fields/{custom_field_id}",
    )

    assert schemas is not None and schemas.request_body is not None
    field = schemas.request_body["properties"]["integration_field_id"]
    assert field["type"] == ["string", "null"]
    assert field["description"]


def test_named_documents_win_over_the_one_beside_the_capability(tmp_path: Path) -> None:
    beside = tmp_path / "crm.openapi.yaml"

    chosen = documents_for(["crm", "billing"], {"billing": [tmp_path / "billing.json"]}, beside)

    assert chosen == {"crm": [beside], "billing": [tmp_path / "billing.json"]}
    assert documents_for(["crm"], {}, None) == {}


def test_shapes_ignore_placeholder_names_and_trailing_slashes() -> None:
    assert shape("/a/{x}/b/{{y}}/") == shape("/a/{id}/b/{z}") == "/a/{}/b/{}"
    assert shape("a") == "/a"
    assert shape("/") == "/"
