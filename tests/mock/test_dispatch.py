"""Microcks dispatchers choose the example that answers, on the tutorial's documents and small ones."""

from __future__ import annotations

from typing import Any

from naftiko_runtime.mock import MockApi
from tests.mock.support import ask, data, document, ok


def test_uri_parts_dispatcher_picks_the_example_named_by_the_path_value(registry: MockApi) -> None:
    response = ask(registry, "GET", "/ships/IMO-9456781")

    assert response.status == 200
    assert data(response)["vessel_name"] == "Pacific Dawn"
    assert data(ask(registry, "GET", "/ships/IMO-9321483"))["vessel_name"] == "Northern Star"


def test_uri_parts_dispatcher_answers_the_first_2xx_example_for_an_unknown_path_value(
    registry: MockApi,
) -> None:
    response = ask(registry, "GET", "/ships/IMO-0000000")

    assert response.status == 200
    assert data(response)["imo_number"] == "IMO-9321483"


def test_uri_params_dispatcher_picks_the_example_named_by_the_query_value(registry: MockApi) -> None:
    ships = data(ask(registry, "GET", "/ships", [("status", "maintenance")]))

    assert [ship["vessel_name"] for ship in ships] == ["Pacific Dawn"]
    assert all(
        ship["operational_status"] == "active" for ship in data(ask(registry, "GET", "/ships", [("status", "active")]))
    )


def test_uri_params_dispatcher_selects_xml_examples_too(dockyard: MockApi) -> None:
    response = ask(dockyard, "GET", "/vessels", [("status", "laid_up")])

    assert response.headers["content-type"] == "application/xml"
    assert b"Iron Maiden" in response.body
    assert b"Old Faithful" not in response.body


def test_fallback_dispatcher_answers_its_fallback_example_when_the_nested_one_finds_nothing(
    registry: MockApi,
) -> None:
    unknown_status = data(ask(registry, "GET", "/ships", [("status", "decommissioned")]))
    no_status = data(ask(registry, "GET", "/ships"))

    assert len(unknown_status) == 2
    assert no_status == unknown_status


def test_query_parameters_outside_the_rules_do_not_change_the_choice(registry: MockApi) -> None:
    ships = data(ask(registry, "GET", "/ships", [("page", "2"), ("status", "maintenance")]))

    assert [ship["vessel_name"] for ship in ships] == ["Pacific Dawn"]


def test_script_dispatcher_returning_a_name_answers_that_example_with_its_status(registry: MockApi) -> None:
    response = ask(registry, "POST", "/voyages", body={"shipImo": "IMO-9321483"})

    assert response.status == 201
    assert data(response)["voyageId"] == "VOY-2026-042"


def _dispatched(extension: dict[str, Any], parameters: list[dict[str, Any]], examples: dict[str, Any]) -> MockApi:
    operation = {"x-microcks-operation": extension, "parameters": parameters, "responses": ok(examples)}
    return MockApi.from_document(document({"/items/{id}": {"get": operation}}), "test.yaml")


def test_uri_elements_dispatcher_combines_path_and_query_values() -> None:
    api = _dispatched(
        {"dispatcher": "URI_ELEMENTS", "dispatcherRules": "id ?? page && size"},
        [{"name": "id", "in": "path"}, {"name": "page", "in": "query"}, {"name": "size", "in": "query"}],
        {"first": {"n": 1}, "/id=7?page=2?size=10": {"n": 2}},
    )

    assert data(ask(api, "GET", "/items/7", [("size", "10"), ("page", "2")])) == {"n": 2}
    assert data(ask(api, "GET", "/items/7", [("page", "3"), ("size", "10")])) == {"n": 1}


def test_criteria_come_from_parameter_examples_of_the_same_name() -> None:
    api = _dispatched(
        {"dispatcher": "URI_PARTS", "dispatcherRules": "id"},
        [{"name": "id", "in": "path", "examples": {"laurent": {"value": "42"}, "other": {"value": "7"}}}],
        {"other": {"owner": "other"}, "laurent": {"owner": "laurent"}},
    )

    assert data(ask(api, "GET", "/items/42")) == {"owner": "laurent"}
    assert data(ask(api, "GET", "/items/7")) == {"owner": "other"}


