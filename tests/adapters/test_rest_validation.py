"""adapters/rest.py: requests checked against the declared inputs before any upstream call, every violation listed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from naftiko_runtime.adapters.asgi import PROBLEM_JSON
from naftiko_runtime.adapters.health import Health
from naftiko_runtime.adapters.rest import RestApp
from naftiko_runtime.capability import CompiledCapability, LoadOptions, load_capability
from naftiko_runtime.consumer.aiohttp_client import AiohttpClient
from naftiko_runtime.diagnostics import CapabilityError
from tests.adapters.conftest import FAST, KOMBO
from tests.conftest import SecretTripwire
from tests.consumer.upstream_stub import StubUpstream

pytestmark = pytest.mark.anyio

VOYAGES = """\
naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: ships
    baseUri: http://replaced.invalid
    resources:
    - name: voyages
      path: /ships/{{imo}}/voyages
      operations:
      - name: plan-voyage
        method: POST
        inputParameters:
        - {name: imo, in: path}
        - {name: limit, in: query}
        - {name: X-Fleet, in: header}
        - {name: port, in: body}
        - {name: days, in: body}
  exposes:
  - type: rest
    namespace: ships-rest
    port: 8080
    resources:
    - path: /ships/{{imo}}/voyages
      name: voyages
      operations:
      - method: POST
        name: plan-voyage
        inputParameters:
        - {name: imo, in: path, type: string, description: IMO number, pattern: "%(imo_pattern)s"}
        - {name: limit, in: query, type: integer, description: At most this many}
        - {name: X-Fleet, in: header, type: string, description: Fleet, required: true}
        - {name: port, in: body, type: string, description: UN/LOCODE, pattern: "^[A-Z]{5}$"}
        - {name: days, in: body, type: integer, description: Length in days}
        call: ships.plan-voyage
        with:
          imo: ships-rest.imo
          limit: ships-rest.limit
          X-Fleet: ships-rest.X-Fleet
          port: ships-rest.port
          days: ships-rest.days
"""


def voyages(tmp_path: Path, imo_pattern: str = "^IMO[0-9]{7}$") -> Path:
    path = tmp_path / "voyages.yaml"
    path.write_text(VOYAGES % {"imo_pattern": imo_pattern})
    return path


@pytest.fixture
async def serve(upstream: StubUpstream, secret_tripwire: SecretTripwire) -> AsyncIterator[Any]:
    """Load a capability (companion documents included, as `serve` does) and talk to its REST app."""
    clients: list[AiohttpClient] = []
    opened: list[httpx.AsyncClient] = []

    async def open_client(path: Path, base_uris: dict[str, str], environ: dict[str, str]) -> httpx.AsyncClient:
        options = LoadOptions(base_uris=base_uris, environ=environ, companion_schemas=True)
        capability: CompiledCapability = load_capability(path, options)
        client = AiohttpClient(FAST)
        clients.append(client)
        actions = [a for adapter in capability.adapters if adapter.type == "rest" for a in adapter.actions]
        for action in actions:
            action.client = client

        async def record(response: httpx.Response) -> None:
            await response.aread()
            secret_tripwire.record(f"REST {response.request.url}", response.content)

        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=RestApp(actions, Health([capability]))),
            base_url="http://facade.test",
            timeout=10.0,
            event_hooks={"response": [record]},
        )
        opened.append(http)
        return http

    try:
        yield open_client
    finally:
        for http in opened:
            await http.aclose()
        for client in clients:
            await client.close()


def errors(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM_JSON.decode()
    return list(response.json()["errors"])


async def test_every_violation_is_listed_with_its_location_in_one_problem(
    tmp_path: Path, serve: Any, upstream: StubUpstream
) -> None:
    client = await serve(voyages(tmp_path), {"ships": upstream.url}, {})

    with anyio.fail_after(10):
        response = await client.post("/ships/12345/voyages", params={"limit": "many"}, json={"port": "hh", "days": "x"})

    assert errors(response) == [
        {"location": "path.imo", "message": "does not match pattern ^IMO[0-9]{7}$"},
        {"location": "query.limit", "message": "expected integer, got string"},
        {"location": "body.port", "message": "does not match pattern ^[A-Z]{5}$"},
        {"location": "body.days", "message": "expected integer, got string"},
        {"location": "header.X-Fleet", "message": "required argument is missing"},
    ]
    assert response.json()["detail"].startswith("invalid arguments: path.imo: does not match pattern")
    assert upstream.requests == []


async def test_valid_arguments_reach_the_upstream_coerced(tmp_path: Path, serve: Any, upstream: StubUpstream) -> None:
    client = await serve(voyages(tmp_path), {"ships": upstream.url}, {})

    with anyio.fail_after(10):
        response = await client.post(
            "/ships/IMO9321483/voyages", params={"limit": "3"}, headers={"X-Fleet": "north"}, json={"port": "DEHAM"}
        )

    assert response.status_code == 200, response.text
    assert upstream.last.raw_path == "/ships/IMO9321483/voyages"
    assert upstream.last.query == [("limit", "3")]
    assert upstream.last.json() == {"port": "DEHAM"}


async def test_a_body_that_is_not_json_is_listed_beside_the_other_problems(
    tmp_path: Path, serve: Any, upstream: StubUpstream
) -> None:
    client = await serve(voyages(tmp_path), {"ships": upstream.url}, {})

    with anyio.fail_after(10):
        response = await client.post(
            "/ships/IMO9321483/voyages",
            params={"limit": "1.5"},
            content=b"port=DEHAM",
            headers={"Content-Type": "application/json"},
        )

    assert errors(response) == [
        {"location": "body", "message": "request body is not valid JSON"},
        {"location": "query.limit", "message": "expected integer, got string"},
        {"location": "header.X-Fleet", "message": "required argument is missing"},
    ]
    assert upstream.requests == []


async def test_companion_schemas_add_enums_ranges_and_body_field_checks(
    serve: Any, upstream: StubUpstream, api_key: str
) -> None:
    client = await serve(KOMBO, {"kombo-general": upstream.url + "/v1"}, {"KOMBO_API_KEY": api_key})

    with anyio.fail_after(10):
        relink = await client.post("/v1/integrations/x/relink", json={"language": "xx", "link_type": "QR"})
        fields = await client.get("/v1/integrations/x/integration-fields", params={"page_size": "99999"})
        tools = await client.get("/v1/tools/crm")

    assert errors(relink) == [
        {"location": "body.language", "message": "must be one of ['en', 'de', 'fr', 'it', 'es']"},
        {"location": "body.link_type", "message": "must be one of ['EMBEDDED', 'MAGIC_LINK']"},
    ]
    assert errors(fields) == [{"location": "query.page_size", "message": "must be <= 2000"}]
    assert errors(tools) == [
        {"location": "path.category", "message": "must be one of ['hris', 'ats', 'assessment', 'lms']"}
    ]
    assert upstream.requests == []


def test_a_declared_pattern_that_is_no_regular_expression_is_refused_at_load(tmp_path: Path) -> None:
    with pytest.raises(CapabilityError) as caught:
        load_capability(voyages(tmp_path, imo_pattern="^IMO[0-9"), LoadOptions(base_uris={"ships": "http://x.invalid"}))

    messages = [diagnostic.message for diagnostic in caught.value.diagnostics]
    assert any("input parameter 'imo': pattern '^IMO[0-9' is not a regular expression" in m for m in messages), messages
