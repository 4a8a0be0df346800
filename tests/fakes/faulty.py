"""A fake upstream that misbehaves on cue: a raw HTTP/1.1 server on 127.0.0.1:<free port>.

Written on asyncio streams rather than an ASGI server because the faults live below HTTP:
connections reset (RST) before or after the request took effect, answers cut short of their
declared length, bodies streamed without end. Each request's effect is counted by the marker it
carries (`X-Marker` header, else a JSON body's `marker`), so tests can prove that no request
was processed twice. It runs in a thread with its own loop, for sync and async tests alike.

What to answer: `script(...)` queues replies per `METHOD /path` (or for any request), consumed
in order; `inject(rate, faults)` replaces a share of the other answers with faults, chosen by a
seeded random generator; otherwise `default` (an echo of method, path and marker).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import struct
import threading
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self

_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Reply:
    """What the fake does with one request. `body=None` echoes method, path and marker as JSON."""

    status: int = 200
    body: bytes | None = None
    content_type: str | None = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    # Whether the request takes effect (is counted as processed under its marker).
    processes: bool = True
    # Seconds before answering (after the effect); cut short by `close()`.
    delay: float = 0.0
    # Wait for `release()` before answering (after the effect).
    hold: bool = False
    # Reset the connection (RST) instead of answering.
    reset: bool = False
    # Declare the whole body but send only this many bytes of it, then close.
    truncate_at: int | None = None
    # Stream this many filler bytes as the body (with a Content-Length, or chunked).
    stream: int = 0
    declare_length: bool = True


def failing(status: int, *, retry_after: str | None = None, processes: bool = False) -> Reply:
    """An error answer; 429/503 usually mean the request was not processed, 500/502/504 leave it open."""
    headers = (("Retry-After", retry_after),) if retry_after is not None else ()
    body = json.dumps({"error": {"message": f"fake upstream answered {status}"}}).encode()
    return Reply(status=status, body=body, headers=headers, processes=processes)


def reset_before() -> Reply:
    """The connection dies before the request takes effect."""
    return Reply(reset=True, processes=False)


def reset_after() -> Reply:
    """The request takes effect, then the connection dies: the answer is lost."""
    return Reply(reset=True)


def truncated() -> Reply:
    return Reply(body=b'{"items": [1, 2, 3], "more": "' + b"x" * 200 + b'"}', truncate_at=20)


def oversized(size: int, *, declare_length: bool = True) -> Reply:
    return Reply(stream=size, declare_length=declare_length, content_type="application/json")


def slow(seconds: float, *, processes: bool = True) -> Reply:
    return Reply(delay=seconds, processes=processes)


def html_page() -> Reply:
    return Reply(body=b"<html><body>Sign in</body></html>", content_type="text/html; charset=utf-8")


def deep_json(depth: int) -> Reply:
    return Reply(body=b'{"a": ' + b"[" * depth + b"]" * depth + b"}")


# Faults for `inject`: some take effect and lose the answer, some do not take effect at all.
TRANSIENT_FAULTS: tuple[Reply, ...] = (
    failing(503),
    failing(502, processes=True),
    failing(504, processes=True),
    failing(429, retry_after="0"),
    reset_before(),
    reset_after(),
    truncated(),
)


@dataclass(frozen=True)
class Seen:
    """One request as it arrived, and what the fake did with it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    marker: str | None
    reply: Reply


@dataclass
class _State:
    scripts: dict[str | None, deque[Reply]] = field(default_factory=dict)
    default: Reply = field(default_factory=Reply)
    rate: float = 0.0
    faults: Sequence[Reply] = ()
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    seen: list[Seen] = field(default_factory=list)
    processed: Counter[str] = field(default_factory=Counter)
    held: int = 0
    streamed: list[int] = field(default_factory=list)


