"""adapters/rest.py: HTTP conventions of the REST facade (HEAD, OPTIONS, 405, CORS, upstream headers, media)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from pathlib import Path

import anyio
import httpx
import pytest

from naftiko_runtime.adapters.asgi import PROBLEM_JSON
from naftiko_runtime.adapters.cors import CorsPolicy
from naftiko_runtime.adapters.health import Health
from naftiko_runtime.adapters.rest import RestApp
from naftiko_runtime.capability import CompiledCapability
from naftiko_runtime.consumer.aiohttp_client import AiohttpClient
from tests.adapters.conftest import DATA, FAST, KOMBO, Wire
from tests.conftest import SecretTripwire
from tests.consumer.upstream_stub import StubUpstream

pytestmark = pytest.mark.anyio

PROBLEM = PROBLEM_JSON.decode()
APP = "https://app.example"
Open = Callable[..., Awaitable[httpx.AsyncClient]]

RELAY = """\
naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: files
    baseUri: http://replaced.invalid
  exposes:
  - type: rest
    namespace: relay
    port: 8080
    resources:
    - path: /files/{{path}}
      description: Everything under /files, relayed.
      forward: {targetNamespace: files, trustedHeaders: []}
"""

STORE = """\
naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: store
    baseUri: http://replaced.invalid
    resources:
    - name: items
      path: /items
      operations:
      - {name: list, method: GET}
      - {name: probe, method: HEAD}
      - {name: describe, method: OPTIONS}
  exposes:
  - type: rest
    namespace: store-rest
    port: 8080
    resources:
    - path: /items
      name: items
      operations:
      - {method: GET, name: list, call: store.list}
      - {method: HEAD, name: probe, call: store.probe}
      - {method: OPTIONS, name: describe, call: store.describe}
