"""Serving corpus files for real: an echo upstream, one `naftiko serve` per file, an MCP session per file.

Starting `naftiko serve` costs about a second of CPU, so the pool starts the next files' servers while
the current file's cases run (the files are served one at a time, in the order pytest runs them).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp import Client
from mcp.types import CallToolResult
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from tests.corpus.corpus import base_path, environment, expected_inbound_headers, listing
from tests.e2e.mcp_client import connect
from tests.e2e.server import NaftikoServer
from tests.fakes.recording import FakeServer

SERVING_TESTS = Path(__file__).resolve().parent / "test_serving.py"
PREFETCH = 2
CALL_TIMEOUT = 20.0


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer 200 `{"ok": true}` to anything (FakeServer records the request first)."""
    await JSONResponse({"ok": True})(scope, receive, send)


def corpus_file_of(item: pytest.Item) -> Path | None:
    """The corpus file a `test_serving.py` case serves, else None."""
    callspec = getattr(item, "callspec", None)
    path = getattr(callspec.params.get("case"), "path", None) if callspec is not None else None
    return path if item.path == SERVING_TESTS and isinstance(path, Path) else None


def consumed_namespaces(path: Path) -> list[str]:
    return sorted({operation["ref"].split(".", 1)[0] for operation in listing(path)["operations"]})


def declared_ports(path: Path) -> list[int]:
    return sorted({adapter["port"] for adapter in listing(path)["adapters"] if adapter.get("port") is not None})


def serve_arguments(path: Path, upstream_url: str) -> list[str]:
    args = ["--host", "127.0.0.1"]
    for namespace in consumed_namespaces(path):
        args += ["--base-uri", f"{namespace}={upstream_url}{base_path(path, namespace)}"]
    for port in declared_ports(path):
        args += ["--port", f"{port}=0"]
    return args


@dataclass
class Served:
    """A corpus file being served, with an HTTP client and (when it exposes MCP) an open MCP session."""

    path: Path
    server: NaftikoServer
    http: httpx.Client
    mcp: McpSession | None
    stack: contextlib.ExitStack


class ServerPool:
    """One `naftiko serve FILE` per corpus file against the echo upstream, started ahead of use.

    `items` are the session's tests in run order; the next PREFETCH files' servers boot while the
    current file's cases run. Serving a file again after it was finished starts a new server.
    """

    def __init__(self, upstream_url: str, items: Sequence[pytest.Item]) -> None:
        self.upstream_url = upstream_url
        files = [corpus_file_of(item) for item in items]
        self.order = list(dict.fromkeys(path for path in files if path is not None))
        self._next = {
            item.nodeid: files[index + 1] if index + 1 < len(files) else None for index, item in enumerate(items)
        }
        self.starting: dict[Path, NaftikoServer] = {}
        self.open: dict[Path, Served] = {}

    def is_last_of_its_file_in_a_row(self, item: pytest.Item) -> bool:
        return self._next.get(item.nodeid) != corpus_file_of(item)

    def _start(self, path: Path) -> None:
        if path not in self.starting and path not in self.open:
            self.starting[path] = NaftikoServer(
                [path], args=serve_arguments(path, self.upstream_url), env=environment(path), move_ports=()
            )

    def serve(self, path: Path) -> Served:
        """The file served; any other open file is finished first, so at most one is open at a time."""
        if path in self.open:
            return self.open[path]
        for other in list(self.open):
            code = self.finish(other)
            assert code == 0, f"naftiko serve {other} exited {code}"
        window = self.order[self.order.index(path) + 1 :][:PREFETCH] if path in self.order else []
        for unused in [started for started in self.starting if started != path and started not in window]:
            self.starting.pop(unused).__exit__(None, None, None)
        for following in [path, *window]:
            self._start(following)
        server = self.starting.pop(path)
        stack = contextlib.ExitStack()
        try:
            kinds = [kind for kind in ("rest", "mcp") if any(a["type"] == kind for a in listing(path)["adapters"])]
            server.wait_ready(kinds)
            headers = expected_inbound_headers(path, "rest")
            http = stack.enter_context(httpx.Client(timeout=httpx.Timeout(CALL_TIMEOUT), headers=headers))
            mcp = None
            if "mcp" in server.urls:
                mcp = stack.enter_context(mcp_session(server.mcp_url, expected_inbound_headers(path, "mcp")))
        except BaseException:
            stack.close()
            server.__exit__(None, None, None)
            raise
        self.open[path] = Served(path, server, http, mcp, stack)
        return self.open[path]

    def finish(self, path: Path) -> int:
        """Close the file's clients, then stop its server gracefully; its exit code."""
        served = self.open.pop(path)
        try:
            served.stack.close()
        finally:
            code = served.server.stop()
        return code

    def close(self) -> None:
        for served in self.open.values():
            with contextlib.suppress(Exception):
                served.stack.close()
            with contextlib.suppress(Exception):
                served.server.__exit__(None, None, None)
        for server in self.starting.values():
            with contextlib.suppress(Exception):
                server.__exit__(None, None, None)
        self.open.clear()
        self.starting.clear()


class McpSession:
    """The official MCP client kept open on a portal thread, so sync tests share one session per file."""

    def __init__(self, url: str, headers: Mapping[str, str]) -> None:
        self._stack = contextlib.ExitStack()
        self._portal: BlockingPortal = self._stack.enter_context(start_blocking_portal())
        manager: AbstractContextManager[Client] = self._portal.wrap_async_context_manager(connect(url, headers))
        self._client = self._stack.enter_context(manager)

    def call_tool(self, name: str, arguments: dict[str, Any]) -> CallToolResult:
        async def call() -> CallToolResult:
            with anyio.fail_after(CALL_TIMEOUT):
                return await self._client.call_tool(name, arguments)

        return self._portal.call(call)

    def close(self) -> None:
        self._stack.close()


@contextlib.contextmanager
def mcp_session(url: str, headers: Mapping[str, str]) -> Iterator[McpSession]:
    session = McpSession(url, headers)
    try:
        yield session
    finally:
        session.close()


class EchoUpstream(FakeServer):
    """The recording FakeServer answering `echo_app`, with TCP_NODELAY on its listening socket.

    Accepted connections inherit it; without it, every request after the first on a keep-alive
    connection waits ~40 ms (the response's second segment held by Nagle until the delayed ACK).
    """

    def __init__(self) -> None:
        super().__init__(echo_app)

    def _run(self, sock: socket.socket) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super()._run(sock)


def echo_upstream() -> FakeServer:
    return EchoUpstream()
