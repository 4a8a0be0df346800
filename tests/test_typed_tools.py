"""typed_tools.py: routes and tools typed from a companion OpenAPI document, at load time."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from naftiko_runtime.capability import CompiledCapability, LoadOptions, load_capability
from naftiko_runtime.engine import Action
from naftiko_runtime.errors import CallError

ROOT = Path(__file__).resolve().parents[1]
KOMBO = ROOT / "capabilities" / "kombo.yaml"
TYPED = LoadOptions(environ={}, companion_schemas=True)
# Where the REST adapter says each argument source is.
REST_PLACES = {
    "path": "path",
    "query": "query",
    "header": "header",
    "cookie": "cookie",
    "body": "body",
    "body_field": "body",
}

SHOP = """\
naftiko: "1.0.0-alpha2"
info:
  label: Shop
capability:
  consumes:
    - namespace: shop
      type: http
      baseUri: "http://shop.invalid/api/v2"
      resources:
        - name: item
          path: "/items/{{item_id}}"
          operations:
            - name: get-item
              method: GET
              inputParameters:
                - {name: item_id, in: path}
                - {name: ids, in: query}
            - name: put-item
              method: PUT
              inputParameters:
                - {name: item_id, in: path}
                - {name: body, in: body}
        - name: notes
          path: "/notes"
          operations:
            - name: add-note
              method: POST
              inputParameters:
                - {name: text, in: body}
            - name: list-notes
              method: GET
  exposes:
    - type: rest
      namespace: shop-rest
      port: 18080
      resources:
        - path: "/items/{{id}}"
          name: item
          operations:
            - method: PUT
              name: put-item
              inputParameters:
                - {name: id, in: path, type: string}
                - {name: body, in: body, type: object}
              call: shop.put-item
              with: {item_id: shop-rest.id, body: shop-rest.body}
    - type: mcp
      namespace: shop-mcp
      port: 19090
      tools:
        - name: get-item
          inputParameters:
            - {name: id, type: string, description: "Which item"}
            - {name: ids, type: array, required: false}
          call: shop.get-item
          with: {item_id: shop-mcp.id, ids: shop-mcp.ids}
        - name: put-item
          inputParameters:
            - {name: id, type: string}
            - {name: body, type: object}
          call: shop.put-item
          with: {item_id: shop-mcp.id, body: shop-mcp.body}
          outputParameters:
            - {name: saved, type: boolean, value: true}
        - name: add-note
          inputParameters:
            - {name: text, type: string}
          call: shop.add-note
          with: {text: shop-mcp.text}
        - name: list-notes
          call: shop.list-notes
