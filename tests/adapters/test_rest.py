"""adapters/rest.py: RestApp as an ASGI app, in front of a real upstream."""

from __future__ import annotations

import json
import re
import socket
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest

from naftiko_runtime.adapters.asgi import PROBLEM_JSON
from naftiko_runtime.consumer.client import Timeouts
from tests.adapters.conftest import DATA, KOMBO, OpenRest, Wire
from tests.consumer.upstream_stub import StubUpstream

pytestmark = pytest.mark.anyio

PROBLEM = PROBLEM_JSON.decode()


async def kombo_rest(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, api_key: str, **app_options: int
) -> httpx.AsyncClient:
    capability = await wire(
        KOMBO, base_uris={"kombo-general": upstream.url + "/v1"}, environ={"KOMBO_API_KEY": api_key}
    )
    return await open_rest(capability, **app_options)


# -- routing and pass-through


async def test_a_route_reaches_its_upstream_path_and_returns_the_upstream_json_unchanged(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, api_key: str
) -> None:
    body = b'{"status": "success",  "data": {"id": "personio:1", "big": 123456789012345678901234567890}}'
    upstream.answer(200, body=body)
    client = await kombo_rest(wire, open_rest, upstream, api_key)

    with anyio.fail_after(10):
        response = await client.get("/v1/integrations/personio:1")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == body
    received = upstream.last
    assert received.method == "GET"
    assert received.segments == ["v1", "integrations", "personio:1"]
    assert received.headers["Authorization"] == f"Bearer {api_key}"
    assert received.headers["Accept"] == "application/json"


async def test_path_parameter_with_slash_stays_one_segment(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, api_key: str
) -> None:
    client = await kombo_rest(wire, open_rest, upstream, api_key)

    with anyio.fail_after(10):
        response = await client.get("/v1/integrations/a%2F..%2Fb/custom-fields")

    assert response.status_code == 200
    assert upstream.last.raw_path == "/v1/integrations/a%2F..%2Fb/custom-fields"


async def test_a_dot_dot_path_value_cannot_climb_the_upstream_path(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, api_key: str
) -> None:
    client = await kombo_rest(wire, open_rest, upstream, api_key)

    with anyio.fail_after(10):
        response = await client.delete("/v1/integrations/%2E%2E")

    assert response.status_code == 200
    assert (upstream.last.method, upstream.last.raw_path) == ("DELETE", "/v1/integrations/%2E%2E")


async def test_a_non_ascii_path_value_is_forwarded_percent_encoded_as_utf8(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, api_key: str
) -> None:
    client = await kombo_rest(wire, open_rest, upstream, api_key)

    with anyio.fail_after(10):
        await client.get("/v1/tools/caf%C3%A9")

    assert upstream.last.raw_path == "/v1/tools/caf%C3%A9"


async def test_a_trailing_slash_still_matches_the_route(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, api_key: str
) -> None:
    client = await kombo_rest(wire, open_rest, upstream, api_key)

    with anyio.fail_after(10):
        response = await client.get("/v1/check-api-key/")

    assert response.status_code == 200
    assert upstream.last.raw_path == "/v1/check-api-key"


async def test_query_header_and_body_reach_the_upstream_under_their_consumed_names(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, api_key: str
) -> None:
    client = await kombo_rest(wire, open_rest, upstream, api_key)

    with anyio.fail_after(10):
        listing = await client.get("/v1/integrations/x/integration-fields", params={"page_size": "50", "cursor": "a b"})
        sync = await client.post("/v1/force-sync", headers={"x-integration-id": "personio:1"}, json={"type": "FULL"})

    assert (listing.status_code, sync.status_code) == (200, 200)
    first, second = upstream.requests
    assert sorted(first.query) == [("cursor", "a b"), ("page_size", "50")]
    assert second.headers["X-Integration-Id"] == "personio:1"
    assert second.headers["Content-Type"] == "application/json"
    assert second.json() == {"type": "FULL"}


