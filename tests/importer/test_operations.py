"""importer/operations.py: which operations are imported, their names, parameters and bodies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from naftiko_runtime.importer.document import read_document
from naftiko_runtime.importer.operations import Operation, Parameter, document_tags, read_operations
from tests.importer.support import PETSTORE, openapi, write_document

OK = {"200": {"description": "ok"}}


def operations_of(
    tmp_path: Path, document: dict[str, Any], tags: tuple[str, ...] = ()
) -> tuple[list[Operation], list[str]]:
    warnings: list[str] = []
    return read_operations(read_document(write_document(tmp_path, document)), tags, warnings), warnings


def parameters(operation: Operation) -> dict[str, Parameter]:
    return {parameter.name: parameter for parameter in operation.parameters}


def test_operations_are_named_from_their_operation_id_in_kebab_case(tmp_path: Path) -> None:
    found, _ = operations_of(
        tmp_path, openapi({"/check-api-key": {"get": {"operationId": "GetCheckApiKey", "responses": OK}}})
    )
    assert [operation.name for operation in found] == ["get-check-api-key"]


def test_operations_without_an_operation_id_are_named_from_method_and_path(tmp_path: Path) -> None:
    document = openapi(
        {
            "/pets/{petId}/toys": {"get": {"responses": OK}, "delete": {"responses": OK}},
            "/": {"get": {"responses": OK}},
        }
    )
    found, _ = operations_of(tmp_path, document)
    assert [operation.name for operation in found] == ["get-pets-pet-id-toys", "delete-pets-pet-id-toys", "get-root"]


def test_clashing_names_are_made_unique_in_document_order(tmp_path: Path) -> None:
    document = openapi(
        {
            "/a": {"get": {"operationId": "list_things", "responses": OK}},
            "/b": {"get": {"operationId": "listThings", "responses": OK}},
            "/c": {"get": {"operationId": "ListThings", "responses": OK}},
        }
    )
    found, _ = operations_of(tmp_path, document)
    assert [operation.name for operation in found] == ["list-things", "list-things-2", "list-things-3"]


def test_names_are_stable_across_imports_of_the_same_document(tmp_path: Path) -> None:
    first, _ = operations_of(tmp_path, openapi({"/x": {"get": {"responses": OK}, "post": {"responses": OK}}}))
    second, _ = operations_of(tmp_path, openapi({"/x": {"post": {"responses": OK}, "get": {"responses": OK}}}))
    assert (
        [(o.method, o.name) for o in first]
        == [(o.method, o.name) for o in second]
        == [
            ("GET", "get-x"),
            ("POST", "post-x"),
        ]
    )


def test_tags_keep_only_operations_carrying_one_of_them_whatever_their_case(tmp_path: Path) -> None:
    document = openapi(
        {
            "/a": {"get": {"tags": ["General"], "responses": OK}, "post": {"tags": ["Admin"], "responses": OK}},
            "/b": {"get": {"tags": ["Other", "general"], "responses": OK}, "put": {"responses": OK}},
            "/c": {"get": {"tags": ["Admin"], "responses": OK}},
        }
    )
    found, warnings = operations_of(tmp_path, document, ("general", "admin"))
    assert [(o.method, o.source_path) for o in found] == [("GET", "/a"), ("POST", "/a"), ("GET", "/b"), ("GET", "/c")]
    assert warnings == []


def test_a_tag_no_operation_carries_is_warned_about(tmp_path: Path) -> None:
    document = openapi({"/a": {"get": {"tags": ["General"], "responses": OK}}})
    found, warnings = operations_of(tmp_path, document, ("General", "Nope"))
    assert len(found) == 1
    assert warnings == ["--tag Nope: no operation carries this tag"]


def test_parameters_are_typed_described_and_required_from_the_document(tmp_path: Path) -> None:
    warnings: list[str] = []
    document = read_document(PETSTORE)
    found = {operation.name: operation for operation in read_operations(document, (), warnings)}
    listed = parameters(found["get-pets"])
    assert listed["limit"] == Parameter("limit", "query", "integer", "How many pets to return.", False)
    assert listed["status"].description == "The status query parameter. One of: available, sold."
    assert listed["tags"].type == "array"
    # Accept, Content-Type and Authorization header parameters are ignored, as OpenAPI says.
    assert "Accept" not in listed
    one = parameters(found["get-pets-pet-id"])
    assert one["petId"] == Parameter("petId", "path", "integer", "The pet's id.", True)
    assert one["X-Request-Id"].required is True
    assert one["X-Request-Id"].location == "header"
    # An OpenAPI 3.1 nullable type (a list with "null") is its non-null type.
    assert parameters(found["put-store-orders-order-id"])["dry-run"].type == "boolean"


def test_path_level_parameters_apply_to_every_operation_and_operations_override_them(tmp_path: Path) -> None:
    shared = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}, "description": "shared"}
    own = {**shared, "description": "own", "schema": {"type": "integer"}}
    document = openapi(
        {"/x/{id}": {"parameters": [shared], "get": {"responses": OK}, "put": {"parameters": [own], "responses": OK}}}
    )
    found, _ = operations_of(tmp_path, document)
    assert parameters(found[0])["id"].description == "shared"
    assert parameters(found[1])["id"] == Parameter("id", "path", "integer", "own", True)


def test_parameters_and_schemas_behind_refs_are_followed(tmp_path: Path) -> None:
    document = openapi(
        {"/x": {"get": {"parameters": [{"$ref": "#/components/parameters/Page"}], "responses": OK}}},
        components={
            "parameters": {"Page": {"name": "page", "in": "query", "schema": {"$ref": "#/components/schemas/Page"}}},
            "schemas": {"Page": {"type": "integer", "description": "The page number."}},
        },
    )
    found, _ = operations_of(tmp_path, document)
    assert found[0].parameters == (Parameter("page", "query", "integer", "The page number.", False),)


def test_path_placeholders_become_identifiers_in_double_braces(tmp_path: Path) -> None:
    warnings: list[str] = []
    found = {o.name: o for o in read_operations(read_document(PETSTORE), (), warnings)}
    operation = found["put-store-orders-order-id"]
    assert operation.path == "/store/orders/{{order_id}}"
    assert parameters(operation)["order_id"].location == "path"


def test_a_path_placeholder_no_parameter_declares_is_imported_as_a_required_string(tmp_path: Path) -> None:
    found, warnings = operations_of(tmp_path, openapi({"/x/{id}": {"get": {"responses": OK}}}))
    assert parameters(found[0])["id"] == Parameter("id", "path", "string", "The id path parameter.", True)
    assert warnings == ["GET /x/{id}: path parameter 'id' is not declared; imported as a string"]


def test_parameters_whose_names_alpha2_cannot_spell_are_skipped_with_a_warning(tmp_path: Path) -> None:
    document = openapi(
        {
            "/x": {
                "get": {
                    "parameters": [{"name": "filter[status]", "in": "query", "schema": {"type": "string"}}],
                    "responses": OK,
                }
            }
        }
    )
    found, warnings = operations_of(tmp_path, document)
    assert found[0].parameters == ()
    assert warnings == ["GET /x: query parameter 'filter[status]' skipped: alpha2 names match [A-Za-z0-9_*-]+"]


def test_a_json_request_body_is_one_body_parameter_typed_from_its_schema(tmp_path: Path) -> None:
    json_body = {"required": True, "content": {"application/vnd.api+json": {"schema": {"type": "array", "items": {}}}}}
    document = openapi(
        {
            "/x": {
                "post": {"requestBody": json_body, "responses": OK},
                "put": {"requestBody": {"content": {"application/json": {}}}, "responses": OK},
            }
        }
    )
    found, _ = operations_of(tmp_path, document)
    assert found[0].body is not None and (found[0].body.type, found[0].body.required) == ("array", True)
    assert found[1].body is not None and (found[1].body.type, found[1].body.required) == ("object", False)
    assert found[1].body.description == "The request body (JSON)."


def test_a_request_body_that_is_not_json_is_left_out_with_a_warning(tmp_path: Path) -> None:
    body = {"content": {"application/x-ndjson": {"schema": {"type": "string"}}}}
    found, warnings = operations_of(tmp_path, openapi({"/bulk": {"post": {"requestBody": body, "responses": OK}}}))
    assert found[0].body is None
    assert warnings == [
        "POST /bulk: request body (application/x-ndjson) not imported: only JSON bodies are; it is sent without one"
    ]


def test_methods_alpha2_cannot_express_are_skipped_with_a_warning(tmp_path: Path) -> None:
    found, warnings = operations_of(tmp_path, openapi({"/x": {"head": {"responses": OK}, "get": {"responses": OK}}}))
    assert [operation.method for operation in found] == ["GET"]
    assert warnings == ["HEAD /x skipped: alpha2 has no HEAD operations"]


def test_document_tags_lists_declared_tags_then_those_only_operations_carry(tmp_path: Path) -> None:
    document = openapi({"/x": {"get": {"tags": ["b", "c"], "responses": OK}}}, tags=[{"name": "a"}, {"name": "b"}])
    assert document_tags(read_document(write_document(tmp_path, document))) == ["a", "b", "c"]


def test_parameters_the_runtime_would_take_for_one_are_kept_once_with_a_warning(tmp_path: Path) -> None:
    declared = [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "ID", "in": "query", "schema": {"type": "string"}},
    ]
    found, warnings = operations_of(tmp_path, openapi({"/x/{id}": {"get": {"parameters": declared, "responses": OK}}}))
    assert [(p.name, p.location) for p in found[0].parameters] == [("id", "path")]
    assert warnings == ["GET /x/{id}: query parameter 'ID' skipped: it clashes with another parameter's name"]
