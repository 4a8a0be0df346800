"""adapters/docs_page.py: the /docs page and its assets, as a REST port serves them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest

from naftiko_runtime.adapters.asgi import PROBLEM_JSON
from naftiko_runtime.adapters.health import Health
from naftiko_runtime.adapters.rest import RestApp

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = RestApp([], Health([]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://facade.test") as client:
        yield client


def referenced(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="([^"]+)"', page)


async def test_the_docs_page_loads_swagger_ui_from_this_port_only(client: httpx.AsyncClient) -> None:
    with anyio.fail_after(10):
        response = await client.get("/docs")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assets = referenced(response.text)
    assert "/docs/static/swagger-ui-bundle.js" in assets
    assert all(url.startswith("/docs/static/") for url in assets)
    assert "<script>" not in response.text  # no inline script: the policy forbids it


async def test_every_asset_the_page_references_is_served_with_its_content_type(client: httpx.AsyncClient) -> None:
    with anyio.fail_after(10):
        page = await client.get("/docs")
        answers = {url: await client.get(url) for url in referenced(page.text)}

    types = {url.rsplit("/", 1)[1]: answer.headers["content-type"] for url, answer in answers.items()}
    assert all(answer.status_code == 200 and answer.content for answer in answers.values())
    assert types["swagger-ui-bundle.js"] == "text/javascript; charset=utf-8"
    assert types["swagger-ui.css"] == "text/css; charset=utf-8"
    assert types["favicon-32x32.png"] == "image/png"
    assert b"SwaggerUIBundle" in answers["/docs/static/swagger-ui-bundle.js"].content


async def test_the_page_script_reads_openapi_json_and_calls_no_outside_service(client: httpx.AsyncClient) -> None:
    with anyio.fail_after(10):
        script = (await client.get("/docs/static/init.js")).text

    assert 'var specUrl = "/openapi.json";' in script
    assert "validatorUrl: null" in script
    assert "http://" not in script and "https://" not in script


async def test_head_on_the_docs_page_gives_its_headers_without_the_body(client: httpx.AsyncClient) -> None:
    with anyio.fail_after(10):
        get = await client.get("/docs")
        head = await client.head("/docs")

    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["content-type"] == get.headers["content-type"]


async def test_options_lists_what_the_docs_page_allows_and_a_post_is_a_405(client: httpx.AsyncClient) -> None:
    with anyio.fail_after(10):
        options = await client.options("/docs")
        post = await client.post("/docs")

    assert (options.status_code, options.headers["allow"]) == (204, "GET, HEAD, OPTIONS")
    assert (post.status_code, post.headers["allow"]) == (405, "GET, HEAD, OPTIONS")
    assert post.headers["content-type"] == PROBLEM_JSON.decode()


async def test_an_unknown_asset_is_a_404_problem_and_files_beside_the_assets_are_not_served(
    client: httpx.AsyncClient,
) -> None:
    with anyio.fail_after(10):
        unknown = await client.get("/docs/static/nothing.js")
        template = await client.get("/docs/static/index.j2")
        climbing = await client.get("/docs/static/..%2F__init__.py")

    assert [unknown.status_code, template.status_code, climbing.status_code] == [404, 404, 404]
    assert unknown.headers["content-type"] == PROBLEM_JSON.decode()