class FaultyUpstream:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._state = _State()
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing: asyncio.Event | None = None
        self._released: asyncio.Event | None = None
        self._ready = threading.Event()
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    # -- what tests arrange (any thread, any time)

    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError("faulty upstream not started")
        return f"http://127.0.0.1:{self._port}"

    def script(self, *replies: Reply, on: str | None = None) -> None:
        """Answer the next requests (to `on`, e.g. "POST /orders"; else to any) with `replies`, in order."""
        with self._changed:
            self._state.scripts.setdefault(on, deque()).extend(replies)

    def set_default(self, reply: Reply) -> None:
        with self._changed:
            self._state.default = reply

    def inject(self, rate: float, faults: Sequence[Reply] = TRANSIENT_FAULTS, seed: int = 0) -> None:
        """Replace about `rate` of the unscripted answers with one of `faults`, reproducibly."""
        with self._changed:
            self._state.rate, self._state.faults, self._state.rng = rate, tuple(faults), random.Random(seed)

    def release(self) -> None:
        """Let every held answer go; later `hold` replies hold again."""
        if self._loop is None or self._released is None:
            return
        released = self._released

        def swap() -> None:
            released.set()
            self._released = asyncio.Event()

        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(swap)

    def reset(self) -> None:
        self.release()
        with self._changed:
            self._state = _State()

    # -- what tests read

    @property
    def seen(self) -> list[Seen]:
        with self._changed:
            return list(self._state.seen)

    @property
    def processed(self) -> Counter[str]:
        """How many times each marker's request took effect."""
        with self._changed:
            return Counter(self._state.processed)

    @property
    def streamed(self) -> list[int]:
        """Bytes of each streamed body that left before the client went away (or all of them)."""
        with self._changed:
            return list(self._state.streamed)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Seen]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._state.seen) >= count, timeout):
                raise TimeoutError(f"expected {count} request(s) within {timeout} s, got {len(self._state.seen)}")
            return list(self._state.seen)

    def wait_streamed(self, count: int, timeout: float = 5.0) -> list[int]:
        """Block until `count` streamed bodies ended (sent in full, or cut by the client leaving)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._state.streamed) >= count, timeout):
                raise TimeoutError(f"expected {count} streamed answer(s) within {timeout} s")
            return list(self._state.streamed)

    def wait_held(self, count: int, timeout: float = 5.0) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: self._state.held >= count, timeout):
                raise TimeoutError(f"expected {count} held request(s) within {timeout} s, got {self._state.held}")

    # -- lifecycle

    def start(self) -> Self:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(512)
        self._port = sock.getsockname()[1]
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(sock),), daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise TimeoutError("faulty upstream did not start")
        return self

    def close(self) -> None:
        if self._thread is None or self._loop is None or self._closing is None:
            return
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._closing.set)
        self._thread.join(10)
        if self._thread.is_alive():
            raise RuntimeError("faulty upstream did not stop")
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    async def _serve(self, sock: socket.socket) -> None:
        self._loop = asyncio.get_running_loop()
        self._closing = asyncio.Event()
        self._released = asyncio.Event()
        server = await asyncio.start_server(self._connection, sock=sock, limit=_CHUNK)
        self._ready.set()
        try:
            await self._closing.wait()
        finally:
            server.close()
            # Aborting the connections ends their tasks (cancelling them would make asyncio log it).
            for writer in list(self._connections.values()):
                writer.transport.abort()
            await asyncio.gather(*self._connections, return_exceptions=True)
            await server.wait_closed()

    # -- the server

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        try:
            while await self._exchange(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            self._connections.pop(task, None)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """One request and its answer; whether the connection stays open for another."""
        head = await reader.readuntil(b"\r\n\r\n")
        method, path, headers = _parse_head(head)
        body = await _read_body(reader, headers)
        marker = headers.get("x-marker") or _body_marker(body)
        reply = self._decide(f"{method} {path.split('?')[0]}")
        with self._changed:
            self._state.seen.append(Seen(method, path, headers, body, marker, reply))
            if reply.processes and marker is not None:
                self._state.processed[marker] += 1
            self._changed.notify_all()
        if reply.hold:
            await self._hold()
        if reply.delay:
            await self._wait(asyncio.sleep(reply.delay))
        if reply.reset:
            _reset(writer)
            return False
        await self._answer(writer, reply, method, path, marker)
        return reply.truncate_at is None and headers.get("connection", "").lower() != "close"

    def _decide(self, key: str) -> Reply:
        with self._changed:
            state = self._state
            for queue_key in (key, None):
                queue = state.scripts.get(queue_key)
                if queue:
                    return queue.popleft()
            if state.rate and state.rng.random() < state.rate:
                return state.rng.choice(list(state.faults))
            return state.default

    async def _hold(self) -> None:
        assert self._released is not None
        released = self._released
        with self._changed:
            self._state.held += 1
            self._changed.notify_all()
        try:
            await self._wait(released.wait())
        finally:
            with self._changed:
                self._state.held -= 1

    async def _wait(self, awaitable: Any) -> None:
        """Wait for `awaitable`, cut short by `close()`."""
        assert self._closing is not None
        waited = asyncio.ensure_future(awaitable)
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait({waited, closing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waited.cancel()
            closing.cancel()

    async def _answer(
        self, writer: asyncio.StreamWriter, reply: Reply, method: str, path: str, marker: str | None
    ) -> None:
        if reply.stream:
            await self._stream(writer, reply)
            return
        body = reply.body
        if body is None:
            body = json.dumps({"method": method, "path": path, "marker": marker}).encode()
        lines = [f"HTTP/1.1 {reply.status} {HTTPStatus(reply.status).phrase}", f"Content-Length: {len(body)}"]
        if reply.content_type:
            lines.append(f"Content-Type: {reply.content_type}")
        lines += [f"{name}: {value}" for name, value in reply.headers]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if reply.truncate_at is not None:
            writer.write(head + body[: reply.truncate_at])
            await writer.drain()
            writer.close()
            return
        writer.write(head + body)
        await writer.drain()

    async def _stream(self, writer: asyncio.StreamWriter, reply: Reply) -> None:
        framing = f"Content-Length: {reply.stream}" if reply.declare_length else "Transfer-Encoding: chunked"
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{framing}\r\n\r\n".encode())
        sent = 0
        filler = b" " * _CHUNK
        try:
            while sent < reply.stream:
                piece = filler[: min(_CHUNK, reply.stream - sent)]
                writer.write(piece if reply.declare_length else b"%x\r\n%s\r\n" % (len(piece), piece))
                await writer.drain()
                sent += len(piece)
            if not reply.declare_length:
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        finally:
            with self._changed:
                self._state.streamed.append(sent)
                self._changed.notify_all()


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, path, _ = request_line.split(" ", 2)
    headers: dict[str, str] = {}
    for line in header_lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return method, path, headers


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return b"".join(chunks)
            chunks.append(chunk[:-2])
    return await reader.readexactly(int(headers.get("content-length", "0")))


def _body_marker(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    marker = data.get("marker") if isinstance(data, dict) else None
    return marker if isinstance(marker, str) else None


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0), as a crashed server or a middlebox does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


__all__ = [
    "TRANSIENT_FAULTS",
    "FaultyUpstream",
    "Reply",
    "Seen",
    "deep_json",
    "failing",
    "html_page",
    "oversized",
    "reset_after",
    "reset_before",
    "slow",
    "truncated",
]
