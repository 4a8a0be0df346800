"""importer/naming.py: kebab-case names, unique and stable, identifiers and variable names."""

from __future__ import annotations

import pytest

from naftiko_runtime.importer.naming import UniqueNames, identifier, kebab_case, shorten, variable_prefix


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GetCheckApiKey", "get-check-api-key"),
        ("getHTTPResponse", "get-http-response"),
        ("list_pets", "list-pets"),
        ("users.get by-ID", "users-get-by-id"),
        ("Kombo API", "kombo-api"),
        ("Café Crème v2", "cafe-creme-v2"),
        ("--weird__", "weird"),
        ("", ""),
    ],
)
def test_kebab_case_splits_words_at_case_changes_and_separators(text: str, expected: str) -> None:
    assert kebab_case(text) == expected


def test_a_repeated_name_gets_a_numbered_suffix_in_the_order_asked() -> None:
    names = UniqueNames()
    assert [names.claim("list"), names.claim("list"), names.claim("get"), names.claim("list")] == [
        "list",
        "list-2",
        "get",
        "list-3",
    ]


def test_names_over_a_limit_are_cut_at_a_word_boundary_and_stay_unique() -> None:
    names = UniqueNames(limit=20)
    first = names.claim("patch-integrations-integration-id-fields")
    second = names.claim("patch-integrations-integration-id-fields-other")
    assert first == "patch-integrations"
    assert second == "patch-integrations-2"
    assert all(len(name) <= 20 for name in (first, second))


def test_shorten_leaves_short_names_alone() -> None:
    assert shorten("get-pets", 64) == "get-pets"


def test_identifier_replaces_characters_the_official_schema_refuses() -> None:
    assert identifier("order.id") == "order_id"
    assert identifier("filter[status]") == "filter_status"
    assert identifier("X-Integration-Id") == "X-Integration-Id"


@pytest.mark.parametrize(
    ("namespace", "expected"),
    [("kombo-api", "KOMBO_API"), ("pet-store", "PET_STORE"), ("1password", "API_1PASSWORD")],
)
def test_variable_prefix_is_upper_snake_case_starting_with_a_letter(namespace: str, expected: str) -> None:
    assert variable_prefix(namespace) == expected