def test_query_header_dispatcher_picks_the_example_named_by_a_header_value() -> None:
    api = _dispatched(
        {"dispatcher": "QUERY_HEADER", "dispatcherRules": "X-Tenant"},
        [],
        {"default": {"tenant": None}, "?x-tenant=acme": {"tenant": "acme"}},
    )

    assert data(ask(api, "GET", "/items/1", headers={"X-Tenant": "acme"})) == {"tenant": "acme"}
    assert data(ask(api, "GET", "/items/1", headers={"X-Tenant": "zeta"})) == {"tenant": None}


def test_json_body_dispatcher_compares_a_body_field_against_its_cases() -> None:
    rules = '{"exp": "/country", "op": "equals", "cases": {"Belgium": "accepted", "default": "refused"}}'
    operation = {
        "x-microcks-operation": {"dispatcher": "JSON_BODY", "dispatcherRules": rules},
        "responses": {**ok({"accepted": {"ok": True}}, "201"), **ok({"refused": {"ok": False}}, "406")},
    }
    api = MockApi.from_document(document({"/beers": {"post": operation}}), "beers.yaml")

    accepted = ask(api, "POST", "/beers", body={"country": "Belgium"})
    refused = ask(api, "POST", "/beers", body={"country": "Germany"})

    assert (accepted.status, data(accepted)) == (201, {"ok": True})
    assert (refused.status, data(refused)) == (406, {"ok": False})


def test_json_body_dispatcher_supports_range_regexp_size_and_presence() -> None:
    def choose(op: str, cases: str, body: Any) -> Any:
        rules = f'{{"exp": "/v", "op": "{op}", "cases": {cases}}}'
        api = _dispatched({"dispatcher": "JSON_BODY", "dispatcherRules": rules}, [], {"yes": "yes", "no": "no"})
        return data(ask(api, "GET", "/items/1", body=body))

    assert choose("range", '{"[1;10]": "yes", "default": "no"}', {"v": 10}) == "yes"
    assert choose("range", '{"[1;10[": "yes", "default": "no"}', {"v": 10}) == "no"
    assert choose("regexp", '{"^ab.*": "yes", "default": "no"}', {"v": "abc"}) == "yes"
    assert choose("size", '{"[2;3]": "yes", "default": "no"}', {"v": [1, 2]}) == "yes"
    assert choose("presence", '{"found": "yes", "default": "no"}', {"w": 1}) == "no"


def test_fallback_nests_a_script_and_falls_back_when_its_name_is_unknown() -> None:
    rules = '{"dispatcher": "SCRIPT", "dispatcherRules": "return \\"missing\\"", "fallback": "spare"}'
    api = _dispatched({"dispatcher": "FALLBACK", "dispatcherRules": rules}, [], {"main": 1, "spare": 2})

    assert data(ask(api, "GET", "/items/1")) == 2


def test_script_dispatcher_switches_on_a_header_and_feeds_the_template_context() -> None:
    script = """
        def headers = mockRequest.getRequestHeaders()
        log.info("headers: " + headers)
        if (headers.hasValues("testcase")) {
            def testCase = headers.get("testcase", "null")
            requestContext.label = "case ${testCase}"
            switch (testCase) {
                case "1":
                    return "negative"
                case "2":
                case "3":
                    return "positive"
            }
        }
        return "standard"
    """
    api = _dispatched(
        {"dispatcher": "SCRIPT", "dispatcherRules": script},
        [],
        {"standard": "std", "negative": "{{ label }}", "positive": "pos {{ label }}"},
    )

    assert data(ask(api, "GET", "/items/1", headers={"testcase": "1"})) == "case 1"
    assert data(ask(api, "GET", "/items/1", headers={"testcase": "3"})) == "pos case 3"
    assert data(ask(api, "GET", "/items/1", headers={"testcase": "9"})) == "std"
    assert data(ask(api, "GET", "/items/1")) == "std"


