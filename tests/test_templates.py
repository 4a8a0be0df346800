"""templates.py: Mustache with HTML escaping off and missing values rendering empty."""

from __future__ import annotations

import pytest

from naftiko_runtime.templates import Template, is_template


def test_values_are_not_html_escaped() -> None:
    template = Template("{{q}}|{{{q}}}|{{&q}}")

    assert template.render({"q": '<a href="x">&\'</a>'}) == '<a href="x">&\'</a>|' * 2 + '<a href="x">&\'</a>'


def test_a_missing_value_renders_empty() -> None:
    assert Template("id={{id}}&page={{page}}").render({"id": "7"}) == "id=7&page="


def test_dotted_names_reach_into_nested_values() -> None:
    template = Template("Bearer {{registry-env.TOKEN}}")

    assert template.render({"registry-env": {"TOKEN": "t0k"}}) == "Bearer t0k"


def test_spaces_inside_tags_are_allowed() -> None:
    assert Template("{{ name }}").render({"name": "x"}) == "x"


@pytest.mark.parametrize(
    ("value", "text"),
    [(True, "true"), (False, "false"), (0, "0"), (50, "50"), (1.5, "1.5"), ([1, "a"], '[1, "a"]'), ({}, "{}")],
)
def test_non_string_values_render_as_json_text(value: object, text: str) -> None:
    assert Template("{{v}}").render({"v": value}) == text


def test_an_object_value_renders_as_json_text() -> None:
    assert Template("{{v}}").render({"v": {"k": 1, "ok": True}}) == '{"k": 1, "ok": true}'


def test_a_section_over_a_list_repeats_once_per_item() -> None:
    assert Template("{{#tags}}[{{.}}]{{/tags}}").render({"tags": ["a", "b"]}) == "[a][b]"


def test_sections_and_inverted_sections_follow_mustache() -> None:
    template = Template("{{#limit}}limit={{limit}}{{/limit}}{{^limit}}no limit{{/limit}}")

    assert template.render({"limit": 5}) == "limit=5"
    assert template.render({}) == "no limit"


def test_a_string_without_tags_is_constant_and_returned_unchanged() -> None:
    template = Template("application/json {not a tag}")

    assert template.is_constant
    assert template.variables == ()
    assert template.render({"anything": 1}) == "application/json {not a tag}"


def test_variables_lists_each_name_once_in_order() -> None:
    assert Template("{{b}}{{a}}{{b}}{{env.KEY}}").variables == ("b", "a", "env.KEY")


def test_only_strings_holding_double_braces_are_templates() -> None:
    assert is_template("{{x}}")
    assert not is_template("/items/{id}")
    assert not is_template(42)
    assert not is_template(None)
