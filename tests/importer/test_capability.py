"""importer/capability.py: the capability built from the operations: consumes, REST routes, MCP tools."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from naftiko_runtime.importer import ImportFailure, ImportOptions, import_openapi
from naftiko_runtime.importer.capability import Namespaces
from tests.importer.support import PETSTORE, openapi, write_document

OK = {"200": {"description": "ok"}}


def imported(tmp_path: Path, document: dict[str, Any], **options: Any) -> dict[str, Any]:
    return import_openapi(write_document(tmp_path, document), ImportOptions(**options)).capability


def expose(capability: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(entry for entry in capability["capability"]["exposes"] if entry["type"] == kind)


def tools(capability: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {tool["name"]: tool for tool in expose(capability, "mcp")["tools"]}


@pytest.mark.parametrize(
    ("method", "hints"),
    [
        ("get", {"readOnly": True, "destructive": False, "idempotent": True, "openWorld": True}),
        ("put", {"readOnly": False, "destructive": False, "idempotent": True, "openWorld": True}),
        ("delete", {"readOnly": False, "destructive": True, "idempotent": True, "openWorld": True}),
        ("post", {"readOnly": False, "destructive": False, "idempotent": False, "openWorld": True}),
        ("patch", {"readOnly": False, "destructive": False, "idempotent": False, "openWorld": True}),
    ],
)
def test_tool_hints_follow_the_http_method(tmp_path: Path, method: str, hints: dict[str, bool]) -> None:
    capability = imported(tmp_path, openapi({"/things": {method: {"operationId": "act", "responses": OK}}}))
    assert tools(capability)["act"]["hints"] == hints


def test_each_operation_is_a_route_and_a_tool_wired_argument_by_argument(tmp_path: Path) -> None:
    capability = import_openapi(PETSTORE, ImportOptions()).capability
    resource = next(r for r in expose(capability, "rest")["resources"] if r["name"] == "pets-pet-id")
    route = resource["operations"][0]
    assert resource["path"] == "/api/v2/pets/{{petId}}"
    assert route["method"] == "GET"
    assert route["call"] == "pet-store.get-pets-pet-id"
    assert route["inputParameters"] == [
        {"name": "petId", "in": "path", "type": "integer", "description": "The pet's id."},
        {"name": "X-Request-Id", "in": "header", "type": "string", "description": "The X-Request-Id header parameter."},
    ]
    assert route["with"] == {"petId": "pet-store-rest.petId", "X-Request-Id": "pet-store-rest.X-Request-Id"}
    tool = tools(capability)["get-pets-pet-id"]
    assert tool["label"] == "Get a pet"
    assert tool["inputParameters"][1] == {
        "name": "X-Request-Id",
        "type": "string",
        "description": "The X-Request-Id header parameter.",
        "required": True,
    }
    assert tool["with"] == {"petId": "pet-store-mcp.petId", "X-Request-Id": "pet-store-mcp.X-Request-Id"}


def test_a_request_body_is_a_body_argument_fed_to_the_consumed_body(tmp_path: Path) -> None:
    body = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
    capability = imported(
        tmp_path, openapi({"/orders": {"post": {"operationId": "order", "requestBody": body, "responses": OK}}})
    )
    consumed = capability["capability"]["consumes"][0]["resources"][0]["operations"][0]
    assert consumed["inputParameters"] == [{"name": "body", "in": "body"}]
    tool = tools(capability)["order"]
    assert tool["inputParameters"] == [
        {"name": "body", "type": "object", "description": "The request body (JSON).", "required": True}
    ]
    assert tool["with"] == {"body": "test-api-mcp.body"}


def test_operations_of_one_path_share_a_resource(tmp_path: Path) -> None:
    document = openapi(
        {"/a/{id}": {"get": {"responses": OK}, "delete": {"responses": OK}}, "/b": {"get": {"responses": OK}}}
    )
    capability = imported(tmp_path, document)
    resources = capability["capability"]["consumes"][0]["resources"]
    assert [(r["name"], r["path"], [o["method"] for o in r["operations"]]) for r in resources] == [
        ("a-id", "/a/{{id}}", ["GET", "DELETE"]),
        ("b", "/b", ["GET"]),
    ]


def test_namespaces_come_from_the_title_or_the_option_and_never_clash() -> None:
    assert Namespaces("shop").consumes == "shop"
    capability = import_openapi(PETSTORE, ImportOptions(namespace="pets")).capability
    namespaces = [
        capability["capability"]["consumes"][0]["namespace"],
        *(entry["namespace"] for entry in capability["capability"]["exposes"]),
        *(bind["namespace"] for bind in capability["binds"]),
    ]
    assert namespaces == ["pets", "pets-rest", "pets-mcp", "pets-env"]
    assert capability["binds"][0]["keys"] == {"PETS_API_KEY": "PETS_API_KEY"}


def test_a_namespace_option_that_is_not_an_identifier_is_refused() -> None:
    with pytest.raises(ImportFailure, match="--namespace 'my api': a namespace is letters, digits and '-'"):
        import_openapi(PETSTORE, ImportOptions(namespace="my api"))


def test_the_secret_is_a_variable_never_a_literal(tmp_path: Path) -> None:
    schemes = {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}
    capability = imported(
        tmp_path, openapi({"/x": {"get": {"responses": OK}}}, components={"securitySchemes": schemes})
    )
    consumes = capability["capability"]["consumes"][0]
    assert consumes["authentication"]["value"] == "{{TEST_API_API_KEY}}"
    assert capability["binds"] == [
        {
            "namespace": "test-api-env",
            "description": "Credentials for Test API, read from the environment.",
            "keys": {"TEST_API_API_KEY": "TEST_API_API_KEY"},
        }
    ]


def test_without_security_there_are_no_binds_and_no_authentication(tmp_path: Path) -> None:
    capability = imported(tmp_path, openapi({"/x": {"get": {"responses": OK}}}))
    assert "binds" not in capability
    assert "authentication" not in capability["capability"]["consumes"][0]


def test_info_comes_from_the_document_with_the_tags_the_operations_carry(tmp_path: Path) -> None:
    document = openapi(
        {"/x": {"get": {"tags": ["Zeta", "Alpha"], "responses": OK}}}, tags=[{"name": "Alpha"}, {"name": "Unused"}]
    )
    document["info"]["description"] = "What it does."
    assert imported(tmp_path, document)["info"] == {
        "label": "Test API",
        "description": "What it does.",
        "tags": ["Alpha", "Zeta"],
    }


def test_text_the_official_lint_rejects_is_defused(tmp_path: Path) -> None:
    document = openapi(
        {"/x": {"get": {"operationId": "x", "description": "Run <script>eval(1)</script>", "responses": OK}}}
    )
    assert tools(imported(tmp_path, document))["x"]["description"] == "Run &lt;script>eval (1)</script>"


def test_a_placeholder_base_uri_says_how_to_replace_it(tmp_path: Path) -> None:
    consumes = imported(tmp_path, openapi({"/x": {"get": {"responses": OK}}}))["capability"]["consumes"][0]
    assert consumes["baseUri"] == "https://base-uri.invalid"
    assert "serve with --base-uri test-api=URL" in consumes["description"]


def test_tool_names_are_kept_within_64_characters(tmp_path: Path) -> None:
    long_id = "PatchIntegrationsIntegrationIdIntegrationFieldsIntegrationFieldIdPassthroughSetting"
    capability = imported(tmp_path, openapi({"/x": {"patch": {"operationId": long_id, "responses": OK}}}))
    [name] = tools(capability)
    assert len(name) <= 64
    assert name.startswith("patch-integrations-integration-id")
    # The consumed operation keeps its whole name.
    assert tools(capability)[name]["call"].endswith(
        ".patch-integrations-integration-id-integration-fields-integration-field-id-passthrough-setting"
    )


def test_a_tag_filter_that_matches_nothing_is_an_error_listing_the_tags(tmp_path: Path) -> None:
    document = openapi({"/x": {"get": {"tags": ["General"], "responses": OK}}})
    with pytest.raises(ImportFailure, match=r"no operation carries the tag\(s\) Billing; the document's tags: General"):
        imported(tmp_path, document, tags=("Billing",))


def test_a_document_without_operations_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ImportFailure, match="no operations to import"):
        imported(tmp_path, openapi({}))


def test_spaces_at_line_ends_are_dropped_so_long_text_stays_a_readable_block(tmp_path: Path) -> None:
    document = openapi(
        {"/x": {"get": {"operationId": "x", "description": "First line.  \nSecond line.\t\n", "responses": OK}}}
    )
    path = write_document(tmp_path, document)
    found = import_openapi(path, ImportOptions())
    assert tools(found.capability)["x"]["description"] == "First line.\nSecond line."
    assert "description: |-\n        First line.\n        Second line.\n" in found.to_yaml()