async def test_kebab_and_snake_spellings_of_one_parameter_are_one_argument(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream
) -> None:
    capability = await wire(DATA / "zoo.yaml", base_uris={"zoo": upstream.url + "/api"}, environ={"ZOO_TOKEN": "zt"})
    client = await open_rest(capability)

    with anyio.fail_after(10):
        response = await client.get(
            "/v1/zoos/z%2F1/animals/lion", params={"include_details": "TRUE"}, headers={"X-Request-Id": "r-1"}
        )

    assert response.status_code == 200
    received = upstream.last
    assert received.raw_path == "/api/Zoos/z%2F1/animals/lion"
    assert received.query == [("Include-Details", "true")]
    assert received.headers["X-Request-Id"] == "r-1"
    assert received.headers["X-Zoo-Key"] == "zt"


async def test_a_whole_json_body_is_forwarded_as_the_upstream_body(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream
) -> None:
    capability = await wire(DATA / "zoo.yaml", base_uris={"zoo": upstream.url}, environ={"ZOO_TOKEN": "zt"})
    client = await open_rest(capability)
    animal = {"name": "Ada", "species": "otter", "tags": ["new", "shy"], "age": 2}

    with anyio.fail_after(10):
        response = await client.post("/v1/zoos/berlin/animals", json=animal)

    assert response.status_code == 200
    assert (upstream.last.method, upstream.last.raw_path) == ("POST", "/Zoos/berlin/animals")
    assert upstream.last.json() == animal


async def test_official_routes_map_the_answer_and_apply_with_templates_and_literals(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream
) -> None:
    capability = await wire(DATA / "library.yaml", base_uris={"catalog": upstream.url}, environ={"LIBRARY_TOKEN": "lt"})
    client = await open_rest(capability)
    upstream.answer(
        json_body={"total": 2, "hits": [{"isbn": "1", "book_title": "Dune"}, {"isbn": "2", "book_title": "Emma"}]}
    )

    with anyio.fail_after(10):
        response = await client.get("/books", params={"query": "title:d*"})

    assert response.status_code == 200
    assert response.json() == [{"isbn": "1", "title": "Dune"}, {"isbn": "2", "title": "Emma"}]
    received = upstream.last
    assert received.raw_path == "/books"
    assert sorted(received.query) == [("limit", "10"), ("q", "title:d*")]
    assert received.headers["Authorization"] == "Bearer lt"
    assert received.headers["Library-Version"] == "2024-10"


async def test_official_double_brace_route_placeholders_feed_the_upstream_path(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream
) -> None:
    capability = await wire(DATA / "library.yaml", base_uris={"catalog": upstream.url}, environ={"LIBRARY_TOKEN": "lt"})
    client = await open_rest(capability)
    upstream.answer(
        json_body={"isbn": "978", "book_title": "Dune", "authors": [{"name": "Herbert"}], "page_count": 412}
    )

    with anyio.fail_after(10):
        response = await client.get("/shelves/sci-fi/books/978", params={"language": "en"})

    assert response.json() == {"isbn": "978", "title": "Dune", "author": "Herbert", "pages": 412}
    assert upstream.last.raw_path == "/shelves/sci-fi/books/978"
    assert upstream.last.query == [("lang", "en")]


async def test_declared_body_fields_are_sent_as_a_json_object(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream
) -> None:
    capability = await wire(DATA / "library.yaml", base_uris={"catalog": upstream.url}, environ={"LIBRARY_TOKEN": "lt"})
    client = await open_rest(capability)

    with anyio.fail_after(10):
        response = await client.post("/books", json={"title": "Dune", "author": "Herbert"})

    assert response.status_code == 200
    assert upstream.last.json() == {"title": "Dune", "author": "Herbert"}


# -- what the facade answers itself


async def test_an_unknown_path_is_a_404_problem(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, api_key: str
) -> None:
    client = await kombo_rest(wire, open_rest, upstream, api_key)

    with anyio.fail_after(10):
        response = await client.get("/v1/nothing/here")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == 404
    assert upstream.requests == []


