"""Loading mock documents: YAML or JSON, clear errors naming the file, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from naftiko_runtime.mock import MockApi, MockDocumentError
from tests.mock.support import ask, data, document, ok
from tests.spec.yaml_bombs import ALIAS_BOMB


def test_a_json_document_loads_like_a_yaml_one(tmp_path: Path) -> None:
    path = tmp_path / "api.openapi.json"
    path.write_text(json.dumps(document({"/ping": {"get": {"responses": ok({"p": "pong"})}}})))

    assert data(ask(MockApi.from_file(path), "GET", "/ping")) == "pong"


def test_unquoted_yaml_dates_in_examples_stay_strings(tmp_path: Path) -> None:
    path = tmp_path / "dates.yaml"
    path.write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /d:\n    get:\n      responses:\n"
        "        200:\n          description: d\n          content:\n            application/json:\n"
        "              example: {day: 2026-04-10, at: 2026-04-10T08:00:00Z}\n"
    )

    assert data(ask(MockApi.from_file(path), "GET", "/d")) == {
        "day": "2026-04-10",
        "at": "2026-04-10T08:00:00Z",
    }


BAD_DOCUMENTS = {
    "broken.yaml": ("openapi: 3.1.0\npaths: [unclosed\n", "not valid YAML: line"),
    "broken.json": ('{"openapi": "3.1.0", "paths": {', "not valid JSON"),
    "list.yaml": ("- openapi\n", "expected a mapping"),
    "capability.yaml": ("naftiko: 1.0.0-alpha2\ncapability: {}\n", "not an OpenAPI 3.x document"),
    "swagger.yaml": ("swagger: '2.0'\npaths: {}\n", "Swagger 2.0 is not supported"),
    "paths.yaml": ("openapi: 3.0.0\npaths: [1, 2]\n", "'paths' must be a mapping"),
    "external.yaml": (
        "openapi: 3.0.0\npaths:\n  /x:\n    $ref: 'other.yaml#/paths/~1x'\n",
        "points outside the document",
    ),
    "dangling.yaml": (
        "openapi: 3.0.0\npaths:\n  /x:\n    get:\n      responses:\n"
        "        '200': {$ref: '#/components/responses/Nope'}\n",
        "'#/components/responses/Nope' does not resolve",
    ),
    "cycle.yaml": (
        "openapi: 3.0.0\npaths:\n  /x: {$ref: '#/paths/~1y'}\n  /y: {$ref: '#/paths/~1x'}\n",
        "$ref cycle",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_DOCUMENTS))
def test_a_bad_document_raises_mock_document_error_naming_the_file(tmp_path: Path, name: str) -> None:
    text, reason = BAD_DOCUMENTS[name]
    path = tmp_path / name
    path.write_text(text)

    with pytest.raises(MockDocumentError) as raised:
        MockApi.from_file(path)

    assert str(path) in str(raised.value)
    assert reason in str(raised.value)


def test_a_missing_file_raises_mock_document_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.openapi.yaml"

    with pytest.raises(MockDocumentError, match=r"absent\.openapi\.yaml: cannot read"):
        MockApi.from_file(path)


def test_a_document_given_as_data_names_its_source_in_errors() -> None:
    with pytest.raises(MockDocumentError, match=r"^memory: not an OpenAPI 3\.x document"):
        MockApi.from_document({"openapi": 3}, "memory")


def test_a_malformed_operation_raises_mock_document_error_naming_it() -> None:
    schema = {"type": "array", "minItems": "many"}
    responses = {"200": {"description": "x", "content": {"application/json": {"schema": schema}}}}

    with pytest.raises(MockDocumentError, match=r"^odd\.yaml: GET /x: malformed operation"):
        MockApi.from_document(document({"/x": {"get": {"responses": responses}}}), "odd.yaml")


def test_a_document_whose_aliases_expand_beyond_the_limit_is_refused_without_expanding_them(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB)

    with pytest.raises(MockDocumentError, match="document too large"):
        MockApi.from_file(path)
