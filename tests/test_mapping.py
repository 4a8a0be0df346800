"""mapping.py: output parameters shape the upstream answer."""

from __future__ import annotations

from typing import Any

import pytest

from naftiko_runtime.mapping import MappingError, OutputMapping, compile_outputs, validate_jsonpath
from naftiko_runtime.spec.models import OutputParameter


def outputs(*parameters: dict[str, Any]) -> OutputMapping:
    return compile_outputs([OutputParameter.model_validate(p) for p in parameters])


SHIP = {
    "imo_number": "IMO-9321483",
    "vessel_name": "Northern Star",
    "year_built": 2011,
    "dimensions": {"length_overall": 229.5},
    "crew": [{"name": "Ada", "role": "captain"}, {"name": "Bo", "role": "cook"}],
}


def test_no_output_parameters_is_the_identity() -> None:
    mapping = outputs()

    assert mapping.is_identity
    assert mapping.apply(SHIP) is SHIP


@pytest.mark.parametrize("whole", ["$", "$.", " $. "])
def test_a_single_unnamed_whole_value_mapping_is_the_identity(whole: str) -> None:
    mapping = outputs({"type": "object", "mapping": whole})

    assert mapping.is_identity
    assert mapping.json_type == "object"
    assert mapping.apply(SHIP) == SHIP


def test_object_properties_are_mapped_from_the_whole_value_when_no_mapping_is_given() -> None:
    mapping = outputs(
        {
            "type": "object",
            "properties": {
                "imo": {"type": "string", "mapping": "$.imo_number"},
                "specs": {
                    "type": "object",
                    "properties": {
                        "yearBuilt": {"type": "number", "mapping": "$.year_built"},
                        "length": {"type": "number", "mapping": "$.dimensions.length_overall"},
                    },
                },
            },
        }
    )

    assert not mapping.is_identity
    assert mapping.apply(SHIP) == {"imo": "IMO-9321483", "specs": {"yearBuilt": 2011, "length": 229.5}}


def test_nested_properties_are_relative_to_their_parents_mapping() -> None:
    mapping = outputs(
        {
            "type": "object",
            "mapping": "$.dimensions",
            "properties": {"length": {"type": "number", "mapping": "$.length_overall"}},
        }
    )

    assert mapping.apply(SHIP) == {"length": 229.5}


def test_array_items_are_mapped_relative_to_each_element() -> None:
    mapping = outputs(
        {
            "type": "array",
            "mapping": "$.results",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "mapping": "$.properties.Name.title[0].text.content"},
                    "status": {"type": "string", "mapping": "$.properties.Status.select.name"},
                },
            },
        }
    )
    answer = {
        "results": [
            {"properties": {"Name": {"title": [{"text": {"content": "Ada"}}]}, "Status": {"select": {"name": "in"}}}},
            {"properties": {"Name": {"title": [{"text": {"content": "Bo"}}]}, "Status": {"select": {"name": "out"}}}},
        ]
    }

    assert mapping.apply(answer) == [{"name": "Ada", "status": "in"}, {"name": "Bo", "status": "out"}]


def test_an_array_mapping_of_the_whole_value_iterates_a_top_level_list() -> None:
    mapping = outputs(
        {
            "type": "array",
            "mapping": "$.",
            "items": {"type": "object", "properties": {"n": {"type": "string", "mapping": "$.name"}}},
        }
    )

    assert mapping.apply(SHIP["crew"]) == [{"n": "Ada"}, {"n": "Bo"}]


def test_scalar_array_items_can_map_the_element_itself() -> None:
    mapping = outputs({"type": "array", "mapping": "$.tags", "items": {"type": "string", "mapping": "$"}})

    assert mapping.apply({"tags": ["a", "b"]}) == ["a", "b"]


def test_a_wildcard_array_mapping_collects_every_match() -> None:
    mapping = outputs({"type": "array", "mapping": "$.crew[*].name"})

    assert mapping.apply(SHIP) == ["Ada", "Bo"]


