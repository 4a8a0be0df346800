"""schema_check.py: compiled checks that place each problem and never repeat the value."""

from __future__ import annotations

from typing import Any

import pytest

from naftiko_runtime.openapi_schema import typed
from naftiko_runtime.schema_check import InvalidSchema, SchemaCheck, schema_problem, strict_problems

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
