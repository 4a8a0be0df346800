"""Which answer an operation gives without a dispatcher, and how requests find operations."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from naftiko_runtime.mock import MockApi
from tests.mock.support import REGISTRY_BASE, ask, data, document, ok


def _api(paths: dict[str, Any], **extra: Any) -> MockApi:
    return MockApi.from_document(document(paths, **extra), "inline.yaml")


def test_an_operation_without_dispatcher_answers_its_first_2xx_example() -> None:
    responses = {**ok({"gone": {"e": 1}}, "404"), **ok({"made": {"n": 2}, "again": {"n": 3}}, "201")}
    api = _api({"/things": {"post": {"responses": responses}}})

    response = ask(api, "POST", "/things")

    assert (response.status, data(response)) == (201, {"n": 2})


def test_the_first_2xx_example_comes_from_the_lowest_success_status_that_has_one() -> None:
    responses = {
        "202": {"description": "x", "content": {"application/json": {"example": {"s": 202}}}},
        "200": {"description": "no example", "content": {"application/json": {"schema": {"type": "object"}}}},
    }
    api = _api({"/things": {"get": {"responses": responses}}})

    response = ask(api, "GET", "/things")

    assert (response.status, data(response)) == (202, {"s": 202})


def test_a_json_example_written_as_text_is_answered_as_json() -> None:
    api = _api({"/cars": {"get": {"responses": ok({"list": '[{"name": "307"}]'})}}})

    response = ask(api, "GET", "/cars")

    assert response.headers["content-type"] == "application/json"
    assert data(response) == [{"name": "307"}]


def test_an_example_keeps_its_own_media_type() -> None:
    api = _api({"/x": {"get": {"responses": ok({"p": {"type": "about:blank"}}, media="application/problem+json")}}})

    assert ask(api, "GET", "/x").headers["content-type"] == "application/problem+json"


def test_response_header_examples_are_answered_too() -> None:
    response_spec = ok({"one": {"ok": True}})
    response_spec["200"]["headers"] = {
        "Concurrency-Limit": {"schema": {"type": "integer"}, "example": 5},
        "X-Request": {"examples": {"one": {"value": "r-1"}}},
    }
    api = _api({"/x": {"post": {"responses": response_spec}}})

    headers = ask(api, "POST", "/x").headers

    assert headers["concurrency-limit"] == "5"
    assert headers["x-request"] == "r-1"


def test_x_microcks_refs_name_an_answer_without_content() -> None:
    operation = {
        "parameters": [{"name": "car", "in": "path", "examples": {"laurent_307": {"value": "307"}}}],
        "responses": {
            **ok({"other": {"x": 1}}),
            "204": {"description": "gone", "x-microcks-refs": ["laurent_307"]},
        },
    }
    api = _api({"/cars/{car}": {"delete": operation}})

    deleted = ask(api, "DELETE", "/cars/307")

    assert (deleted.status, deleted.body) == (204, b"")
    assert ask(api, "DELETE", "/cars/308").status == 200


SCHEMAS: dict[str, Any] = {
    "Envelope": {
        "type": "object",
        "required": ["status", "data"],
        "properties": {
            "status": {"type": "string", "const": "success"},
            "data": {"$ref": "#/components/schemas/Item"},
            "ignored": {"type": "string"},
        },
    },
    "Item": {
        "type": "object",
        "required": ["id", "count", "when", "tags", "kind", "score", "flag", "maybe", "mixed", "link"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "count": {"type": "integer", "minimum": 3, "maximum": 9},
            "when": {"type": "string", "format": "date-time"},
            "tags": {"type": "array", "minItems": 2, "items": {"type": "string", "minLength": 2}},
            "kind": {"type": "string", "enum": ["alpha", "beta"]},
            "score": {"type": "number", "exclusiveMinimum": 0.5},
            "flag": {"type": "boolean"},
            "maybe": {"type": ["string", "null"], "maxLength": 0},
            "mixed": {
                "allOf": [
                    {"$ref": "#/components/schemas/Named"},
                    {"required": ["size"], "properties": {"size": {"type": "integer"}}},
                ]
            },
            "link": {"oneOf": [{"type": "null"}, {"type": "string", "format": "uri"}]},
        },
    },
    "Named": {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string", "example": "Ada"}},
    },
    "Tree": {
        "type": "object",
        "required": ["child"],
        "properties": {"child": {"$ref": "#/components/schemas/Tree"}},
    },
}


def _schema_only(schema: Any) -> MockApi:
    responses = {"200": {"description": "x", "content": {"application/json": {"schema": schema}}}}
    return _api({"/x": {"get": {"responses": responses}}}, components={"schemas": SCHEMAS})


def test_an_operation_without_examples_answers_a_minimal_value_valid_for_its_schema() -> None:
    answer = data(ask(_schema_only({"$ref": "#/components/schemas/Envelope"}), "GET", "/x"))

    schema = {"$ref": "#/components/schemas/Envelope", "components": {"schemas": SCHEMAS}}
    assert list(Draft202012Validator(schema).iter_errors(answer)) == []
    assert answer["status"] == "success"
    assert "ignored" not in answer
    assert answer["data"]["mixed"] == {"name": "Ada", "size": 0}
    assert answer["data"]["kind"] == "alpha"


def test_a_minimal_value_for_a_recursive_schema_terminates() -> None:
    assert data(ask(_schema_only({"$ref": "#/components/schemas/Tree"}), "GET", "/x")) == {"child": None}


def test_a_success_response_without_content_answers_with_no_body() -> None:
    api = _api({"/x": {"delete": {"responses": {"204": {"description": "done"}}}}})

    response = ask(api, "DELETE", "/x")

    assert (response.status, response.body) == (204, b"")


def test_an_undescribed_operation_answers_501_problem_json_naming_it(registry: MockApi) -> None:
    response = ask(registry, "DELETE", "/ships/IMO-9321483")

    assert response.status == 501
    assert response.headers["content-type"] == "application/problem+json"
    assert data(response) == {
        "type": "about:blank",
        "title": "Not Implemented",
        "status": 501,
        "detail": "no mock document describes DELETE /ships/IMO-9321483",
    }
    assert not registry.describes("DELETE", "/ships/IMO-9321483")
    assert not registry.describes("GET", "/harbours")


def test_the_servers_base_path_is_stripped_from_request_paths(registry: MockApi) -> None:
    assert registry.describes("GET", f"{REGISTRY_BASE}/ships/IMO-9321483")
    assert registry.describes("GET", "/ships/IMO-9321483")
    assert data(ask(registry, "GET", f"{REGISTRY_BASE}/ships/IMO-9456781"))["vessel_name"] == "Pacific Dawn"
    assert not registry.describes("GET", "/rest/other-api/1.0/ships/IMO-9321483")


def test_server_variables_take_their_defaults_in_the_base_path() -> None:
    servers = [
        {
            "url": "https://{host}/api/{version}",
            "variables": {"host": {"default": "x"}, "version": {"default": "v2"}},
        }
    ]
    api = _api({"/ping": {"get": {"responses": ok({"p": "pong"})}}}, servers=servers)

    assert data(ask(api, "GET", "/api/v2/ping")) == "pong"


def test_a_concrete_path_wins_over_a_templated_one() -> None:
    api = _api(
        {
            "/ships/{id}": {"get": {"responses": ok({"one": "templated"})}},
            "/ships/search": {"get": {"responses": ok({"one": "concrete"})}},
        }
    )

    assert data(ask(api, "GET", "/ships/search")) == "concrete"
    assert data(ask(api, "GET", "/ships/other")) == "templated"


def test_an_encoded_slash_stays_inside_one_path_parameter() -> None:
    operation = {
        "x-microcks-operation": {"dispatcher": "URI_PARTS", "dispatcherRules": "id"},
        "responses": ok({"plain": "plain", "/id=a/b": "slashed"}),
    }
    api = _api({"/files/{id}": {"get": operation}})

    assert data(ask(api, "GET", "/files/a%2Fb")) == "slashed"
    assert not api.describes("GET", "/files/a/b")


def test_a_trailing_slash_and_partial_segment_templates_match() -> None:
    api = _api({"/reports/{name}.json": {"get": {"responses": ok({"r": "report"})}}})

    assert data(ask(api, "GET", "/reports/q1.json/")) == "report"
    assert not api.describes("GET", "/reports/q1.xml")


def test_path_level_parameters_and_refs_are_followed() -> None:
    doc_paths = {
        "/items/{id}": {
            "parameters": [{"$ref": "#/components/parameters/Id"}],
            "get": {
                "x-microcks-operation": {"dispatcher": "URI_PARTS", "dispatcherRules": "id"},
                "responses": {"200": {"$ref": "#/components/responses/Item"}},
            },
        }
    }
    components = {
        "parameters": {"Id": {"name": "id", "in": "path", "examples": {"second": {"value": "2"}}}},
        "responses": {
            "Item": {
                "description": "x",
                "content": {
                    "application/json": {
                        "examples": {"first": {"$ref": "#/components/examples/One"}, "second": {"value": 2}}
                    }
                },
            }
        },
        "examples": {"One": {"value": 1}},
    }
    api = _api(doc_paths, components=components)

    assert data(ask(api, "GET", "/items/2")) == 2
    assert data(ask(api, "GET", "/items/9")) == 1


@pytest.mark.parametrize("method", ["get", "GET", "Get"])
def test_methods_match_whatever_their_case(registry: MockApi, method: str) -> None:
    assert registry.describes(method, "/crew")
