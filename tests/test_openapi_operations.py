"""openapi_operations.py: a route's arguments, where the router reads them, as OpenAPI parameters and bodies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from naftiko_runtime.forward import compile_forward
from naftiko_runtime.openapi_operations import forward_template, path_template
from tests.openapi_shop import exported, shop, write

ROOT = Path(__file__).resolve().parents[1]
KOMBO = ROOT / "capabilities" / "kombo.yaml"


def parameters(operation: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["in"], p["name"]): p for p in operation.get("parameters", [])}


def test_a_path_template_has_single_braces_no_trailing_slash_and_its_placeholders_in_order() -> None:
    template = path_template("/a/{{x}}/b/{y-z}/")
    assert (template.template, template.names, template.shape) == ("/a/{x}/b/{y-z}", ("x", "y-z"), "/a/{}/b/{}")
    assert path_template("/").template == "/"


def test_a_route_placeholder_is_a_required_path_parameter_named_as_the_route_path_names_it(tmp_path: Path) -> None:
    operation = shop(tmp_path)["paths"]["/items/{id}"]["get"]
    assert parameters(operation)[("path", "id")] == {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }


def test_query_header_and_cookie_arguments_are_parameters_where_the_router_reads_them(tmp_path: Path) -> None:
    found = parameters(shop(tmp_path)["paths"]["/items/{id}"]["get"])
    # Arrays in the query are repeated parameters; their items travel as text.
    assert found[("query", "fields")] == {
        "name": "fields",
        "in": "query",
        "description": "Fields to return.",
        "schema": {"type": "array", "items": {"type": "string"}},
    }
    # An object travels as JSON text.
    assert found[("query", "filter")]["content"] == {"application/json": {"schema": {"type": "object"}}}
    assert found[("header", "X-Trace")]["required"] is True
    assert "required" not in found[("cookie", "session")]


def test_routes_differing_only_in_placeholder_names_share_one_path_named_as_the_first_route_names_it(
    tmp_path: Path,
) -> None:
    paths = shop(tmp_path)["paths"]
    assert "/items/{key}" not in paths
    delete = paths["/items/{id}"]["delete"]
    assert parameters(delete) == {
        ("path", "id"): {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    }


def test_body_fields_form_one_json_object_body_requiring_the_required_ones(tmp_path: Path) -> None:
    body = shop(tmp_path)["paths"]["/notes"]["post"]["requestBody"]
    assert body == {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"text": {"type": "string"}, "pinned": {"type": "boolean"}},
                    "required": ["text"],
                }
            }
        },
        "required": True,
    }


def test_a_whole_body_argument_is_the_json_body_with_its_own_type(tmp_path: Path) -> None:
    body = shop(tmp_path)["paths"]["/notes"]["put"]["requestBody"]
    assert body == {"content": {"application/json": {"schema": {"type": "array", "items": {}}}}}


def test_a_summary_is_the_first_line_of_the_description_and_the_description_is_kept_whole(tmp_path: Path) -> None:
    operation = shop(tmp_path)["paths"]["/items/{id}"]["get"]
    assert operation["summary"] == "Get an item."
    assert operation["description"] == "Get an item.\nWith the fields asked for."


def test_a_companion_document_types_parameters_and_bodies_as_the_runtime_checks_them() -> None:
    paths = exported([KOMBO], environ={}).document["paths"]
    page_size = parameters(paths["/v1/integrations/{integration-id}/custom-fields"]["get"])[("query", "page_size")]
    assert page_size["schema"]["type"] == "integer" and page_size["schema"]["maximum"] == 250
    body = paths["/v1/force-sync"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["type"]["enum"] == ["FULL", "DELTA"]


FORWARDING = """\
naftiko: 1.0.0-alpha2
capability:
  consumes:
    - type: http
      namespace: notion
      baseUri: http://notion.invalid/v1
  exposes:
    - type: rest
      namespace: relay
      port: 8080
      resources:
        - path: /notion
          forward: {targetNamespace: notion}
        - path: /files/{{name}}
          forward: {targetNamespace: notion}
        - path: /files/{{id}}
          operations:
            - method: GET
              name: get-file
              outputParameters:
                - {name: id, type: string, value: "{{id}}"}
"""


def test_a_forward_is_every_method_relayed_under_a_tail_placeholder(tmp_path: Path) -> None:
    paths = exported([write(tmp_path, FORWARDING)]).document["paths"]
    item = paths["/notion/{path}"]
    assert set(item) == {"get", "put", "post", "delete", "options", "head", "patch"}
    assert parameters(item["post"]) == {
        ("path", "path"): {"name": "path", "in": "path", "required": True, "schema": {"type": "string"}}
    }
    assert item["post"]["requestBody"]["content"] == {"*/*": {"schema": {}}}
    assert all("content" not in response for response in item["head"]["responses"].values())


def test_a_forward_whose_path_a_route_holds_is_left_to_the_route(tmp_path: Path) -> None:
    item = exported([write(tmp_path, FORWARDING)]).document["paths"]["/files/{id}"]
    # The router answers 405 for the route's other methods; it never forwards them.
    assert set(item) == {"get", "head", "options"}


def test_a_forward_without_placeholder_takes_the_rest_of_the_path_as_path() -> None:
    forward = compile_forward("/notion/", None, [])  # type: ignore[arg-type]
    assert forward_template(forward).template == "/notion/{path}"
