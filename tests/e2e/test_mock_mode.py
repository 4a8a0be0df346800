"""The offline first run: `serve --mock` and `naftiko mock` answer from OpenAPI examples."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcp import Client

from tests.e2e.conftest import KOMBO_CAPABILITY
from tests.e2e.kombo_cases import CASES, Case
from tests.e2e.server import NaftikoServer

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def mocked() -> Iterator[NaftikoServer]:
    with NaftikoServer([KOMBO_CAPABILITY], args=["--mock"]) as server:
        server.wait_ready()
        yield server
        assert server.stop() == 0


def test_mock_mode_needs_no_key_and_is_ready_without_warnings(mocked: NaftikoServer) -> None:
    ready = httpx.get(f"{mocked.rest_url}/readyz", timeout=5)
    assert ready.status_code == 200
    assert "KOMBO_API_KEY" not in mocked.output


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_every_route_answers_from_the_examples_in_mock_mode(case: Case, mocked: NaftikoServer) -> None:
    response = httpx.request(
        case.method, mocked.rest_url + case.path, params=case.query, headers=case.headers, json=case.body, timeout=10
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "success"


async def test_every_tool_answers_from_the_examples_in_mock_mode(mocked: NaftikoServer) -> None:
    async with Client(mocked.mcp_url) as client:
        for case in CASES:
            result = await client.call_tool(case.tool, case.arguments)
            assert not result.is_error, (case.tool, result.content)
            assert json.loads(result.content[0].text)["status"] == "success"  # type: ignore[union-attr]


def test_an_operation_no_document_describes_answers_501_naming_it(tmp_path: Path) -> None:
    capability = tmp_path / "other.yaml"
    capability.write_text(
        """naftiko: 1.0.0-alpha2
capability:
  consumes:
    - type: http
      namespace: other
      baseUri: https://api.example.com
      resources:
        - name: things
          path: /things
          operations:
            - name: list-things
              method: GET
  exposes:
    - type: rest
      namespace: other-rest
      port: 8080
      resources:
        - path: /things
          operations:
            - method: GET
              call: other.list-things
"""
    )
    with NaftikoServer([capability], args=["--mock"], move_ports=("8080",)) as server:
        server.wait_ready(kinds=("rest",))
        response = httpx.get(f"{server.rest_url}/things", timeout=5)
        server.stop()
    assert response.status_code == 501
    assert "GET /things" in response.json()["detail"]


def test_naftiko_mock_serves_a_document_the_runtime_can_use_as_its_upstream(tmp_path: Path) -> None:
    openapi = KOMBO_CAPABILITY.with_name("kombo.openapi.yaml")
    mock = subprocess.Popen(
        [sys.executable, "-m", "naftiko_runtime", "mock", str(openapi), "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert mock.stderr is not None
        banner = mock.stderr.readline()
        url = banner.split(" at ")[1].split(" ")[0]
        with NaftikoServer(
            [KOMBO_CAPABILITY], args=["--base-uri", f"kombo-general={url}/v1"], env={"KOMBO_API_KEY": "ks_test_x"}
        ) as server:
            server.wait_ready()
            response = httpx.get(f"{server.rest_url}/v1/tools/hris", timeout=10)
            server.stop()
    finally:
        mock.terminate()
        mock.wait(timeout=10)
        mock.stderr.close()  # type: ignore[union-attr]
    assert response.status_code == 200
    assert response.json()["data"]["tools"]


def test_naftiko_call_prints_a_tool_result_offline() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "naftiko_runtime",
            "call",
            str(KOMBO_CAPABILITY),
            "get-tools",
            "--arg",
            "category=ats",
            "--mock",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "success"


def test_naftiko_call_reports_a_bad_argument_and_exits_1() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "naftiko_runtime",
            "call",
            str(KOMBO_CAPABILITY),
            "get-tools",
            "--arg",
            "colour=red",
            "--mock",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "colour" in result.stdout and "unknown argument" in result.stdout
