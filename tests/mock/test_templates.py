"""`{{ ... }}` templates in examples render from the request."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from naftiko_runtime.mock import MockApi
from naftiko_runtime.mock.request import MockRequest
from naftiko_runtime.mock.templates import compile_text, compile_value, format_java_date
from tests.mock.support import ask, data

VOYAGE = {
    "shipImo": "IMO-9321483",
    "departurePort": "Oslo",
    "arrivalPort": "Singapore",
    "departureDate": "2026-04-10",
    "arrivalDate": "2026-05-02",
    "crewIds": ["CREW-001", "CREW-003"],
    "cargoIds": ["CARGO-2024-0451"],
}


def _request(body: bytes = b"", **kwargs: Any) -> MockRequest:
    fields: dict[str, Any] = {"method": "GET", "path": "/", "path_params": {}, "query": (), "headers": {}}
    return MockRequest(**{**fields, **kwargs, "body": body})


def _render(template: str, request: MockRequest) -> str:
    renderer = compile_text(template)
    assert renderer is not None
    return renderer(request)


def test_request_body_template_copies_values_from_the_json_request(registry: MockApi) -> None:
    voyage = data(ask(registry, "POST", "/voyages", body=VOYAGE))

    assert voyage["shipImo"] == "IMO-9321483"
    assert (voyage["departurePort"], voyage["arrivalPort"]) == ("Oslo", "Singapore")
    assert (voyage["departureDate"], voyage["arrivalDate"]) == ("2026-04-10", "2026-05-02")
    assert voyage["status"] == "planned"
    assert voyage["crewIds"] == ["CREW-001", "CREW-003"]


def test_request_body_template_renders_a_missing_field_as_an_empty_string(registry: MockApi) -> None:
    voyage = data(ask(registry, "POST", "/voyages", body={"shipImo": "IMO-1"}))

    assert voyage["shipImo"] == "IMO-1"
    assert voyage["departurePort"] == ""


def test_values_from_the_request_are_json_escaped_inside_the_answer(registry: MockApi) -> None:
    voyage = data(ask(registry, "POST", "/voyages", body={"shipImo": 'quote " and \\ slash'}))

    assert voyage["shipImo"] == 'quote " and \\ slash'


def test_a_whole_field_template_pointing_at_an_array_embeds_the_array() -> None:
    renderer = compile_value({"crew": "{{ request.body/crewIds }}", "first": "{{ request.body/crewIds/0 }}"})
    assert renderer is not None

    rendered = renderer(_request(b'{"crewIds": ["A", "B"]}'))

    assert rendered == {"crew": ["A", "B"], "first": "A"}


def test_numbers_from_the_body_render_as_text_like_microcks() -> None:
    renderer = compile_value({"count": "{{ request.body/count }}", "n": 3})
    assert renderer is not None

    assert renderer(_request(b'{"count": 5}')) == {"count": "5", "n": 3}


def test_static_examples_compile_to_nothing() -> None:
    assert compile_value({"a": ["b", 1, None]}) is None
    assert compile_text("<a>plain</a>") is None


def test_templates_read_path_query_headers_and_the_raw_body() -> None:
    request = _request(
        b"rocks",
        path="/hello/microcks",
        query=(("locale", "US"),),
        headers={"trace": "azertyuiop"},
    )

    rendered = _render(
        "{{request.path[1]}} {{ request.params[locale] }} {{ request.headers[Trace] }} {{ request.body }}",
        request,
    )

    assert rendered == "microcks US azertyuiop rocks"


def test_xpath_template_reads_an_xml_request_body() -> None:
    body = (
        b"<library><name>Mine</name>"
        b"<books><book><title>T1</title></book><book><title>T2</title></book></books></library>"
    )
    request = _request(body)

    assert _render("{{ request.body/library/name }}", request) == "Mine"
    assert _render("{{ request.body//name }}", request) == "Mine"
    assert _render("{{ request.body/library/books/book[2]/title }}", request) == "T2"


def test_fallback_expression_uses_the_first_present_value() -> None:
    request = _request(b'{"b": "second"}')

    assert _render("{{ request.body/a || request.body/b }}", request) == "second"
    assert _render("{{ request.body/a || 'none' }}", request) == "none"


def test_put_stores_a_value_that_later_expressions_read() -> None:
    request = _request(b'{"id": "x1"}')

    assert _render("{{ request.body/id > put(saved) }}-{{ saved }}", request) == "x1-x1"


def test_functions_generate_dynamic_values() -> None:
    request = _request()

    uuid = _render("{{ uuid() }}", request)
    number = int(_render("{{ randomInt(25, 50) }}", request))
    text = _render("{{ randomString(12) }}", request)
    choice = _render("{{ randomValue(apple, pear) }}", request)

    assert len(uuid) == 36 and uuid.count("-") == 4
    assert 25 <= number <= 50
    assert len(text) == 12
    assert choice in ("apple", "pear")
    assert _render("{{ $randomBoolean }}", request) in ("true", "false")
    assert int(_render("{{ now() }}", request)) > 1_600_000_000_000


def test_now_formats_with_a_java_date_pattern() -> None:
    moment = datetime(2020, 2, 11, 13, 48, 12, tzinfo=UTC)

    assert format_java_date(moment, "dd/MM/yyyy HH:mm:ss") == "11/02/2020 13:48:12"
    assert format_java_date(moment, "yyyy-MM-dd'T'HH:mm:ss.SSSXXX") == "2020-02-11T13:48:12.000Z"


def test_now_with_an_amount_shifts_the_date() -> None:
    rendered = _render("{{ now(yyyy, 1y) }}", _request())

    assert int(rendered) == datetime.now(UTC).year + 1


def test_an_unknown_expression_is_left_as_written() -> None:
    assert compile_text("{{ randomCityInAtlantis() }}") is None
    assert _render("{{ nope( }} {{ request.body }}", _request(b"x")) == "{{ nope( }} x"