"""


@pytest.fixture
async def open_app(secret_tripwire: SecretTripwire) -> AsyncIterator[Open]:
    """An httpx client on the RestApp of a capability, with the CORS origins asked for."""
    async with AsyncExitStack() as stack:

        async def open_client(capability: CompiledCapability, cors: Sequence[str] = ()) -> httpx.AsyncClient:
            rest = [adapter for adapter in capability.adapters if adapter.type == "rest"]
            forwards = [forward for adapter in rest for forward in adapter.forwards]
            if forwards:
                client = AiohttpClient(FAST)
                stack.push_async_callback(client.close)
                for forward in forwards:
                    forward.client = client
            app = RestApp(
                [action for adapter in rest for action in adapter.actions],
                Health([capability]),
                forwards=forwards,
                cors=CorsPolicy.of(cors),
            )

            async def record(response: httpx.Response) -> None:
                await response.aread()
                secret_tripwire.record(f"REST {response.request.method} {response.request.url}", response.content)

            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://facade.test",
                timeout=10.0,
                event_hooks={"response": [record]},
            )
            return await stack.enter_async_context(client)

        yield open_client


async def kombo(
    wire: Wire, open_app: Open, upstream: StubUpstream, api_key: str, **options: Sequence[str]
) -> httpx.AsyncClient:
    capability = await wire(
        KOMBO, base_uris={"kombo-general": upstream.url + "/v1"}, environ={"KOMBO_API_KEY": api_key}
    )
    return await open_app(capability, **options)


# -- HEAD, OPTIONS, 405


async def test_head_on_a_get_route_answers_the_get_status_and_headers_without_a_body(
    wire: Wire, open_app: Open, upstream: StubUpstream, api_key: str
) -> None:
    upstream.answer(200, body=b'{"status": "success", "data": {}}', headers={"X-RateLimit-Remaining": "7"})
    client = await kombo(wire, open_app, upstream, api_key)

    with anyio.fail_after(10):
        head = await client.head("/v1/integrations/personio:1")

    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == "application/json"
    assert head.headers["content-length"] == str(len(b'{"status": "success", "data": {}}'))
    assert head.headers["x-ratelimit-remaining"] == "7"
    assert (upstream.last.method, upstream.last.segments) == ("GET", ["v1", "integrations", "personio:1"])


async def test_head_keeps_the_upstream_error_status(
    wire: Wire, open_app: Open, upstream: StubUpstream, api_key: str
) -> None:
    upstream.answer(404, json_body={"status": "error", "error": {"message": "no such integration"}})
    client = await kombo(wire, open_app, upstream, api_key)

    with anyio.fail_after(10):
        head = await client.head("/v1/integrations/nobody")

    assert (head.status_code, head.content) == (404, b"")


async def test_head_on_a_route_without_get_is_a_405(
    wire: Wire, open_app: Open, upstream: StubUpstream, api_key: str
) -> None:
    client = await kombo(wire, open_app, upstream, api_key)

    with anyio.fail_after(10):
        head = await client.head("/v1/force-sync")

    assert head.status_code == 405
    assert head.headers["allow"] == "POST, OPTIONS"
    assert upstream.requests == []


async def test_options_on_a_route_path_answers_allow_without_calling_the_upstream(
    wire: Wire, open_app: Open, upstream: StubUpstream, api_key: str
) -> None:
    client = await kombo(wire, open_app, upstream, api_key)

    with anyio.fail_after(10):
        integration = await client.options("/v1/integrations/personio:1")
        sync = await client.options("/v1/force-sync")

    assert (integration.status_code, integration.content) == (204, b"")
    assert integration.headers["allow"] == "DELETE, GET, HEAD, OPTIONS"
    assert sync.headers["allow"] == "POST, OPTIONS"
    assert upstream.requests == []


async def test_options_on_an_unknown_path_is_a_404(
    wire: Wire, open_app: Open, upstream: StubUpstream, api_key: str
) -> None:
    client = await kombo(wire, open_app, upstream, api_key)

    with anyio.fail_after(10):
        response = await client.options("/v1/nothing-here")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


async def test_another_method_on_a_known_path_is_a_405_problem_with_allow(
    wire: Wire, open_app: Open, upstream: StubUpstream, api_key: str
) -> None:
    client = await kombo(wire, open_app, upstream, api_key)

    with anyio.fail_after(10):
        response = await client.patch("/v1/check-api-key")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    assert response.json()["detail"] == "PATCH is not allowed here; allowed: GET, HEAD, OPTIONS"
    assert upstream.requests == []


async def test_declared_head_and_options_routes_call_their_own_operations(
    tmp_path: Path, wire: Wire, open_app: Open, upstream: StubUpstream
) -> None:
    (tmp_path / "store.yaml").write_text(STORE)
    capability = await wire(tmp_path / "store.yaml", base_uris={"store": upstream.url})
    client = await open_app(capability)
    upstream.answer(204, body=b"", content_type=None)

    with anyio.fail_after(10):
        head = await client.head("/items")
        options = await client.options("/items")

    assert (head.status_code, options.status_code) == (204, 204)
    assert [request.method for request in upstream.requests] == ["HEAD", "OPTIONS"]


async def test_a_preflight_is_answered_here_even_where_a_route_declares_options(
    tmp_path: Path, wire: Wire, open_app: Open, upstream: StubUpstream
) -> None:
    (tmp_path / "store.yaml").write_text(STORE)
    capability = await wire(tmp_path / "store.yaml", base_uris={"store": upstream.url})
    client = await open_app(capability, cors=[APP])

    with anyio.fail_after(10):
        response = await client.options("/items", headers={"Origin": APP, "Access-Control-Request-Method": "GET"})

    assert response.status_code == 204
    assert response.headers["access-control-allow-methods"] == "GET, HEAD, OPTIONS"
    assert upstream.requests == []


# -- CORS


async def test_without_cors_origins_no_cors_header_is_ever_sent(
    wire: Wire, open_app: Open, upstream: StubUpstream, api_key: str
) -> None:
    client = await kombo(wire, open_app, upstream, api_key)

    with anyio.fail_after(10):
        response = await client.get("/v1/check-api-key", headers={"Origin": APP})
        preflight = await client.options(
            "/v1/check-api-key", headers={"Origin": APP, "Access-Control-Request-Method": "GET"}
        )

    assert not [name for name in response.headers if name.startswith("access-control-")]
    assert not [name for name in preflight.headers if name.startswith("access-control-")]
    assert "vary" not in response.headers


async def test_a_preflight_from_an_allowed_origin_is_answered_with_the_routes_methods(
    wire: Wire, open_app: Open, upstream: StubUpstream, api_key: str
) -> None:
    client = await kombo(wire, open_app, upstream, api_key, cors=[APP])

    with anyio.fail_after(10):
        response = await client.options(
            "/v1/force-sync",
            headers={
                "Origin": APP,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type, x-integration-id",
            },
        )

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == APP
    assert response.headers["access-control-allow-methods"] == "POST, OPTIONS"
    assert response.headers["access-control-allow-headers"] == "content-type, x-integration-id"
    assert "Origin" in response.headers.get_list("vary")
    assert upstream.requests == []


async def test_a_preflight_from_another_origin_gets_no_cors_permission(
    wire: Wire, open_app: Open, upstream: StubUpstream, api_key: str
) -> None:
    client = await kombo(wire, open_app, upstream, api_key, cors=[APP])

    with anyio.fail_after(10):
        response = await client.options(
            "/v1/force-sync", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
        )

    assert response.status_code == 204
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-methods" not in response.headers


async def test_an_allowed_origin_reads_answers_and_errors_with_the_passed_headers_exposed(
    wire: Wire, open_app: Open, upstream: StubUpstream, api_key: str
) -> None:
    upstream.answer(429, json_body={"error": {"message": "slow down"}}, headers={"Retry-After": "30"})
    client = await kombo(wire, open_app, upstream, api_key, cors=[APP])

    with anyio.fail_after(10):
        limited = await client.get("/v1/check-api-key", headers={"Origin": APP})
        invalid = await client.post("/v1/force-sync", headers={"Origin": APP}, json={"type": "FULL"})
        missing = await client.get("/v1/nothing", headers={"Origin": APP})

    assert limited.status_code == 429
    assert limited.headers["access-control-allow-origin"] == APP
    assert limited.headers["access-control-expose-headers"] == "retry-after"
    assert limited.headers["vary"] == "Origin"
    assert [invalid.status_code, missing.status_code] == [400, 404]
    assert invalid.headers["access-control-allow-origin"] == APP
    assert missing.headers["access-control-allow-origin"] == APP


async def test_a_star_origin_lets_any_page_read_the_answers(
    wire: Wire, open_app: Open, upstream: StubUpstream, api_key: str
) -> None:
    client = await kombo(wire, open_app, upstream, api_key, cors=["*"])

    with anyio.fail_after(10):
        response = await client.get("/v1/check-api-key", headers={"Origin": "https://anywhere.example"})

    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


async def test_a_preflight_for_a_forward_path_is_answered_here_not_relayed(
    tmp_path: Path, wire: Wire, open_app: Open, upstream: StubUpstream
) -> None:
    (tmp_path / "relay.yaml").write_text(RELAY)
    capability = await wire(tmp_path / "relay.yaml", base_uris={"files": upstream.url})
    client = await open_app(capability, cors=[APP])

    with anyio.fail_after(10):
        preflight = await client.options(
            "/files/a/b", headers={"Origin": APP, "Access-Control-Request-Method": "DELETE"}
        )
        relayed = await client.options("/files/a/b")

    assert preflight.status_code == 204
    assert "DELETE" in preflight.headers["access-control-allow-methods"]
    assert [request.method for request in upstream.requests] == ["OPTIONS"]
    assert relayed.status_code == 200


# -- upstream headers and content types


async def test_a_created_answer_passes_location_and_rate_limits_but_never_cookies_or_hop_by_hop_headers(
    wire: Wire, open_app: Open, upstream: StubUpstream, api_key: str
) -> None:
    upstream.answer(
        201,
        json_body={"status": "success", "data": {"sync_id": "s1"}},
        headers={
            "Location": "/v1/syncs/s1",
            "RateLimit-Policy": "100;w=60",
            "X-RateLimit-Remaining": "99",
            "Set-Cookie": "session=upstream-secret",
            "Keep-Alive": "timeout=5",
            "Proxy-Authenticate": "Basic",
            "Server": "upstream/1.0",
            "Cache-Control": "public, max-age=600",
        },
    )
    client = await kombo(wire, open_app, upstream, api_key)

    with anyio.fail_after(10):
        response = await client.post("/v1/force-sync", headers={"X-Integration-Id": "p:1"}, json={"type": "FULL"})

    assert response.status_code == 201
    assert response.headers["location"] == "/v1/syncs/s1"
    assert response.headers["ratelimit-policy"] == "100;w=60"
    assert response.headers["x-ratelimit-remaining"] == "99"
    for absent in ("set-cookie", "keep-alive", "proxy-authenticate", "server", "cache-control"):
        assert absent not in response.headers


async def test_an_upstream_error_passes_retry_after_with_its_status_and_body(
    wire: Wire, open_app: Open, upstream: StubUpstream, api_key: str
) -> None:
    upstream.answer(
        503, body=b"maintenance", content_type="text/plain", headers={"Retry-After": "120", "Set-Cookie": "a=b"}
    )
    client = await kombo(wire, open_app, upstream, api_key)

    with anyio.fail_after(10):
        response = await client.get("/v1/check-api-key")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "120"
    assert response.headers["content-type"] == "text/plain"
    assert response.content == b"maintenance"
    assert "set-cookie" not in response.headers


async def test_an_empty_upstream_error_stays_empty_and_unlabelled(
    wire: Wire, open_app: Open, upstream: StubUpstream, api_key: str
) -> None:
    upstream.answer(404, body=b"", content_type=None)
    client = await kombo(wire, open_app, upstream, api_key)

    with anyio.fail_after(10):
        response = await client.get("/v1/integrations/nobody")

    assert response.status_code == 404
    assert response.content == b""
    assert "content-type" not in response.headers


async def test_a_mapped_answer_still_passes_the_rate_limit_headers(
    wire: Wire, open_app: Open, upstream: StubUpstream
) -> None:
    capability = await wire(DATA / "library.yaml", base_uris={"catalog": upstream.url}, environ={"LIBRARY_TOKEN": "lt"})
    client = await open_app(capability)
    upstream.answer(json_body={"total": 0, "hits": []}, headers={"X-RateLimit-Remaining": "4", "ETag": '"v1"'})

    with anyio.fail_after(10):
        response = await client.get("/books", params={"query": "x"})

    assert response.json() == []
    assert response.headers["x-ratelimit-remaining"] == "4"
    assert "etag" not in response.headers


async def test_a_non_json_answer_keeps_its_content_type_and_file_name(
    wire: Wire, open_app: Open, upstream: StubUpstream, api_key: str
) -> None:
    pdf = b"%PDF-1.7\n" + bytes(range(32))
    upstream.answer(
        200,
        body=pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="report.pdf"'},
    )
    client = await kombo(wire, open_app, upstream, api_key)

    with anyio.fail_after(10):
        response = await client.get("/v1/check-api-key")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="report.pdf"'
    assert response.content == pdf


async def test_a_forward_passes_the_allowlisted_headers_too(
    tmp_path: Path, wire: Wire, open_app: Open, upstream: StubUpstream
) -> None:
    (tmp_path / "relay.yaml").write_text(RELAY)
    capability = await wire(tmp_path / "relay.yaml", base_uris={"files": upstream.url})
    client = await open_app(capability)
    upstream.answer(429, body=b"", content_type=None, headers={"Retry-After": "9", "Set-Cookie": "x=y"})

    with anyio.fail_after(10):
        response = await client.get("/files/a")

    assert response.status_code == 429
    assert response.headers["retry-after"] == "9"
    assert "set-cookie" not in response.headers