"""

SHOP_OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "servers": [{"url": "https://shop.example.com/api/v2"}],
    "paths": {
        "/items/{itemId}": {
            "get": {
                "parameters": [
                    {
                        "name": "itemId",
                        "in": "path",
                        "required": True,
                        "description": "Item number",
                        "schema": {"type": "integer", "minimum": 1},
                    },
                    {"name": "ids", "in": "query", "schema": {"type": "array", "items": {"type": "integer"}}},
                ],
                "responses": {
                    "200": {
                        "content": {
                            "application/json": {
                                "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}
                            }
                        }
                    }
                },
            },
            "put": {
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "name": {"type": "string", "nullable": True, "description": "Display name"}
                                },
                                "required": ["name"],
                            }
                        }
                    }
                },
                "responses": {"200": {"content": {"application/json": {"schema": {"type": "object"}}}}},
            },
        },
        "/notes": {
            "post": {
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "properties": {"text": {"type": "string", "maxLength": 5}}}
                        }
                    }
                },
                "responses": {
                    "201": {"content": {"application/json": {"schema": {"type": "array", "items": {"type": "string"}}}}}
                },
            },
        },
    },
}


def write_shop(tmp_path: Path, *, companion: bool = True) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(textwrap.dedent(SHOP))
    if companion:
        (tmp_path / "shop.openapi.json").write_text(json.dumps(SHOP_OPENAPI))
    return path


def actions(capability: CompiledCapability, kind: str) -> dict[str, Action]:
    return {action.name: action for adapter in capability.adapters for action in adapter.actions if action.kind == kind}


def problems_of(
    action: Action, arguments: dict[str, Any], where: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    with pytest.raises(CallError) as caught:
        action.signature.validate(arguments, where=where)
    assert caught.value.status == 400
    return [(problem.location, problem.message) for problem in caught.value.problems]


def test_the_seed_tool_advertises_the_documented_body_and_answer() -> None:
    tool = actions(load_capability(KOMBO, TYPED), "tool")["put-custom-field-mappings"]

    body = tool.signature.input_schema()["properties"]["body"]
    field = body["properties"]["integration_field_id"]
    assert field["type"] == ["string", "null"] and "custom field should be mapped" in field["description"]
    assert body["required"] == ["integration_field_id"]
    assert tool.output_schema is not None
    assert tool.output_schema.schema["properties"]["data"]["properties"]["integration_field"]["type"] == [
        "object",
        "null",
    ]
    assert tool.typed_from == ("kombo.openapi.yaml PUT /integrations/{integration_id}/custom-fields/{custom_field_id}")


def test_a_body_breaking_the_documented_schema_is_refused_naming_the_field() -> None:
    capability = load_capability(KOMBO, TYPED)
    tool = actions(capability, "tool")["put-custom-field-mappings"]
    route = next(
        action for action in actions(capability, "route").values() if action.method == "PUT" and "custom" in action.path
    )
    arguments = {"integration_id": "personio:1", "custom_field_id": "cf", "body": {"integration_field_id": 5}}

    assert problems_of(tool, arguments) == [("body.integration_field_id", "expected string or null, got integer")]
    assert problems_of(route, {**arguments, "body": {}}, REST_PLACES) == [
        ("body.integration_field_id", "required property is missing")
    ]


def test_documented_parameter_types_coerce_and_bound_what_callers_send() -> None:
    tool = actions(load_capability(KOMBO, TYPED), "tool")["get-custom-fields-current-mappings"]

    assert tool.signature.validate({"integration_id": "x", "page_size": "50"})["page_size"] == 50
    assert problems_of(tool, {"integration_id": "x", "page_size": 999}) == [("page_size", "must be <= 250")]
    schema = tool.signature.input_schema()["properties"]["page_size"]
    assert schema["type"] == "integer" and schema["maximum"] == 250


def test_without_companion_schemas_nothing_changes() -> None:
    plain = actions(load_capability(KOMBO, LoadOptions(environ={})), "tool")["put-custom-field-mappings"]

    assert plain.typed_from is None and plain.output_schema is None
    assert plain.signature.input_schema()["properties"]["body"] == {
        "type": "object",
        "description": "Request body (JSON).",
    }


def test_arguments_renamed_by_with_get_the_schema_of_the_parameter_they_feed(tmp_path: Path) -> None:
    tools = actions(load_capability(write_shop(tmp_path), TYPED), "tool")

    properties = tools["get-item"].signature.input_schema()["properties"]
    assert properties["id"] == {"type": "integer", "minimum": 1, "description": "Item number"}
    assert properties["ids"] == {"type": "array", "items": {"type": "integer"}}
    # A query string's items are text: they are coerced to the documented item type.
    assert tools["get-item"].signature.validate({"id": "7", "ids": ["1", "2"]}) == {"id": 7, "ids": [1, 2]}
    assert problems_of(tools["get-item"], {"id": "0"}) == [("id", "must be >= 1")]


def test_openapi_30_nullable_reaches_the_body_schema_and_fields_of_a_body_are_typed(tmp_path: Path) -> None:
    capability = load_capability(write_shop(tmp_path), TYPED)
    tools = actions(capability, "tool")

    body = tools["put-item"].signature.input_schema()["properties"]["body"]
    assert body["properties"]["name"] == {"type": ["string", "null"], "description": "Display name"}
    assert problems_of(tools["add-note"], {"text": "too long"}) == [("text", "must be at most 5 characters long")]


def test_the_answer_schema_is_the_output_schema_only_for_an_unmapped_object_answer(tmp_path: Path) -> None:
    tools = actions(load_capability(write_shop(tmp_path), TYPED), "tool")

    get_item = tools["get-item"].output_schema
    assert get_item is not None and get_item.source == "shop.openapi.json GET /items/{itemId}"
    # Mapped outputs describe the result instead; an array answer gets none; an undocumented call stays as it was.
    put_item = tools["put-item"].output_schema
    assert put_item is not None and put_item.schema["properties"] == {"saved": {"type": ["boolean", "null"]}}
    assert tools["add-note"].output_schema is None
    assert tools["list-notes"].typed_from is None


def test_a_document_named_for_a_namespace_types_a_capability_with_none_beside_it(tmp_path: Path) -> None:
    path = write_shop(tmp_path, companion=False)
    elsewhere = tmp_path / "docs" / "shop-api.json"
    elsewhere.parent.mkdir()
    elsewhere.write_text(json.dumps(SHOP_OPENAPI))

    untyped = actions(load_capability(path, TYPED), "tool")["get-item"]
    typed = actions(
        load_capability(path, LoadOptions(environ={}, companion_schemas=True, openapi={"shop": [elsewhere]})), "tool"
    )["get-item"]

    assert untyped.typed_from is None
    assert typed.typed_from == "shop-api.json GET /items/{itemId}"


def test_a_document_that_cannot_be_read_is_a_warning_and_types_nothing(tmp_path: Path) -> None:
    path = write_shop(tmp_path, companion=False)
    (tmp_path / "shop.openapi.yaml").write_text("swagger: '2.0'\npaths: {}\n")

    capability = load_capability(path, TYPED)

    warnings = [str(d) for d in capability.diagnostics if d.code == "companion"]
    assert len(warnings) == 1 and "not an OpenAPI 3.x document" in warnings[0]
    assert all(action.typed_from is None for action in actions(capability, "tool").values())


def test_skill_catalogues_carry_the_typed_input_schema(tmp_path: Path) -> None:
    text = textwrap.dedent(SHOP) + textwrap.indent(
        textwrap.dedent(
            """\
            - type: skill
              namespace: shop-skills
              port: 18081
              skills:
                - name: items
                  description: Items
                  tools:
                    - name: get-item
                      description: Get an item
                      from: {sourceNamespace: shop-mcp, action: get-item}
            """
        ),
        "    ",
    )
    path = tmp_path / "shop.yaml"
    write_shop(tmp_path)
    path.write_text(text)

    capability = load_capability(path, TYPED)

    [skill] = next(adapter for adapter in capability.adapters if adapter.type == "skill").skills
    assert skill["tools"][0]["inputSchema"]["properties"]["id"]["type"] == "integer"
