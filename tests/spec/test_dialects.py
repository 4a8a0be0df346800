"""spec/dialects.py: the generated dialect read as its authors meant."""

from __future__ import annotations

import pytest

from naftiko_runtime.spec.dialects import (
    PathLiteral,
    PathPlaceholder,
    argument_reference,
    environment_name,
    is_whole_body,
    is_whole_value_mapping,
    iter_template_variables,
    param_key,
    path_placeholders,
    split_path,
)
from naftiko_runtime.spec.models import InputParameter


def test_single_and_double_brace_placeholders_split_the_same_way() -> None:
    assert split_path("/ships/{{imo_number}}/crew/{member-id}") == [
        PathLiteral("/ships/"),
        PathPlaceholder("imo_number"),
        PathLiteral("/crew/"),
        PathPlaceholder("member-id"),
    ]


def test_spaces_inside_double_braces_are_ignored() -> None:
    assert path_placeholders("/a/{{ id }}/b") == ["id"]


def test_a_placeholder_may_share_a_segment_with_literal_text() -> None:
    assert split_path("/Accounts/{AccountSid}.json") == [
        PathLiteral("/Accounts/"),
        PathPlaceholder("AccountSid"),
        PathLiteral(".json"),
    ]


def test_a_path_without_placeholders_is_one_literal() -> None:
    assert split_path("/check-api-key") == [PathLiteral("/check-api-key")]


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("integration_id", "integration-id"),
        ("X-Integration-Id", "x_integration_id"),
        ("ZOO-ID", "zoo_id"),
        ("AnimalId", "animalid"),
    ],
)
def test_names_differing_only_in_case_or_dash_and_underscore_are_one_parameter(left: str, right: str) -> None:
    assert param_key(left) == param_key(right)
    assert PathPlaceholder(left).key == param_key(right)


def test_names_differing_in_more_than_separators_stay_distinct() -> None:
    assert param_key("account_sid") != param_key("AccountSid")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("rest.integration_id", "integration_id"),
        ("tools.X-Integration-Id", "X-Integration-Id"),
        ("mcp.cursor", "cursor"),
        ("this.page", "page"),
        ("shipyard-tools.imo", "imo"),
        ("  rest.padded  ", "padded"),
    ],
)
def test_with_references_name_the_callers_argument(value: str, expected: str) -> None:
    assert argument_reference(value, "shipyard-tools") == expected


@pytest.mark.parametrize(
    "value",
    ["other-namespace.imo", "{{imo}}", "application/json", "v1.2.3", "plain", "rest.", 42, None, ["rest.x"]],
)
def test_values_that_are_not_argument_references_are_recognised_as_such(value: object) -> None:
    assert argument_reference(value, "shipyard-tools") is None


@pytest.mark.parametrize("mapping", [None, "$", "$.", " $. ", ""])
def test_dollar_and_dollar_dot_map_the_whole_value(mapping: str | None) -> None:
    assert is_whole_value_mapping(mapping)


@pytest.mark.parametrize("mapping", ["$.data", "$..id", "data"])
def test_real_json_paths_are_not_whole_value_mappings(mapping: str) -> None:
    assert not is_whole_value_mapping(mapping)


def test_only_a_body_parameter_named_body_is_the_whole_body() -> None:
    assert is_whole_body(InputParameter.model_validate({"name": "body", "in": "body", "type": "object"}))
    assert is_whole_body(InputParameter.model_validate({"name": "Body", "in": "body"}))
    assert not is_whole_body(InputParameter.model_validate({"name": "title", "in": "body"}))
    assert not is_whole_body(InputParameter.model_validate({"name": "body", "in": "query"}))


def test_env_dot_variable_reads_the_environment_when_no_bind_is_named_env() -> None:
    assert environment_name("env.KOMBO_API_KEY", frozenset()) == "KOMBO_API_KEY"
    assert environment_name("API_TOKEN", frozenset()) == "API_TOKEN"


def test_dotted_names_of_bind_namespaces_and_arguments_are_not_environment_reads() -> None:
    assert environment_name("env.KOMBO_API_KEY", frozenset({"env"})) is None
    assert environment_name("registry-env.TOKEN", frozenset({"registry-env"})) is None
    assert environment_name("tools.name", frozenset()) is None
    assert environment_name("env.a.b", frozenset()) is None


def test_template_variables_are_listed_from_every_kind_of_tag() -> None:
    template = "{{a}} {{{b}}} {{&c}} {{#d}}{{e.f}}{{/d}} {{^g}}{{.}}{{/g}} {{ h }}"

    assert list(dict.fromkeys(iter_template_variables(template))) == ["a", "b", "c", "d", "e.f", "g", "h"]
