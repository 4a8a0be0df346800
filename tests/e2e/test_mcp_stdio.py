"""MCP over stdin/stdout: `naftiko serve --stdio` and exposes declaring `transport: stdio`."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.conftest import SecretTripwire, tripwire
from tests.e2e.conftest import KOMBO_CAPABILITY
from tests.fakes import KomboFake
from tests.test_runtime import capability

pytestmark = pytest.mark.anyio
SERVE = [sys.executable, "-m", "naftiko_runtime", "serve"]
TIMEOUT = 15.0
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def call(request_id: int, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }


class StdioProcess:
    """`naftiko serve` on pipes: protocol lines in and out, stderr collected as it comes."""

    def __init__(self, args: Sequence[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [*SERVE, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self._stderr: list[str] = []
        self._stderr_grew = threading.Condition()
        self._readers = [
            threading.Thread(target=self._pump_stdout, args=(self.process.stdout,), daemon=True),
            threading.Thread(target=self._pump_stderr, args=(self.process.stderr,), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _pump_stdout(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)

    def _pump_stderr(self, stream: IO[str]) -> None:
        for line in stream:
            with self._stderr_grew:
                self._stderr.append(line)
                self._stderr_grew.notify_all()

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def receive(self) -> Any:
        return json.loads(self._lines.get(timeout=TIMEOUT))

    def close_stdin(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()

    def wait_for(self, pattern: str) -> re.Match[str]:
        """The first match of `pattern` in stderr, waiting for it as long as the process lives."""
        with self._stderr_grew:
            found = self._stderr_grew.wait_for(
                lambda: re.search(pattern, "".join(self._stderr)) or self.process.poll() is not None, TIMEOUT
            )
            match = re.search(pattern, "".join(self._stderr))
        assert found and match is not None, f"{pattern!r} never appeared on stderr:\n{self.stderr}"
        return match

    @property
    def stderr(self) -> str:
        with self._stderr_grew:
            return "".join(self._stderr)

    def __enter__(self) -> StdioProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=TIMEOUT)
        for reader in self._readers:
            reader.join(timeout=TIMEOUT)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None and not stream.closed:
                stream.close()
        tripwire().record("naftiko serve (stdio) stderr", self.stderr)


def environment(api_key: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("KOMBO")}, "KOMBO_API_KEY": api_key}


async def test_the_official_stdio_client_lists_and_calls_tools_of_a_stdio_server(
    kombo: KomboFake, api_key: str, tmp_path: Path, secret_tripwire: SecretTripwire
) -> None:
    server = StdioServerParameters(
        command=sys.executable,
        args=[*SERVE[1:], str(KOMBO_CAPABILITY), "--stdio", "--base-uri", f"kombo-general={kombo.base_url}"],
        env={"KOMBO_API_KEY": api_key},
    )
    log = tmp_path / "stderr.txt"
    with log.open("w") as errlog:
        async with Client(stdio_client(server, errlog=errlog)) as client:
            tools = (await client.list_tools()).tools
            result = await client.call_tool("get-tools", {"category": "ats"})
    secret_tripwire.record("naftiko serve --stdio stderr", log.read_text())
    assert len(tools) == 13
    assert not result.is_error, result.content
    assert kombo.last.raw_path == "/v1/tools/ats"
    assert "naftiko: MCP   kombo-general-mcp over stdio (13 tools)" in log.read_text()
    assert "rest adapter 'kombo-general-rest' is not served: --stdio serves only MCP adapters" in log.read_text()


def test_stdout_carries_only_protocol_and_requests_read_before_stdin_ends_are_answered(
    kombo: KomboFake, api_key: str
) -> None:
    piped = "".join(
        json.dumps(message) + "\n"
        for message in [
            INITIALIZE,
            INITIALIZED,
            {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            call(3, "check-api-key", {}),
        ]
    )
    finished = subprocess.run(
        [*SERVE, str(KOMBO_CAPABILITY), "--stdio", "--base-uri", f"kombo-general={kombo.base_url}"],
        input=piped,
        capture_output=True,
        text=True,
        env=environment(api_key),
        timeout=TIMEOUT * 2,
    )
    tripwire().record("naftiko serve --stdio output", finished.stdout + finished.stderr)
    answers = [json.loads(line) for line in finished.stdout.splitlines()]
    assert finished.returncode == 0, finished.stderr
    assert [answer["id"] for answer in answers] == [1, 2, 3]
    assert all(answer["jsonrpc"] == "2.0" and "result" in answer for answer in answers)
    assert answers[2]["result"]["isError"] is False
    assert "over stdio (13 tools)" in finished.stderr
    assert "Traceback" not in finished.stderr


def test_the_modern_revision_is_served_over_stdio_too(kombo: KomboFake, api_key: str, tmp_path: Path) -> None:
    envelope = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    args = [str(KOMBO_CAPABILITY), "--stdio", "--base-uri", f"kombo-general={kombo.base_url}"]
    with StdioProcess(args, environment(api_key)) as server:
        server.send({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": envelope}})
        discovered = server.receive()
        server.send({**call(2, "check-api-key", {}), "params": {"name": "check-api-key", "_meta": envelope}})
        called = server.receive()
        server.close_stdin()
        assert server.process.wait(timeout=TIMEOUT) == 0
    assert "2026-07-28" in discovered["result"]["supportedVersions"]
    assert called["result"]["isError"] is False


def test_sigterm_stops_a_stdio_server_waiting_for_its_client_at_once(tmp_path: Path, api_key: str) -> None:
    with StdioProcess([str(KOMBO_CAPABILITY), "--stdio"], environment(api_key)) as server:
        server.send(INITIALIZE)
        assert server.receive()["result"]["serverInfo"]["name"] == "kombo-general-mcp"
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=TIMEOUT) == 0
    assert "Fatal" not in server.stderr and "Traceback" not in server.stderr


def stdio_declared(tmp_path: Path) -> Path:
    """The seed capability with its MCP expose declaring `transport: stdio` (and so no port)."""
    declared = KOMBO_CAPABILITY.read_text().replace("port: 9090\n    transport: http", "transport: stdio")
    assert "transport: stdio" in declared
    path = tmp_path / "kombo-stdio.yaml"
    path.write_text(declared)
    return path


REST_BANNER = r"naftiko: REST\s+\S+ at (http://\S+)"


def test_an_expose_declaring_stdio_is_served_over_stdio_while_rest_keeps_serving_http(
    kombo: KomboFake, api_key: str, tmp_path: Path
) -> None:
    args = [str(stdio_declared(tmp_path)), "--port", "8080=0", "--base-uri", f"kombo-general={kombo.base_url}"]
    with StdioProcess(args, environment(api_key)) as server:
        rest_url = server.wait_for(REST_BANNER).group(1)
        server.send(INITIALIZE)
        opened = server.receive()
        over_http = httpx.get(f"{rest_url}/v1/tools/lms", timeout=10)
        server.send(INITIALIZED)
        server.send(call(2, "get-tools", {"category": "ats"}))
        called = server.receive()
        # Its client closed stdin after speaking: like any stdio server, the process ends with the session.
        server.close_stdin()
        assert server.process.wait(timeout=TIMEOUT) == 0, server.stderr
    assert opened["result"]["serverInfo"]["name"] == "kombo-general-mcp"
    assert "naftiko: MCP   kombo-general-mcp over stdio (13 tools)" in server.stderr
    assert " at http" not in server.stderr.split("naftiko: MCP")[1]
    assert over_http.status_code == 200
    assert called["result"]["isError"] is False
    assert kombo.last.raw_path == "/v1/tools/ats"


def test_with_stdin_ended_before_any_message_the_http_adapters_keep_serving(
    kombo: KomboFake, api_key: str, tmp_path: Path
) -> None:
    args = [str(stdio_declared(tmp_path)), "--port", "8080=0", "--base-uri", f"kombo-general={kombo.base_url}"]
    with StdioProcess(args, environment(api_key)) as server:
        rest_url = server.wait_for(REST_BANNER).group(1)
        server.close_stdin()
        server.wait_for("stdin closed before any MCP message")
        still = httpx.get(f"{rest_url}/v1/check-api-key", timeout=10)
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=TIMEOUT) == 0, server.stderr
    assert still.status_code == 200


def test_an_authenticated_mcp_expose_over_stdio_is_served_without_its_check_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "guarded.yaml"
    path.write_text(capability("guarded", tool="secret-tool", auth="t0k3n-a"))
    piped = "".join(
        json.dumps(m) + "\n" for m in [INITIALIZE, INITIALIZED, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}]
    )
    finished = subprocess.run(
        [*SERVE, str(path), "--stdio"], input=piped, capture_output=True, text=True, timeout=TIMEOUT * 2
    )
    listed = [json.loads(line) for line in finished.stdout.splitlines()][-1]
    assert finished.returncode == 0, finished.stderr
    assert [tool["name"] for tool in listed["result"]["tools"]] == ["secret-tool"]
    assert "mcp adapter 'guarded-mcp' is served over stdio: its authentication does not apply" in finished.stderr


def test_stdio_with_no_mcp_expose_is_a_clear_error(tmp_path: Path) -> None:
    rest_only = capability("plain").split("  - type: mcp")[0]
    path = tmp_path / "plain.yaml"
    path.write_text(rest_only)
    finished = subprocess.run(
        [*SERVE, str(path), "--stdio"], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=TIMEOUT * 2
    )
    assert finished.returncode == 1
    assert "nothing to serve (no mcp exposes to serve over stdio)" in finished.stderr
    assert finished.stdout == ""


def close_stdin_in_child() -> None:
    os.close(0)


def test_a_stdio_server_started_with_stdin_closed_ends_at_once_and_cleanly() -> None:
    finished = subprocess.run(
        [*SERVE, str(KOMBO_CAPABILITY), "--stdio"],
        capture_output=True,
        text=True,
        preexec_fn=close_stdin_in_child,
        timeout=TIMEOUT * 2,
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout == ""


def test_an_http_server_started_with_stdin_closed_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [*SERVE, str(stdio_declared(tmp_path)), "--port", "8080=0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=close_stdin_in_child,
    )
    try:
        assert server.stderr is not None
        for line in server.stderr:
            if line.startswith("naftiko: serving"):
                break
        server.send_signal(signal.SIGTERM)
        _, rest = server.communicate(timeout=TIMEOUT)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate(timeout=TIMEOUT)
    assert server.returncode == 0, rest
