"""importer/document.py and swagger2.py: reading the document, refusing what cannot be imported."""

from __future__ import annotations

from pathlib import Path

import pytest

from naftiko_runtime.importer.document import ImportFailure, read_document
from naftiko_runtime.importer.operations import read_operations
from naftiko_runtime.importer.security import credentials
from naftiko_runtime.importer.servers import base_uri
from tests.importer.support import SWAGGER2, openapi, write_document


def test_a_yaml_document_is_read(tmp_path: Path) -> None:
    path = tmp_path / "api.yaml"
    path.write_text("openapi: 3.0.0\ninfo: {title: T, version: '1'}\npaths: {}\n")
    document = read_document(path)
    assert document.label == "OpenAPI 3.0.0"


def test_broken_yaml_is_refused_naming_the_file_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("openapi: 3.0.0\npaths:\n  /x: [\n")
    with pytest.raises(ImportFailure, match=r"broken\.yaml: not valid YAML: line \d+, column \d+"):
        read_document(path)


def test_broken_json_is_refused_naming_the_file_and_the_place(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"openapi": "3.1.0",')
    with pytest.raises(ImportFailure, match=r"broken\.json:1:\d+: not valid JSON"):
        read_document(path)


def test_a_document_that_is_not_openapi_is_refused(tmp_path: Path) -> None:
    path = write_document(tmp_path, {"naftiko": "1.0.0-alpha2"}, "capability.json")
    with pytest.raises(ImportFailure, match=r"capability\.json: not an OpenAPI document"):
        read_document(path)


def test_a_missing_file_is_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(ImportFailure, match=r"nowhere\.yaml: cannot read: No such file"):
        read_document(tmp_path / "nowhere.yaml")


def test_paths_that_are_not_a_mapping_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportFailure, match="'paths' must be a mapping"):
        read_document(write_document(tmp_path, {"openapi": "3.0.0", "paths": ["/x"]}))


def test_a_reference_that_does_not_resolve_is_refused_naming_it(tmp_path: Path) -> None:
    document = openapi({"/x": {"get": {"parameters": [{"$ref": "#/components/parameters/Gone"}], "responses": {}}}})
    with pytest.raises(ImportFailure, match=r"api\.json: \$ref '#/components/parameters/Gone' does not resolve"):
        read_operations(read_document(write_document(tmp_path, document)), (), [])


def test_swagger_2_documents_are_read_as_openapi_3() -> None:
    document = read_document(SWAGGER2)
    assert document.label == "Swagger 2.0"
    assert base_uri(document.data, None).uri == "https://inventory.legacy.test/v1"
    assert credentials(document, "INV").authentication == {
        "type": "basic",
        "username": "{{INV_USERNAME}}",
        "password": "{{INV_PASSWORD}}",
    }
    warnings: list[str] = []
    found = {operation.name: operation for operation in read_operations(document, (), warnings)}
    assert [p.type for p in found["list-items"].parameters] == ["integer"]
    assert found["create-item"].body is not None and found["create-item"].body.required
    item = found["get-item"].parameters[0]
    assert (item.name, item.location, item.description) == ("itemId", "path", "The item.")
    assert found["upload-picture"].body is None
    assert warnings == [
        "PUT /items/{itemId}: request body (multipart/form-data) not imported: only JSON bodies are; "
        "it is sent without one"
    ]


def test_an_unquoted_swagger_version_is_understood(tmp_path: Path) -> None:
    path = tmp_path / "old.yaml"
    path.write_text("swagger: 2.0\ninfo: {title: Old, version: '1'}\npaths: {}\n")
    assert read_document(path).label == "Swagger 2.0"