def test_a_wildcard_array_mapping_with_a_single_match_is_still_a_list() -> None:
    mapping = outputs({"type": "array", "mapping": "$.crew[*].name"})

    assert mapping.apply({"crew": [{"name": "Ada"}]}) == ["Ada"]


def test_a_wildcard_array_mapping_over_an_empty_list_is_an_empty_list() -> None:
    mapping = outputs({"type": "array", "mapping": "$.crew[*].name"})

    assert mapping.apply({"crew": []}) == []


def test_a_wildcard_array_mapping_of_one_nested_list_keeps_the_nesting() -> None:
    mapping = outputs({"type": "array", "mapping": "$.rows[*]"})

    assert mapping.apply({"rows": [[1, 2], [3]]}) == [[1, 2], [3]]
    assert mapping.apply({"rows": [[1, 2]]}) == [[1, 2]]


def test_several_named_parameters_make_an_object() -> None:
    mapping = outputs(
        {"name": "imo", "type": "string", "mapping": "$.imo_number"},
        {"name": "built", "type": "number", "mapping": "$.year_built"},
    )

    assert mapping.json_type == "object"
    assert mapping.apply(SHIP) == {"imo": "IMO-9321483", "built": 2011}


def test_a_constant_value_is_returned_whatever_the_answer() -> None:
    mapping = outputs(
        {"name": "imo", "type": "string", "mapping": "$.imo_number"},
        {"name": "source", "type": "string", "value": "registry"},
    )

    assert mapping.apply(SHIP) == {"imo": "IMO-9321483", "source": "registry"}


def test_a_value_takes_precedence_over_a_mapping() -> None:
    mapping = outputs({"name": "kind", "type": "string", "mapping": "$.vessel_name", "value": "fixed"})

    assert mapping.apply(SHIP) == {"kind": "fixed"}


def test_a_templated_value_is_rendered_against_the_answer() -> None:
    mapping = outputs({"name": "label", "type": "string", "value": "{{vessel_name}} ({{imo_number}})"})

    assert mapping.apply(SHIP) == {"label": "Northern Star (IMO-9321483)"}


def test_falsy_values_survive_the_mapping() -> None:
    mapping = outputs(
        {"name": "n", "type": "number", "mapping": "$.n"},
        {"name": "b", "type": "boolean", "mapping": "$.b"},
        {"name": "s", "type": "string", "mapping": "$.s"},
    )

    assert mapping.apply({"n": 0, "b": False, "s": ""}) == {"n": 0, "b": False, "s": ""}


def test_a_path_that_matches_nothing_maps_to_null() -> None:
    mapping = outputs(
        {"name": "missing", "type": "string", "mapping": "$.nope"},
        {
            "name": "obj",
            "type": "object",
            "mapping": "$.nope",
            "properties": {"a": {"type": "string", "mapping": "$.a"}},
        },
        {"name": "arr", "type": "array", "mapping": "$.nope", "items": {"type": "string", "mapping": "$"}},
    )

    assert mapping.apply({}) == {"missing": None, "obj": None, "arr": None}


def test_a_relative_mapping_without_dollar_is_read_from_the_root() -> None:
    assert outputs({"type": "string", "mapping": "vessel_name"}).apply(SHIP) == "Northern Star"


def test_an_invalid_json_path_is_refused_at_compile_time() -> None:
    with pytest.raises(MappingError, match=r"invalid JSONPath '\$\.\[\['"):
        outputs({"type": "string", "mapping": "$.[["})


def test_validate_jsonpath_explains_bad_paths_and_accepts_good_ones() -> None:
    assert validate_jsonpath("$.data.items[0].id") is None
    assert validate_jsonpath("$.") is None
    message = validate_jsonpath("$.[[")
    assert message is not None and "invalid JSONPath" in message
