"""output_schema.py: a tool's outputSchema from typed output parameters or a companion answer."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from naftiko_runtime.mapping import compile_outputs
from naftiko_runtime.output_schema import OutputSchema, schema_from_answer, schema_from_outputs
from naftiko_runtime.spec.models import OutputParameter


def outputs(*parameters: dict[str, Any]) -> list[OutputParameter]:
    return [OutputParameter.model_validate(parameter) for parameter in parameters]


SHIP = outputs(
    {
        "type": "object",
        "description": "A ship",
        "properties": {
            "imo": {"type": "string", "mapping": "$.imo_number"},
            "tonnage": {"type": "number", "mapping": "$.gross_tonnage"},
            "crew": {
                "type": "array",
                "mapping": "$.crew",
                "items": {"type": "object", "properties": {"name": {"type": "string", "mapping": "$.name"}}},
            },
            "source": {"type": "string", "value": "registry"},
        },
    }
)


def test_an_unnamed_object_with_properties_gives_an_object_schema_whose_fields_admit_null() -> None:
    schema = schema_from_outputs(SHIP)

    assert schema is not None
    Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object" and schema["description"] == "A ship"
    assert schema["properties"]["imo"] == {"type": ["string", "null"]}
    assert schema["properties"]["crew"]["items"]["properties"]["name"] == {"type": ["string", "null"]}


def test_what_the_mapping_produces_conforms_even_when_the_upstream_left_fields_out() -> None:
    schema = schema_from_outputs(SHIP)
    assert schema is not None
    mapped = compile_outputs(SHIP).apply({"imo_number": "IMO 1", "crew": [{"name": "Ada"}, {}]})

    assert OutputSchema(schema, "test").check.problems(mapped) == []


def test_named_parameters_give_an_object_of_those_names() -> None:
    schema = schema_from_outputs(outputs({"name": "total", "type": "integer", "mapping": "$.n"}, {"name": "label"}))

    assert schema == {"type": "object", "properties": {"total": {"type": ["integer", "null"]}, "label": {}}}


def test_a_template_value_is_typed_as_the_text_it_renders() -> None:
    schema = schema_from_outputs(outputs({"name": "greeting", "type": "integer", "value": "hello {{name}}"}))

    assert schema is not None and schema["properties"]["greeting"]["type"] == ["string", "null"]


def test_outputs_that_say_nothing_beyond_object_or_are_not_objects_give_no_schema() -> None:
    assert schema_from_outputs([]) is None
    assert schema_from_outputs(outputs({"type": "object", "mapping": "$."})) is None
    assert schema_from_outputs(outputs({"type": "array", "mapping": "$.items"})) is None


def test_a_companion_answer_is_an_output_schema_only_when_its_root_is_an_object() -> None:
    assert schema_from_answer({"type": "object", "properties": {}}) == {"type": "object", "properties": {}}
    assert schema_from_answer({"properties": {"a": {}}}) == {"type": "object", "properties": {"a": {}}}
    assert schema_from_answer({"type": "array", "items": {}}) is None
    assert schema_from_answer({"type": ["object", "null"]}) is None
    assert schema_from_answer(None) is None