async def test_a_wrong_method_is_a_405_with_allow_listing_the_routes_methods(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, api_key: str
) -> None:
    client = await kombo_rest(wire, open_rest, upstream, api_key)

    with anyio.fail_after(10):
        response = await client.post("/v1/integrations/personio:1")

    assert response.status_code == 405
    assert sorted(response.headers["allow"].split(", ")) == ["DELETE", "GET", "HEAD", "OPTIONS"]
    assert response.headers["content-type"] == PROBLEM
    assert upstream.requests == []


async def test_a_body_larger_than_the_limit_is_a_413_before_any_upstream_call(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, api_key: str
) -> None:
    client = await kombo_rest(wire, open_rest, upstream, api_key, max_body=1024)

    with anyio.fail_after(10):
        response = await client.post(
            "/v1/force-sync", headers={"X-Integration-Id": "personio:1"}, json={"pad": "x" * 2048}
        )

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert upstream.requests == []


async def test_a_streamed_body_without_length_is_cut_off_at_the_limit(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, api_key: str
) -> None:
    client = await kombo_rest(wire, open_rest, upstream, api_key, max_body=1024)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield b"x" * 512

    with anyio.fail_after(10):
        response = await client.post("/v1/force-sync", headers={"X-Integration-Id": "p:1"}, content=chunks())

    assert response.status_code == 413
    assert upstream.requests == []


async def test_bad_input_is_a_400_problem_listing_each_problem_with_its_location(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream
) -> None:
    capability = await wire(DATA / "zoo.yaml", base_uris={"zoo": upstream.url}, environ={"ZOO_TOKEN": "zt"})
    client = await open_rest(capability)

    with anyio.fail_after(10):
        response = await client.get("/v1/zoos/z/animals/a", params={"include_details": "maybe"})

    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"] == [
        {"location": "query.include_details", "message": "expected boolean, got string"}
    ]
    assert upstream.requests == []


async def test_a_missing_required_header_is_reported_at_its_header_location(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, api_key: str
) -> None:
    client = await kombo_rest(wire, open_rest, upstream, api_key)

    with anyio.fail_after(10):
        response = await client.post("/v1/passthrough/personio/hris", json={"method": "GET", "path": "/x"})

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"location": "header.X-Integration-Id", "message": "required argument is missing"}
    ]
    assert upstream.requests == []


async def test_a_body_that_is_not_json_is_reported_at_the_body(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, api_key: str
) -> None:
    client = await kombo_rest(wire, open_rest, upstream, api_key)

    with anyio.fail_after(10):
        response = await client.put(
            "/v1/integrations/x/enabled", content=b"{value: true", headers={"Content-Type": "application/json"}
        )

    assert response.status_code == 400
    assert response.json()["errors"] == [{"location": "body", "message": "request body is not valid JSON"}]


async def test_a_body_of_the_wrong_json_type_is_reported_at_body_dot_body(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, api_key: str
) -> None:
    client = await kombo_rest(wire, open_rest, upstream, api_key)

    with anyio.fail_after(10):
        response = await client.put("/v1/integrations/x/enabled", json=[True])

    assert response.status_code == 400
    assert response.json()["errors"] == [{"location": "body.body", "message": "expected object, got array"}]


# -- upstream failures


@pytest.mark.parametrize("status", [400, 401, 404, 429, 500])
async def test_an_upstream_error_passes_through_with_its_status_and_json_body(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, api_key: str, status: int
) -> None:
    body = json.dumps({"status": "error", "error": {"code": "PLATFORM.X", "message": f"told {status}"}}).encode()
    upstream.answer(status, body=body)
    client = await kombo_rest(wire, open_rest, upstream, api_key)

    with anyio.fail_after(10):
        response = await client.get("/v1/integrations/personio:1")

    assert response.status_code == status
    assert response.content == body
    assert response.headers["content-type"] == "application/json"


