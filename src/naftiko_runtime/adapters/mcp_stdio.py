"""MCP over stdin/stdout: the SDK's stdio transport, with stdin read on a daemon thread.

The SDK's own stdin reader runs on a worker thread that a cancellation waits for and that process
exit joins, so a signal would wait for the client's next line. Read on a daemon thread, stdin lets
the server stop at once; the thread, still blocked, dies with the process. It reads a private
duplicate of fd 0 with `os.read`: a daemon thread blocked inside `sys.stdin` would hold its lock
and abort interpreter shutdown. While serving, fd 0 is the null device, and the SDK claims stdout
the same way (stray writes to fd 1 go to stderr): only protocol crosses the pipes.

When stdin ends, the requests already read are answered before the session closes (the SDK would
answer them "Connection closed"), so `printf '...' | naftiko serve --stdio` gets every answer.
"""

from __future__ import annotations

import os
import sys
import threading
from types import TracebackType
from typing import Any, Protocol, cast

import anyio
import anyio.from_thread
import anyio.lowlevel
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp_types import JSONRPCError, JSONRPCResponse

from naftiko_runtime.json_depth import bounded_loads

DRAIN_SECONDS = 10.0  # how long requests read before stdin ended may take to be answered
CHUNK = 65536


async def serve_stdio(server: Server[Any]) -> bool:
    """One MCP session over stdin/stdout until the client closes stdin; whether any line came at all."""
    if sys.stdin is None:
        # Started with fd 0 closed (fd 0 may since name some other file): no client can ever speak.
        return False
    wire = os.dup(0)
    _divert(0, os.open(os.devnull, os.O_RDONLY))
    try:
        return await serve_lines(server, wire)
    finally:
        # The reading thread may still block on `wire`: it stays open, never to be recycled under it.
        _divert(0, os.dup(wire))


async def serve_lines(server: Server[Any], source: int) -> bool:
    """The session over the lines read from file descriptor `source` (answers on stdout)."""
    pending = Pending()
    lines = StdinLines(source, pending)
    # The SDK asks for an anyio file but only iterates it, line by line.
    async with stdio_server(stdin=cast("anyio.AsyncFile[str]", lines)) as (read, write):
        await server.run(read, Answering(write, pending), server.create_initialization_options())
    return lines.count > 0


def _divert(fd: int, replacement: int) -> None:
    os.dup2(replacement, fd)
    os.close(replacement)


class Pending:
    """The ids of requests read from stdin and not answered yet."""

    def __init__(self) -> None:
        self._ids: set[Any] = set()
        self._changed = anyio.Event()

    def read(self, line: str) -> None:
        try:
            message = bounded_loads(line)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        if "method" in message and "id" in message:
            self._ids.add(_key(message["id"]))
        elif message.get("method") == "notifications/cancelled" and isinstance(message.get("params"), dict):
            # A cancelled request gets no answer.
            self.answered(message["params"].get("requestId"))

    def answered(self, request_id: Any) -> None:
        self._ids.discard(_key(request_id))
        self._changed.set()

    async def drained(self) -> None:
        with anyio.move_on_after(DRAIN_SECONDS):
            while self._ids:
                self._changed = anyio.Event()
                await self._changed.wait()


def _key(request_id: Any) -> Any:
    return request_id if isinstance(request_id, (int, str)) else repr(request_id)


class _Sink(Protocol):
    async def send(self, item: SessionMessage, /) -> None: ...

    async def aclose(self) -> None: ...


class Answering:
    """The server's write stream, telling `Pending` of each answer it carries."""

    def __init__(self, stream: _Sink, pending: Pending) -> None:
        self._stream = stream
        self._pending = pending

    async def send(self, item: SessionMessage, /) -> None:
        await self._stream.send(item)
        if isinstance(item.message, (JSONRPCResponse, JSONRPCError)):
            self._pending.answered(item.message.id)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def __aenter__(self) -> Answering:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()


class StdinLines:
    """The lines of a file descriptor as an async iterator, read on a daemon thread a chunk ahead at most."""

    def __init__(self, source: int, pending: Pending) -> None:
        self._source = source
        self._pending = pending
        self._send: MemoryObjectSendStream[str]
        self._receive: MemoryObjectReceiveStream[str]
        self._send, self._receive = anyio.create_memory_object_stream[str](0)
        self._started = False
        self.count = 0

    def __aiter__(self) -> StdinLines:
        return self

    async def __anext__(self) -> str:
        if not self._started:
            self._started = True
            token = anyio.lowlevel.current_token()
            threading.Thread(target=self._read, args=(token,), name="naftiko-stdin", daemon=True).start()
        try:
            line = await self._receive.receive()
        except anyio.EndOfStream:
            await self._pending.drained()
            raise StopAsyncIteration from None
        self.count += 1
        self._pending.read(line)
        return line

    def _read(self, token: anyio.lowlevel.EventLoopToken) -> None:
        buffered = b""
        try:
            while chunk := os.read(self._source, CHUNK):
                *lines, buffered = (buffered + chunk).split(b"\n")
                for line in lines:
                    anyio.from_thread.run(self._send.send, line.decode("utf-8", "replace"), token=token)
            if buffered.strip():
                anyio.from_thread.run(self._send.send, buffered.decode("utf-8", "replace"), token=token)
            anyio.from_thread.run(self._send.aclose, token=token)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.RunFinishedError, OSError, ValueError):
            # The session ended or the loop is gone: nobody is left to read what comes next.
            return
