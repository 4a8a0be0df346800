"""The reference engine's conformance list (tests.yml), run against our runtime.

The Microcks documents are served by `naftiko mock`; each tutorial capability is served
with `--base-uri` pointing at them; each case calls its tool (official MCP client) or
route (httpx) with the credentials the capability's binds define, and evaluates every
`jq` validation of the case on the result.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jq  # type: ignore[import-untyped]
import pytest
import yaml

from tests.e2e.mcp_client import connect
from tests.e2e.server import NaftikoServer

HERE = Path(__file__).parent
TUTORIAL = HERE / "tutorial"
CASES: list[dict[str, Any]] = yaml.safe_load((HERE / "tests.yml").read_text())["tests"]
SECRETS: dict[str, str] = yaml.safe_load((TUTORIAL / "shared" / "secrets.yaml").read_text())
MOCK_BASES = {
    "registry": "/rest/naftiko-shipyard-maritime-registry-api/1.0.0-alpha2",
    "legacy": "/rest/naftiko-shipyard-legacy-dockyard-api/1.0.0-alpha2",
}

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def mock_upstream() -> Iterator[str]:
    documents = sorted((HERE / "microcks").glob("*.yaml"))
    process = subprocess.Popen(
        [sys.executable, "-m", "naftiko_runtime", "mock", *map(str, documents), "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()
        assert " at http://" in banner, banner
        yield banner.split(" at ")[1].split(" ")[0]
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


def _declared_ports(capability: Path) -> dict[int, str]:
    """Declared port -> adapter namespace, from `naftiko list`."""
    listing = subprocess.run(
        [sys.executable, "-m", "naftiko_runtime", "list", str(capability), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return {adapter["port"]: adapter["namespace"] for adapter in json.loads(listing.stdout)["adapters"]}


@pytest.fixture(scope="module")
def served(mock_upstream: str) -> Iterator[dict[str, tuple[NaftikoServer, dict[int, str]]]]:
    """One server per tutorial file, started on first use."""
    servers: dict[str, tuple[NaftikoServer, dict[int, str]]] = {}

    def start(name: str) -> tuple[NaftikoServer, dict[int, str]]:
        if name not in servers:
            capability = TUTORIAL / name
            ports = _declared_ports(capability)
            args = ["--host", "127.0.0.1"]
            for namespace, base in MOCK_BASES.items():
                args += ["--base-uri", f"{namespace}={mock_upstream}{base}"]
            for port in ports:
                args += ["--port", f"{port}=0"]
            server = NaftikoServer([capability], args=args, move_ports=())
            server.wait_ready(kinds=())
            servers[name] = (server, ports)
        return servers[name]

    yield start  # type: ignore[misc]
    for server, _ in servers.values():
        server.stop()


def _url(server: NaftikoServer, namespace: str) -> str:
    return server.urls_by_namespace[namespace]


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
async def test_reference_conformance_case(case: dict[str, Any], served: Any) -> None:
    server, ports = served(case["file"])
    url = _url(server, ports[case["port"]])
    if case.get("type") == "rest" or "path" in case:
        response = httpx.request(case.get("method", "GET"), url + case["path"], json=case.get("body"), timeout=10)
        assert response.status_code < 300, response.text
        result = response.json()
    else:
        headers = {"Authorization": f"Bearer {SECRETS['mcp-server-token']}"}
        async with connect(url, headers) as client:
            answer = await client.call_tool(case["tool"], case.get("args") or {})
        text = answer.content[0].text  # type: ignore[union-attr]
        assert not answer.is_error, text
        result = json.loads(text)
    for validation in case["validations"]:
        assert jq.compile(validation["jq"]).input_value(result).first() is True, (validation["jq"], result)