async def test_an_upstream_204_is_answered_204_without_a_body(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, api_key: str
) -> None:
    upstream.answer(204, body=b"", content_type=None)
    client = await kombo_rest(wire, open_rest, upstream, api_key)

    with anyio.fail_after(10):
        response = await client.delete("/v1/integrations/personio:1")

    assert response.status_code == 204
    assert response.content == b""


async def test_a_2xx_upstream_answer_that_is_not_json_is_a_502_problem(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, api_key: str
) -> None:
    upstream.answer(200, body=b"<html>maintenance</html>", content_type="text/html")
    client = await kombo_rest(wire, open_rest, upstream, api_key)

    with anyio.fail_after(10):
        response = await client.get("/v1/check-api-key")

    assert response.status_code == 502
    assert response.headers["content-type"] == PROBLEM
    assert "text/html" in response.json()["detail"]


async def test_a_2xx_image_is_passed_on_with_its_content_type(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, api_key: str
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
    upstream.answer(200, body=png, content_type="image/png")
    client = await kombo_rest(wire, open_rest, upstream, api_key)

    with anyio.fail_after(10):
        response = await client.get("/v1/check-api-key")

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == png


async def test_an_unreachable_upstream_is_a_502_problem(wire: Wire, open_rest: OpenRest, api_key: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        capability = await wire(
            KOMBO, base_uris={"kombo-general": f"http://127.0.0.1:{port}/v1"}, environ={"KOMBO_API_KEY": api_key}
        )
        client = await open_rest(capability)

        with anyio.fail_after(10):
            response = await client.get("/v1/check-api-key")

    assert response.status_code == 502
    problem = response.json()
    assert problem["operation"] == "kombo-general.getcheckapikey"
    assert f"127.0.0.1:{port}" in problem["detail"]


async def test_an_upstream_slower_than_the_read_timeout_is_a_504_problem(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, api_key: str
) -> None:
    upstream.hold()
    capability = await wire(
        KOMBO,
        base_uris={"kombo-general": upstream.url + "/v1"},
        environ={"KOMBO_API_KEY": api_key},
        timeouts=Timeouts(connect=2.0, read=0.2),
    )
    client = await open_rest(capability)

    with anyio.fail_after(10):
        response = await client.get("/v1/check-api-key")

    assert response.status_code == 504
    assert response.json()["title"] == "Gateway Timeout"


async def test_a_missing_credential_is_a_503_naming_the_variable_and_nothing_is_sent(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream
) -> None:
    capability = await wire(KOMBO, base_uris={"kombo-general": upstream.url + "/v1"}, environ={})
    client = await open_rest(capability)

    with anyio.fail_after(10):
        response = await client.get("/v1/check-api-key")
        ready = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["missing"] == ["KOMBO_API_KEY"]
    assert upstream.requests == []
    assert ready.status_code == 503
    assert "missing variable KOMBO_API_KEY" in ready.text


async def test_an_empty_base_uri_is_a_503_telling_to_pass_base_uri(
    wire: Wire, open_rest: OpenRest, tmp_path: Path
) -> None:
    path = tmp_path / "nobase.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            naftiko: 1.0.0-alpha2
            capability:
              consumes:
              - type: http
                namespace: weather
                baseUri: ''
                resources:
                - name: now
                  path: /now
                  operations:
                  - name: getnow
                    method: GET
              exposes:
              - type: rest
                namespace: weather-rest
                port: 8080
                resources:
                - path: /now
                  operations:
                  - method: GET
                    call: weather.getnow
            """
        )
    )
    capability = await wire(path, base_uris={})
    client = await open_rest(capability)

    with anyio.fail_after(10):
        response = await client.get("/now")

    assert response.status_code == 503
    assert "--base-uri weather=URL" in response.json()["detail"]


async def test_healthz_answers_while_readyz_reports_readiness(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, api_key: str
) -> None:
    client = await kombo_rest(wire, open_rest, upstream, api_key)

    with anyio.fail_after(10):
        health = await client.get("/healthz")
        ready = await client.get("/readyz")

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert upstream.requests == []


SHOP = """\
naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: shop
    baseUri: http://shop.invalid
    resources:
    - name: tools-category
      path: /tools/{category}
      operations:
      - name: gettools
        method: GET
        inputParameters:
        - name: category
          in: path
          type: string
          required: true
        - name: session
          in: cookie
          type: string
  exposes:
  - type: rest
    namespace: shop-rest
    port: 8080
    resources:
    - path: /tools
      operations:
      - method: GET
        call: shop.gettools
        with:
          category: rest.category
          session: rest.session
"""


async def test_a_consumed_path_parameter_the_route_lacks_is_read_from_the_query(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, tmp_path: Path
) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP)
    capability = await wire(path, base_uris={"shop": upstream.url})
    client = await open_rest(capability)

    with anyio.fail_after(10):
        found = await client.get("/tools", params={"category": "hr/is"})
        missing = await client.get("/tools")

    assert found.status_code == 200
    assert upstream.last.raw_path == "/tools/hr%2Fis"
    assert missing.status_code == 400
    assert missing.json()["errors"] == [{"location": "query.category", "message": "required argument is missing"}]
    assert len(upstream.requests) == 1


async def test_a_cookie_argument_is_read_from_the_request_cookie_and_forwarded_encoded(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, tmp_path: Path
) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP)
    capability = await wire(path, base_uris={"shop": upstream.url})
    client = await open_rest(capability)

    with anyio.fail_after(10):
        response = await client.get("/tools?category=hris", headers={"Cookie": "theme=dark; session=a%3Bb"})

    assert response.status_code == 200
    assert upstream.last.headers["Cookie"] == "session=a%3Bb"


ROUTED_CAPABILITIES = [
    (KOMBO, "kombo-general"),
    (DATA / "library.yaml", "catalog"),
    (DATA / "zoo.yaml", "zoo"),
    (DATA / "generated" / "notion-pages.yaml", "notion-pages"),
    (DATA / "generated" / "kombo-kombo-connect.yaml", "kombo-kombo-connect"),
]


@pytest.mark.parametrize(("path", "namespace"), ROUTED_CAPABILITIES, ids=lambda value: getattr(value, "name", ""))
async def test_every_declared_route_is_reachable_with_its_method(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, path: Path, namespace: str
) -> None:
    capability = await wire(path, base_uris={namespace: upstream.url})
    client = await open_rest(capability)
    routes = [action for adapter in capability.adapters if adapter.type == "rest" for action in adapter.actions]
    assert routes

    for route in routes:
        url = re.sub(r"\{\{?[^{}/]+\}?\}", "x", route.path)
        with anyio.fail_after(10):
            response = await client.request(route.method, url)
        assert response.status_code not in (404, 405), (route.method, route.path, response.text)


async def test_a_path_value_of_the_wrong_type_is_reported_at_its_path_location(
    wire: Wire, open_rest: OpenRest, upstream: StubUpstream, tmp_path: Path
) -> None:
    path = tmp_path / "orders.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            naftiko: 1.0.0-alpha2
            capability:
              consumes:
              - type: http
                namespace: shop
                baseUri: http://shop.invalid
                resources:
                - name: orders-order_id
                  path: /orders/{order_id}
                  operations:
                  - name: getorder
                    method: GET
                    inputParameters:
                    - name: order_id
                      in: path
                      type: integer
                      required: true
              exposes:
              - type: rest
                namespace: shop-rest
                port: 8080
                resources:
                - path: /v1/orders/{order-id}
                  operations:
                  - method: GET
                    call: shop.getorder
                    with:
                      order_id: rest.order_id
            """
        )
    )
    capability = await wire(path, base_uris={"shop": upstream.url})
    client = await open_rest(capability)

    with anyio.fail_after(10):
        bad = await client.get("/v1/orders/twelve")
        good = await client.get("/v1/orders/12")

    assert bad.status_code == 400
    assert bad.json()["errors"] == [{"location": "path.order_id", "message": "expected integer, got string"}]
    assert good.status_code == 200
    assert [received.raw_path for received in upstream.requests] == ["/orders/12"]
