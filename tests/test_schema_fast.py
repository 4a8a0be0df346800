"""schema_fast.py: the compiled check agrees with jsonschema's Draft 2020-12 verdict, or declines."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from naftiko_runtime.runtime import RuntimeOptions, build_runtime
from naftiko_runtime.schema_fast import compile_check

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["id", "name", "status", "count", "tags", "data", "extra"]

SCHEMAS: list[Any] = [
    True,
    False,
    {},
    {"type": "integer", "minimum": 0, "exclusiveMaximum": 10},
    {"type": "number", "maximum": 2.5, "exclusiveMinimum": -1},
    {"type": ["string", "null"], "minLength": 2, "maxLength": 4, "pattern": "^[a-c]+$"},
    {"enum": ["a", "b", None, True]},
    {"const": False},
    {"const": "on"},
    {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3},
    {"type": "array", "items": False},
    {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}, "count": {"type": "integer"}}},
    {"type": "object", "properties": {"id": {"type": "string"}}, "additionalProperties": False},
    {"type": "object", "properties": {"id": {}}, "additionalProperties": {"type": "boolean"}},
    {"type": "object", "minProperties": 1, "maxProperties": 2},
    {"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 3}]},
    {"oneOf": [{"type": "number"}, {"type": "integer"}]},
    {"oneOf": [{"type": "string", "enum": ["a"]}, {"type": "string", "maxLength": 1}, {"type": "null"}]},
    {"allOf": [{"type": "object"}, {"required": ["name"]}], "description": "annotated", "x-vendor": 1},
    {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["success"]},
            "data": {
                "type": ["object", "null"],
                "properties": {"tags": {"type": "array", "items": {"type": "string", "format": "email"}}},
                "required": ["tags"],
            },
        },
        "required": ["status", "data"],
        "additionalProperties": False,
    },
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0.0, 1.0, 2.5, -1.0, 3.0])
    | st.text("abcd", max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(NAMES), children, max_size=4),
    max_leaves=12,
)


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda schema: str(schema)[:60])
@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_the_compiled_check_gives_jsonschemas_verdict(schema: Any, value: Any) -> None:
    check = compile_check(schema)
    assert check is not None
    assert check(value) == Draft202012Validator(schema).is_valid(value)


def test_bounds_treat_not_a_number_as_jsonschema_does() -> None:
    schema = {"minimum": 0, "maximum": 1}
    check = compile_check(schema)
    assert check is not None and check(math.nan) == Draft202012Validator(schema).is_valid(math.nan)


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#/$defs/a", "$defs": {"a": {}}},
        {"not": {"type": "string"}},
        {"type": "array", "uniqueItems": True},
        {"type": "number", "multipleOf": 0.1},
        {"enum": [1, 2]},  # numbers: JSON equality is not Python's (true is not 1)
        {"if": {"type": "string"}, "then": {"minLength": 1}},
        {"patternProperties": {"^x": {}}, "additionalProperties": False},
        {"items": [{"type": "string"}]},
        {"type": "strange"},
        {"properties": {"a": {"dependentRequired": {"a": ["b"]}}}},
    ],
    ids=lambda schema: str(schema)[:40],
)
def test_a_schema_with_a_keyword_it_does_not_know_is_left_to_jsonschema(schema: Any) -> None:
    assert compile_check(schema) is None


def test_every_schema_the_kombo_tools_advertise_is_compiled() -> None:
    runtime = build_runtime([ROOT / "capabilities" / "kombo.yaml"], RuntimeOptions(environ={"KOMBO_API_KEY": "x"}))
    actions = [action for c in runtime.capabilities for adapter in c.adapters for action in adapter.actions]
    schemas = [action.signature.input_schema() for action in actions]
    schemas += [action.output_schema.schema for action in actions if action.output_schema is not None]
    assert len(schemas) > 13
    assert all(compile_check(schema) is not None for schema in schemas)