def test_script_dispatcher_reads_the_json_body_with_json_slurper() -> None:
    script = """
        import groovy.json.JsonSlurper
        def json = new groovy.json.JsonSlurper().parseText(mockRequest.requestContent);
        if (json.cars?.Peugeot != null && json.cars.Peugeot.size() > 1) {
            return "Peugeots"
        } else if (json.cars.Volvo) {
            return 'Volvo'
        }
        return json.fallback ?: "Default"
    """
    api = _dispatched(
        {"dispatcher": "SCRIPT", "dispatcherRules": script},
        [],
        {"Default": "d", "Peugeots": "p", "Volvo": "v", "Other": "o"},
    )

    assert data(ask(api, "GET", "/items/1", body={"cars": {"Peugeot": ["208", "308"]}})) == "p"
    assert data(ask(api, "GET", "/items/1", body={"cars": {"Volvo": ["XC40"]}})) == "v"
    assert data(ask(api, "GET", "/items/1", body={"cars": {}, "fallback": "Other"})) == "o"
    assert data(ask(api, "GET", "/items/1", body={"cars": {}})) == "d"


def test_script_dispatcher_reads_query_parameters_through_get_request() -> None:
    script = "return mockRequest.getRequest().getParameter('kind') == 'b' ? 'second' : 'first'"
    api = _dispatched({"dispatcher": "SCRIPT", "dispatcherRules": script}, [], {"first": 1, "second": 2})

    assert data(ask(api, "GET", "/items/1", [("kind", "b")])) == 2
    assert data(ask(api, "GET", "/items/1", [("kind", "a")])) == 1


def test_unsupported_script_is_reported_and_the_first_2xx_example_answers() -> None:
    api = _dispatched(
        {"dispatcher": "SCRIPT", "dispatcherRules": "while (true) { return 'second' }"},
        [],
        {"first": 1, "second": 2},
    )

    assert any("SCRIPT dispatcher not supported" in warning for warning in api.warnings)
    assert data(ask(api, "GET", "/items/1")) == 1


def test_script_failing_at_run_time_answers_the_first_2xx_example() -> None:
    api = _dispatched(
        {"dispatcher": "SCRIPT", "dispatcherRules": "return undefinedThing.name"},
        [],
        {"first": 1, "second": 2},
    )

    assert api.warnings == ()
    assert data(ask(api, "GET", "/items/1")) == 1


def test_unknown_dispatcher_is_reported_and_the_first_2xx_example_answers() -> None:
    api = _dispatched({"dispatcher": "PROXY", "dispatcherRules": "http://x"}, [], {"first": 1})

    assert any("PROXY is not supported" in warning for warning in api.warnings)
    assert data(ask(api, "GET", "/items/1")) == 1


def test_dispatch_is_inferred_from_parameter_examples_without_the_extension() -> None:
    operation = {
        "parameters": [{"name": "id", "in": "path", "examples": {"a": {"value": "1"}, "b": {"value": "2"}}}],
        "responses": ok({"a": "first", "b": "second"}),
    }
    api = MockApi.from_document(document({"/items/{id}": {"get": operation}}), "inferred.yaml")

    assert data(ask(api, "GET", "/items/2")) == "second"
    assert data(ask(api, "GET", "/items/1")) == "first"
    assert data(ask(api, "GET", "/items/3")) == "first"


def test_empty_criteria_never_selects_an_error_example() -> None:
    operation = {
        "x-microcks-operation": {"dispatcher": "URI_PARAMS", "dispatcherRules": "q"},
        "responses": {**ok({"boom": {"error": True}}, "default"), **ok({"fine": {"error": False}})},
    }
    api = MockApi.from_document(document({"/search": {"get": operation}}), "search.yaml")

    response = ask(api, "GET", "/search")

    assert (response.status, data(response)) == (200, {"error": False})
