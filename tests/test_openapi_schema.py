"""openapi_schema.py: OpenAPI schema objects made self-contained JSON Schema 2020-12."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from naftiko_runtime.openapi_schema import Inliner, typed, types_of

COMPONENTS: dict[str, Any] = {
    "Name": {"type": "string", "description": "A name", "example": "Ada"},
    "Person": {
        "type": "object",
        "properties": {"name": {"$ref": "#/components/schemas/Name"}, "friends": {"$ref": "#/components/schemas/List"}},
        "required": ["name"],
    },
    "List": {"type": "array", "items": {"$ref": "#/components/schemas/Person"}},
    "Node": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}},
}


def lookup(ref: str) -> Any:
    prefix = "#/components/schemas/"
    if not ref.startswith(prefix) or ref[len(prefix) :] not in COMPONENTS:
        raise LookupError(f"$ref '{ref}' does not resolve; left open")
    return COMPONENTS[ref[len(prefix) :]]


def inline(schema: Any, direction: str = "request", *, openapi_30: bool = False) -> tuple[dict[str, Any], list[str]]:
    inliner = Inliner(lookup, openapi_30=openapi_30)
    result = inliner.inline(schema, direction)  # type: ignore[arg-type]
    Draft202012Validator.check_schema(result)
    return result, inliner.problems


def refs_in(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [*(["$ref"] if "$ref" in node else []), *(r for value in node.values() for r in refs_in(value))]
    if isinstance(node, list):
        return [r for value in node for r in refs_in(value)]
    return []


def test_local_refs_are_inlined_with_their_sibling_keywords_winning() -> None:
    result, problems = inline({"$ref": "#/components/schemas/Name", "description": "The given name"})

    assert result == {"type": "string", "description": "The given name"}
    assert problems == []


def test_a_reference_back_into_the_schema_being_inlined_is_cut_keeping_its_type() -> None:
    result, _ = inline({"$ref": "#/components/schemas/Person"})

    assert result["properties"]["name"] == {"type": "string", "description": "A name"}
    assert result["properties"]["friends"]["type"] == "array"
    friend = result["properties"]["friends"]["items"]
    assert friend == {"type": "object", "description": "Person (recursive; not expanded further)"}
    assert refs_in(result) == []


def test_a_self_reference_is_cut_to_an_object() -> None:
    result, _ = inline({"$ref": "#/components/schemas/Node"})

    assert result["properties"]["next"]["type"] == "object"
    assert "properties" not in result["properties"]["next"]


def test_a_reference_that_does_not_resolve_is_left_open_and_reported() -> None:
    result, problems = inline({"type": "object", "properties": {"x": {"$ref": "other.yaml#/X"}}})

    assert result["properties"]["x"] == {}
    assert problems == ["$ref 'other.yaml#/X' does not resolve; left open"]


def test_openapi_30_nullable_and_boolean_exclusive_bounds_become_2020_12() -> None:
    schema = {
        "type": "object",
        "properties": {
            "kind": {"type": "string", "enum": ["a", "b"], "nullable": True},
            "size": {
                "type": "integer",
                "minimum": 0,
                "exclusiveMinimum": True,
                "maximum": 9,
                "exclusiveMaximum": False,
            },
        },
    }

    result, _ = inline(schema, openapi_30=True)

    assert result["properties"]["kind"] == {"type": ["string", "null"], "enum": ["a", "b", None]}
    assert result["properties"]["size"] == {"type": "integer", "exclusiveMinimum": 0, "maximum": 9}


def test_examples_extensions_and_openapi_only_keywords_are_dropped() -> None:
    schema = {
        "type": "object",
        "x-internal": True,
        "discriminator": {"propertyName": "kind"},
        "examples": [{"kind": "a"}],
        "properties": {"kind": {"type": "string", "example": "a", "xml": {"name": "k"}}},
    }

    result, _ = inline(schema)

    assert result == {"type": "object", "properties": {"kind": {"type": "string"}}}


@pytest.mark.parametrize(
    ("direction", "kept"),
    [("request", ["name", "password"]), ("response", ["id", "name"])],
)
def test_properties_that_do_not_travel_in_a_direction_are_left_out(direction: str, kept: list[str]) -> None:
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "readOnly": True},
            "name": {"type": "string"},
            "password": {"type": "string", "writeOnly": True},
        },
        "required": ["id", "name", "password"],
    }

    result, _ = inline(schema, direction)

    assert sorted(result["properties"]) == kept
    assert sorted(result["required"]) == kept


def test_types_are_read_from_enums_consts_branches_and_shape() -> None:
    assert types_of({"enum": ["a", 1, None]}) == ["string", "integer", "null"]
    assert types_of({"const": True}) == ["boolean"]
    assert types_of({"anyOf": [{"type": "string"}, {"type": "null"}]}) == ["string", "null"]
    assert types_of({"anyOf": [{"type": "string"}, {}]}) == []
    assert types_of({"properties": {}}) == ["object"]
    assert types_of({"items": {}}) == ["array"]
    assert types_of({}) == []


def test_typed_spells_out_implied_types_and_gives_every_array_items() -> None:
    schema = {
        "properties": {
            "tags": {"type": "array"},
            "mode": {"enum": ["fast", "slow"]},
            "either": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
            "anything": {},
        }
    }

    result = typed(schema)

    assert result["type"] == "object"
    assert result["properties"]["tags"] == {"type": "array", "items": {}}
    assert result["properties"]["mode"]["type"] == "string"
    assert result["properties"]["either"]["type"] == ["integer", "string"]
    assert result["properties"]["anything"] == {}
