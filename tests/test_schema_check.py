"""schema_check.py: compiled checks that place each problem and never repeat the value."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator, Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema_specifications import REGISTRY as SPECIFICATIONS

from naftiko_runtime.openapi_schema import typed
from naftiko_runtime.schema_check import (
    KNOWN_KEYWORDS,
    UNTESTED_KEYWORDS,
    InvalidSchema,
    SchemaCheck,
    schema_problem,
    strict_problems,
    surely_valid,
)

BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "integration_field_id": {"type": ["string", "null"]},
        "mode": {"type": "string", "enum": ["FULL", "DELTA"]},
        "size": {"type": "integer", "minimum": 1, "maximum": 250},
        "tags": {"type": "array", "items": {"type": "string"}},
        "choice": {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "integer"}]},
    },
    "required": ["integration_field_id"],
    "additionalProperties": False,
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"integration_field_id": 42}, [("body.integration_field_id", "expected string or null, got integer")]),
        ({}, [("body.integration_field_id", "required property is missing")]),
        (
            {"integration_field_id": None, "colour": "red"},
            [("body.colour", "unknown property")],
        ),
        (
            {"integration_field_id": "x", "mode": "SOMETIMES"},
            [("body.mode", "must be one of ['FULL', 'DELTA']")],
        ),
        ({"integration_field_id": "x", "size": 999}, [("body.size", "must be <= 250")]),
        ({"integration_field_id": "x", "tags": ["a", 2]}, [("body.tags[1]", "expected string, got integer")]),
        ({"integration_field_id": "x", "choice": "long"}, [("body.choice", "must be at most 3 characters long")]),
        ([], [("body", "expected object, got array")]),
    ],
)
def test_each_problem_names_its_place_and_what_was_expected(value: Any, expected: list[tuple[str, str]]) -> None:
    assert SchemaCheck(BODY).problems(value, "body") == expected


def test_a_conforming_value_has_no_problems() -> None:
    check = SchemaCheck(BODY)

    assert check.problems({"integration_field_id": None, "mode": "FULL", "tags": []}, "body") == []
    assert check.is_valid({"integration_field_id": "abc"})


def test_problem_messages_never_repeat_the_value() -> None:
    secret = "ks_live_do_not_echo"
    check = SchemaCheck({"type": "object", "properties": {"token": {"type": "integer", "pattern": "x"}}})

    problems = check.problems({"token": secret})

    assert problems == [(".token", "expected integer, got string"), (".token", "does not match pattern x")]
    assert all(secret not in message for _, message in problems)


def test_a_schema_that_is_not_json_schema_2020_12_is_refused() -> None:
    with pytest.raises(InvalidSchema, match="invalid JSON Schema at properties/a/type"):
        SchemaCheck({"type": "object", "properties": {"a": {"type": "int"}}})
    assert schema_problem({"type": "object", "required": "a"}) is not None
    assert schema_problem(BODY) is None


def test_strict_clients_need_an_object_root_typed_properties_array_items_and_no_refs() -> None:
    assert strict_problems(typed(BODY)) == []
    assert strict_problems(BODY) == ["property 'choice' has no type"]
    assert strict_problems({"type": "array", "items": {}}) == ["the root is not `type: object`"]
    assert strict_problems(
        {
            "type": "object",
            "properties": {
                "a": {"description": "untyped"},
                "b": {"type": "array"},
                "c": {"$ref": "#/$defs/C"},
            },
        }
    ) == [
        "property 'a' has no type",
        "property 'c' has no type",
        ".properties.b is an array without items",
        ".properties.c has a $ref",
    ]


# --- the fast path: `surely_valid` may only say "valid" where jsonschema agrees --------------------


def jsonschema_accepts(schema: Any) -> bool:
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError:
        return False
    return True


SURELY_VALID: list[Any] = [
    True,
    False,
    {},
    BODY,
    {"type": ["string", "null"], "nullable": True, "x-kombo": {"type": 5}, "discriminator": {"propertyName": "k"}},
    {"type": "object", "properties": {"a": True, "b": False}, "additionalProperties": False},
    {"$defs": {"A": {"type": "string"}}, "$comment": "note", "title": "T", "description": "D", "format": "date"},
    {"patternProperties": {"^x-": {"type": "string"}}, "propertyNames": {"pattern": "^[a-z]+$"}},
    {"dependentSchemas": {"a": {"required": ["b"]}}, "unevaluatedProperties": False, "unevaluatedItems": True},
    {"type": "array", "prefixItems": [{"type": "integer"}, True], "items": False, "contains": {"const": 1}},
    {"minContains": 0, "maxContains": 3, "minItems": 0, "maxItems": 10, "uniqueItems": True},
    {"minLength": 1, "maxLength": 2, "minProperties": 0, "maxProperties": 5, "multipleOf": 0.5},
    {"minimum": -1, "maximum": 2.5, "exclusiveMinimum": -3, "exclusiveMaximum": 1e300},
    {"allOf": [{"type": "object"}], "anyOf": [True, {"not": {"type": "null"}}], "oneOf": [{"enum": []}, False]},
    {"if": {"required": []}, "then": {"const": None}, "else": {"default": {"$ref": "not a keyword here"}}},
    {"enum": [1, "a", None, [1], {"b": 2}], "examples": [{}], "default": 3, "const": {"x": [1]}},
    {"deprecated": False, "readOnly": True, "writeOnly": False, "minimum": float("nan")},
    {"contentEncoding": "base64", "contentMediaType": "image/png", "contentSchema": {"type": "string"}},
    {"items": {"items": {"items": {"properties": {"deep": {"anyOf": [{"type": "integer", "minimum": 0}]}}}}}},
]


@pytest.mark.parametrize("schema", SURELY_VALID)
def test_a_schema_of_understood_keywords_is_valid_without_asking_jsonschema(schema: Any) -> None:
    assert surely_valid(schema)
    assert jsonschema_accepts(schema)
    assert schema_problem(schema) is None


INVALID: list[Any] = [
    None,
    "string",
    [],
    {"type": "int"},
    {"type": []},
    {"type": ["string", "string"]},
    {"type": ["string", 1]},
    {"required": "a"},
    {"required": ["a", "a"]},
    {"required": [1]},
    {"properties": []},
    {"properties": {"a": 1}},
    {"properties": {"a": {"type": "nope"}}},
    {"$defs": {"A": None}},
    {"patternProperties": {"[": {}}},
    {"dependentSchemas": {"a": "b"}},
    {"items": 5},
    {"additionalProperties": "no"},
    {"not": []},
    {"if": 1},
    {"contains": None},
    {"propertyNames": "x"},
    {"unevaluatedProperties": 0},
    {"prefixItems": []},
    {"allOf": []},
    {"anyOf": {}},
    {"oneOf": [1]},
    {"enum": "a"},
    {"examples": {}},
    {"minimum": "1"},
    {"maximum": True},
    {"minLength": -1},
    {"maxItems": 1.5},
    {"minProperties": False},
    {"multipleOf": 0},
    {"multipleOf": -2},
    {"pattern": "["},
    {"pattern": 5},
    {"format": 5},
    {"title": None},
    {"description": ["d"]},
    {"$comment": 1},
    {"deprecated": "yes"},
    {"uniqueItems": 1},
    {"contentSchema": 3},
    {"properties": {"a": {"items": {"anyOf": [{"minimum": "low"}]}}}},
]


@pytest.mark.parametrize("schema", INVALID)
def test_a_schema_with_a_malformed_keyword_is_left_to_jsonschema_which_refuses_it(schema: Any) -> None:
    assert not surely_valid(schema)
    assert not jsonschema_accepts(schema)


UNSURE: list[tuple[Any, bool]] = [
    ({"$ref": "#/$defs/A", "$defs": {"A": {}}}, True),
    ({"$id": "https://example.com/s", "$schema": "https://json-schema.org/draft/2020-12/schema"}, True),
    ({"$anchor": "a", "$dynamicAnchor": "b", "$dynamicRef": "#b"}, True),
    ({"$vocabulary": {"https://example.com/v": True}}, True),
    ({"$vocabulary": {"https://example.com/v": 1}}, False),
    ({"$anchor": "1 bad"}, False),
    ({"dependentRequired": {"a": ["b"]}}, True),
    ({"dependentRequired": {"a": "b"}}, False),
    ({"definitions": {"A": {}}, "dependencies": {"a": ["b"]}}, True),
    ({"definitions": {"A": 1}}, False),
    ({"$custom": 1}, True),
    ({"properties": {1: {}}}, True),
    ({"minLength": 2.0}, True),
]


@pytest.mark.parametrize(("schema", "valid"), UNSURE)
def test_a_schema_with_a_keyword_not_understood_gets_jsonschemas_verdict(schema: Any, valid: bool) -> None:
    assert not surely_valid(schema)
    assert jsonschema_accepts(schema) is valid
    # The load check lets through what draft-07 accepts too (it does not know the newer keywords).
    assert (schema_problem(schema) is None) is (valid or Draft7Validator(Draft7Validator.META_SCHEMA).is_valid(schema))


def test_the_draft_07_leniency_of_the_load_check_is_kept() -> None:
    """An `items` list is draft-07, not 2020-12: documents use it, and the load check has always let it be."""
    assert schema_problem({"type": "array", "items": [{"type": "string"}]}) is None
    assert schema_problem({"type": "object", "properties": {"a": {"type": "int"}}}) == (
        "invalid JSON Schema at properties/a/type: 'int' is not valid under any of the given schemas"
    )


def test_every_keyword_of_the_2020_12_meta_schema_is_either_understood_or_left_to_jsonschema() -> None:
    registry = SPECIFICATIONS
    names: set[str] = set()
    for uri in registry:
        if uri.startswith("https://json-schema.org/draft/2020-12/"):
            names.update(registry.contents(uri).get("properties", {}))

    assert names
    assert names <= KNOWN_KEYWORDS | UNTESTED_KEYWORDS
    assert not KNOWN_KEYWORDS & UNTESTED_KEYWORDS


ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    3,
    1.5,
    -0.5,
    2.0,
    float("nan"),
    float("inf"),
    "",
    "string",
    "[",
    "^a+$",
    [],
    ["string"],
    ["string", "string"],
    ["nope"],
    [1],
    [{}],
    [True, {"type": "integer"}],
    {},
    {"type": "string"},
    {"a": {}},
    {"a": 1},
    {"[": {}},
    {1: {}},
    {"a": ["b"]},
]


@pytest.mark.parametrize("keyword", sorted(KNOWN_KEYWORDS))
def test_no_value_of_a_keyword_is_called_valid_where_jsonschema_refuses_it(keyword: str) -> None:
    for value in ODD_VALUES:
        for schema in ({keyword: value}, {"properties": {"p": {keyword: value}}}, {"anyOf": [True, {keyword: value}]}):
            if surely_valid(schema):
                assert jsonschema_accepts(schema), schema


keywords = st.sampled_from(sorted(KNOWN_KEYWORDS | UNTESTED_KEYWORDS | {"nullable", "x-odd", "$odd"}))
leaves = st.sampled_from(ODD_VALUES) | st.integers(-3, 3) | st.sampled_from(["object", "string", "array", "a", "b"])
schemas = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(keywords | st.text(max_size=3), children, max_size=4)
    ),
    max_leaves=16,
)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(schemas)
def test_random_schemas_called_valid_are_valid_for_jsonschema(schema: Any) -> None:
    if surely_valid(schema):
        assert jsonschema_accepts(schema)
