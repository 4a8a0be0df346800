"""openapi_responses.py: every answer a route can give is documented, with the media types it comes in."""

from __future__ import annotations

from pathlib import Path

from jsonschema import Draft202012Validator

from naftiko_runtime.errors import CallError, Problem, invalid_arguments
from naftiko_runtime.openapi_responses import PROBLEM_SCHEMA
from tests.openapi_shop import SHOP, SHOP_AUTHENTICATION, exported, shop, write

RUNTIME_MADE = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
RELAYED_TOO = {**RUNTIME_MADE, "*/*": {"schema": {}}}


def test_a_route_calling_an_upstream_documents_its_2xx_the_runtime_errors_and_the_relayed_rest(tmp_path: Path) -> None:
    responses = shop(tmp_path)["paths"]["/notes"]["post"]["responses"]
    assert list(responses) == ["2XX", "400", "401", "413", "502", "503", "504", "default"]
    # A status the runtime and the upstream can both give lists both media types.
    assert all(responses[status]["content"] == RELAYED_TOO for status in ("400", "401", "413", "502", "503", "504"))
    assert responses["default"]["content"] == {"*/*": {"schema": {}}}


def test_typed_output_parameters_type_the_success_answer(tmp_path: Path) -> None:
    answer = shop(tmp_path)["paths"]["/notes"]["post"]["responses"]["2XX"]["content"]["application/json"]["schema"]
    assert answer == {"type": "object", "properties": {"id": {"type": ["string", "null"]}}}


def test_a_route_answering_itself_documents_200_and_only_the_errors_it_can_make(tmp_path: Path) -> None:
    responses = shop(tmp_path)["paths"]["/hello"]["get"]["responses"]
    assert list(responses) == ["200", "401"]
    assert responses["401"]["content"] == RUNTIME_MADE


def test_a_route_with_nothing_to_call_documents_its_501_and_no_success(tmp_path: Path) -> None:
    responses = shop(tmp_path)["paths"]["/broken"]["get"]["responses"]
    assert list(responses) == ["401", "501"]
    assert "shop.nothing" in responses["501"]["description"]


def test_a_route_without_inbound_authentication_documents_no_401_and_no_security(tmp_path: Path) -> None:
    open_shop = SHOP.replace(SHOP_AUTHENTICATION, "")
    assert open_shop != SHOP
    operation = exported([write(tmp_path, open_shop)]).document["paths"]["/notes"]["post"]
    assert "401" not in operation["responses"] and "security" not in operation


def test_the_problem_schema_describes_what_the_runtime_sends() -> None:
    validator = Draft202012Validator(PROBLEM_SCHEMA)
    sent = [
        invalid_arguments([Problem("query.page_size", "expected integer, got string")]).as_problem(),
        CallError(502, "Bad Gateway", "the upstream answered HTML", operation="shop.get-item").as_problem(),
        {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "no route for /x"},
    ]
    for problem in sent:
        assert list(validator.iter_errors(problem)) == []
