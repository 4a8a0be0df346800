"""Kombo's whole OpenAPI document imported, validated strictly and served: every route and every tool
reaches an echo upstream with the operation's method and a fully filled path, with the bearer token."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.corpus.serving import McpSession, echo_upstream, mcp_session
from tests.e2e.server import NaftikoServer
from tests.fakes import FakeServer
from tests.importer.support import adapter, cli, listing, strict_verdict, unpack_kombo

NAMESPACE = "kombo"
DOCUMENT_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
ROUTE_PLACEHOLDER = re.compile(r"\{\{([^{}]+)\}\}")
SAMPLES: dict[str, Any] = {"string": "x", "integer": 1, "number": 1.5, "boolean": True, "array": ["x"], "object": {}}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack_kombo(tmp_path_factory.mktemp("kombo-openapi"))


@pytest.fixture(scope="module")
def capability(document: Path) -> Path:
    output = document.with_name("kombo-all.yaml")
    code, _, err = cli("import", "openapi", str(document), "--namespace", NAMESPACE, "--output", str(output))
    assert code == 0, err
    # The companion lends Kombo's request and answer schemas to the routes and tools; the echo upstream's
    # `{"ok": true}` and these tests' generated arguments are about routing, not about matching them.
    output.with_name("kombo-all.openapi.json").unlink()
    return output


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeServer]:
    with echo_upstream() as fake:
        yield fake


@pytest.fixture(scope="module")
def served(capability: Path, upstream: FakeServer, api_key: str) -> Iterator[NaftikoServer]:
    with NaftikoServer(
        [capability],
        args=["--base-uri", f"{NAMESPACE}={upstream.url}/v1"],
        env={"KOMBO_TOKEN": api_key},
    ) as server:
        server.wait_ready()
        yield server
        assert server.stop() == 0, server.output


@pytest.fixture(scope="module")
def mcp(served: NaftikoServer) -> Iterator[McpSession]:
    with mcp_session(served.mcp_url, {}) as session:
        yield session


def sample(name: str) -> str:
    return f"v-{name}"


def expected_requests(document: Path) -> list[tuple[str, str]]:
    """(METHOD, path) of every operation in the OpenAPI document, placeholders filled as `sample` fills them."""
    paths = json.loads(document.read_text())["paths"]
    return sorted(
        (method.upper(), "/v1" + DOCUMENT_PLACEHOLDER.sub(lambda match: sample(match.group(1)), path))
        for path, item in paths.items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    )


def test_the_whole_document_imports_to_a_strictly_valid_capability(capability: Path) -> None:
    assert strict_verdict(capability) == (True, [])


def test_every_route_reaches_the_upstream_with_its_method_and_filled_path(
    capability: Path, document: Path, served: NaftikoServer, upstream: FakeServer, api_key: str
) -> None:
    routes = adapter(listing(capability), "rest")["routes"]
    seen: list[tuple[str, str]] = []
    with httpx.Client(base_url=served.rest_url, timeout=20.0) as client:
        for route in routes:
            url = ROUTE_PLACEHOLDER.sub(lambda match: sample(match.group(1)), route["path"])
            has_body = any(argument["in"] == "body" for argument in route["arguments"])
            answer = client.request(route["method"], url, json={} if has_body else None)
            assert answer.status_code == 200, (route, answer.text)
            request = upstream.last
            assert request.headers["authorization"] == f"Bearer {api_key}"
            seen.append((request.method, request.raw_path))
    assert sorted(seen) == expected_requests(document)


def test_every_tool_reaches_the_upstream_with_its_method_and_filled_path(
    capability: Path, document: Path, mcp: McpSession, upstream: FakeServer
) -> None:
    report = listing(capability)
    urls = {operation["ref"]: operation["url"] for operation in report["operations"]}
    seen: list[tuple[str, str]] = []
    for tool in adapter(report, "mcp")["tools"]:
        in_path = set(ROUTE_PLACEHOLDER.findall(urls[tool["call"]]))
        arguments = {
            argument["name"]: sample(argument["name"]) if argument["name"] in in_path else SAMPLES[argument["type"]]
            for argument in tool["arguments"]
            if argument["required"]
        }
        result = mcp.call_tool(tool["name"], arguments)
        assert not result.is_error, (tool["name"], arguments, result.content)
        request = upstream.last
        seen.append((request.method, request.raw_path))
    assert sorted(seen) == expected_requests(document)
