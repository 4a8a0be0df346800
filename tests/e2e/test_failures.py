"""What callers get when things go wrong: a clear answer, never a traceback, never the key."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from mcp import Client

from tests.conftest import SecretTripwire
from tests.e2e.conftest import KOMBO_CAPABILITY
from tests.e2e.server import NaftikoServer
from tests.fakes import KomboFake

pytestmark = pytest.mark.anyio


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_missing_key_starts_not_ready_and_calls_answer_503_naming_the_variable(kombo: KomboFake) -> None:
    with NaftikoServer([KOMBO_CAPABILITY], args=["--base-uri", f"kombo-general={kombo.base_url}"]) as server:
        server.wait_ready()
        ready = httpx.get(f"{server.rest_url}/readyz", timeout=5)
        rest = httpx.get(f"{server.rest_url}/v1/check-api-key", timeout=5)
        async with Client(server.mcp_url) as client:
            tool = await client.call_tool("check-api-key", {})
        assert server.stop() == 0
    assert ready.status_code == 503
    assert "KOMBO_API_KEY" in ready.text
    assert rest.status_code == 503
    assert rest.headers["content-type"] == "application/problem+json"
    assert "KOMBO_API_KEY" in rest.json()["detail"]
    assert tool.is_error and "KOMBO_API_KEY" in tool.content[0].text  # type: ignore[union-attr]
    assert kombo.requests == []
    assert server.output.count("KOMBO_API_KEY is not set") == 1


def test_an_empty_key_counts_as_missing_and_no_empty_bearer_is_sent(kombo: KomboFake) -> None:
    with NaftikoServer(
        [KOMBO_CAPABILITY], args=["--base-uri", f"kombo-general={kombo.base_url}"], env={"KOMBO_API_KEY": ""}
    ) as server:
        server.wait_ready()
        response = httpx.get(f"{server.rest_url}/v1/check-api-key", timeout=5)
        server.stop()
    assert response.status_code == 503
    assert kombo.requests == []


async def test_upstream_down_is_502_naming_the_operation(api_key: str, secret_tripwire: SecretTripwire) -> None:
    dead = f"http://127.0.0.1:{_closed_port()}/v1"
    with NaftikoServer(
        [KOMBO_CAPABILITY], args=["--base-uri", f"kombo-general={dead}"], env={"KOMBO_API_KEY": api_key}
    ) as server:
        server.wait_ready()
        rest = httpx.get(f"{server.rest_url}/v1/tools/hris", timeout=10)
        async with Client(server.mcp_url) as client:
            tool = await client.call_tool("get-tools", {"category": "hris"})
        server.stop()
        secret_tripwire.record("upstream down", server.output + rest.text + tool.content[0].text)  # type: ignore[union-attr]
    assert rest.status_code == 502
    assert rest.json()["operation"] == "kombo-general.gettoolscategory"
    assert tool.is_error and "kombo-general.gettoolscategory" in tool.content[0].text  # type: ignore[union-attr]


async def test_upstream_timeout_is_504_naming_the_operation(kombo: KomboFake, api_key: str) -> None:
    kombo.delay_seconds = 5
    with NaftikoServer(
        [KOMBO_CAPABILITY],
        args=["--base-uri", f"kombo-general={kombo.base_url}", "--read-timeout", "0.3"],
        env={"KOMBO_API_KEY": api_key},
    ) as server:
        server.wait_ready()
        rest = httpx.get(f"{server.rest_url}/v1/check-api-key", timeout=10)
        async with Client(server.mcp_url) as client:
            tool = await client.call_tool("check-api-key", {})
        server.stop()
    assert rest.status_code == 504
    assert "kombo-general.getcheckapikey" in rest.json()["detail"]
    assert tool.is_error and "timed out" in tool.content[0].text  # type: ignore[union-attr]


def test_in_flight_calls_finish_when_sigterm_arrives_and_exit_is_0(kombo: KomboFake, api_key: str) -> None:
    kombo.delay_seconds = 1.0
    with NaftikoServer(
        [KOMBO_CAPABILITY], args=["--base-uri", f"kombo-general={kombo.base_url}"], env={"KOMBO_API_KEY": api_key}
    ) as server:
        server.wait_ready()
        answers: list[httpx.Response] = []
        caller = threading.Thread(
            target=lambda: answers.append(httpx.get(f"{server.rest_url}/v1/check-api-key", timeout=10))
        )
        caller.start()
        kombo.recorder.wait_for(1, timeout=5)
        assert server.stop(signal.SIGTERM) == 0
        caller.join(timeout=10)
    assert answers and answers[0].status_code == 200


def test_sigint_stops_the_server_with_exit_0(kombo: KomboFake) -> None:
    with NaftikoServer([KOMBO_CAPABILITY], args=["--base-uri", f"kombo-general={kombo.base_url}"]) as server:
        server.wait_ready()
        assert server.stop(signal.SIGINT) == 0
    assert "Traceback" not in server.output


def test_malformed_yaml_is_a_clear_message_with_its_place_and_exit_1(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("naftiko: 1.0.0-alpha2\ncapability:\n  consumes:\n    - namespace: x\n      baseUri: [unclosed\n")
    result = subprocess.run(
        [sys.executable, "-m", "naftiko_runtime", "serve", str(broken)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1
    assert f"{broken}:6:1" in result.stderr or f"{broken}:5:" in result.stderr
    assert "invalid YAML" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_wrong_field_type_names_the_field_path(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(
        "naftiko: 1.0.0-alpha2\ncapability:\n  exposes:\n    - type: rest\n      namespace: r\n      port: lots\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "naftiko_runtime", "validate", str(wrong)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1
    assert f"{wrong}:6:7" in result.stdout + result.stderr
    assert "capability.exposes[0].port" in result.stdout + result.stderr


def test_two_adapters_of_one_file_cannot_claim_one_port(tmp_path: Path) -> None:
    clash = tmp_path / "clash.yaml"
    clash.write_text(
        "naftiko: 1.0.0-alpha2\ncapability:\n  exposes:\n"
        "    - {type: rest, namespace: a, port: 8080, resources: []}\n"
        "    - {type: mcp, namespace: b, port: 8080, tools: []}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "naftiko_runtime", "validate", str(clash)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1
    assert "both claim port 8080" in result.stdout
