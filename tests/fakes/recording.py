"""Real fake HTTP servers for tests: an ASGI app served by uvicorn on 127.0.0.1, recording every request.

The server runs in a background thread with its own event loop, so sync and async tests alike can use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, unquote_to_bytes

import uvicorn
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ErrorBody = Callable[[int], Any]


def split_raw_path(raw_path: str) -> list[str]:
    """Percent-decode each segment of a raw path on its own, so that `%2F` never becomes a separator."""
    return [
        unquote_to_bytes(segment.encode("latin-1")).decode("utf-8", errors="replace")
        for segment in raw_path.split("/")[1:]
    ]


@dataclass(frozen=True)
class RecordedRequest:
    """One request exactly as the fake server received it."""

    method: str
    raw_path: str  # percent-encoding preserved, no query string
    query_string: str  # raw, percent-encoding preserved
    query: list[tuple[str, str]]  # decoded pairs, in order, repeats kept
    headers: Headers  # case-insensitive; `.getlist()` for repeated headers
    body: bytes

    @property
    def header_pairs(self) -> list[tuple[str, str]]:
        return self.headers.items()

    @property
    def path_segments(self) -> list[str]:
        return split_raw_path(self.raw_path)

    def json(self) -> Any:
        return json.loads(self.body)


class Recorder:
    """Thread-safe, ordered log of received requests and of clients that left before their answer."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._requests: list[RecordedRequest] = []
        self._disconnects = 0

    def record(self, request: RecordedRequest) -> None:
        with self._changed:
            self._requests.append(request)
            self._changed.notify_all()

    def record_disconnect(self) -> None:
        with self._changed:
            self._disconnects += 1
            self._changed.notify_all()

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._changed:
            return list(self._requests)

    @property
    def last(self) -> RecordedRequest:
        with self._changed:
            if not self._requests:
                raise LookupError("no request recorded yet")
            return self._requests[-1]

    @property
    def disconnects(self) -> int:
        """How many requests' clients went away before the answer was sent."""
        with self._changed:
            return self._disconnects

    def clear(self) -> None:
        with self._changed:
            self._requests.clear()
            self._disconnects = 0

    def wait_for(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least `count` requests arrived; raise TimeoutError after `timeout` seconds."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._requests) >= count, timeout):
                raise TimeoutError(f"expected {count} request(s) within {timeout}s, got {len(self._requests)}")
            return list(self._requests)

    def wait_for_disconnects(self, count: int, timeout: float = 5.0) -> int:
        with self._changed:
            if not self._changed.wait_for(lambda: self._disconnects >= count, timeout):
                raise TimeoutError(f"expected {count} client disconnect(s) within {timeout}s, got {self._disconnects}")
            return self._disconnects


def default_error_body(status: int) -> Any:
    return {"error": {"status": status, "message": f"fake upstream told to answer {status}"}}


class FakeServer:
    """Serve `app` on 127.0.0.1:<free port> until `close()`; use as a context manager or call `start()`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        error_body: ErrorBody = default_error_body,
        startup_timeout: float = 10.0,
        shutdown_timeout: float = 5.0,
    ) -> None:
        self.recorder = Recorder()
        self._app = app
        self._error_body = error_body
        self._startup_timeout = startup_timeout
        self._shutdown_timeout = shutdown_timeout
        self._controls = threading.Lock()
        self._delay_seconds = 0.0
        self._fail_with_status: int | None = None
        self._port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._startup_error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing: asyncio.Event | None = None
        # Set by `hold()`: answers wait for it (see `release()`).
        self._held: asyncio.Event | None = None

    # -- controls, settable from any thread at any time

    @property
    def delay_seconds(self) -> float:
        """Wait this long before answering (cut short by a client disconnect or by `close()`)."""
        with self._controls:
            return self._delay_seconds

    @delay_seconds.setter
    def delay_seconds(self, value: float) -> None:
        with self._controls:
            self._delay_seconds = value

    @property
    def fail_with_status(self) -> int | None:
        """When set, answer every request with this status and `error_body(status)` as JSON."""
        with self._controls:
            return self._fail_with_status

    @fail_with_status.setter
    def fail_with_status(self, value: int | None) -> None:
        with self._controls:
            self._fail_with_status = value

    def hold(self) -> None:
        """Keep every answer from now on until `release()` (or `close()`, or the client leaving)."""
        if self._loop is None:
            raise RuntimeError("fake server not started")

        async def new_hold() -> asyncio.Event:
            return asyncio.Event()

        held = asyncio.run_coroutine_threadsafe(new_hold(), self._loop).result(self._startup_timeout)
        with self._controls:
            self._held = held

    def release(self) -> None:
        """Let held answers go (each still waits out `delay_seconds`, as any answer)."""
        with self._controls:
            held, self._held = self._held, None
        if held is not None and self._loop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(held.set)

    def reset(self) -> None:
        """Forget recorded requests and switch off delay, failure and holding."""
        self.release()
        self.recorder.clear()
        self.delay_seconds = 0.0
        self.fail_with_status = None

    # -- recorder shortcuts

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.recorder.requests

    @property
    def last(self) -> RecordedRequest:
        return self.recorder.last

    @property
    def disconnects(self) -> int:
        return self.recorder.disconnects

    # -- lifecycle

    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError("fake server not started")
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError("fake server already started")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._serve_http,
            interface="asgi3",
            lifespan="off",
            ws="none",
            proxy_headers=False,
            log_level="warning",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, args=(sock,), name=f"fake-{self._port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not self._server.started:
            if self._stopped.wait(0.01):
                self._thread = None
                raise RuntimeError(f"fake server on {self.url} failed to start: {self._startup_error!r}")
            if time.monotonic() > deadline:
                self.close()
                raise TimeoutError(f"fake server on {self.url} not ready within {self._startup_timeout}s")
        return self

    def close(self) -> None:
        thread, server, loop, closing = self._thread, self._server, self._loop, self._closing
        if thread is None or server is None:
            return
        if loop is not None and closing is not None:
            # The loop may already be gone if the server thread died.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(closing.set)
        server.should_exit = True
        thread.join(self._shutdown_timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(self._shutdown_timeout)
            if thread.is_alive():
                raise RuntimeError(f"fake server on {self.url} did not stop")
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self, sock: socket.socket) -> None:
        try:
            asyncio.run(self._serve(sock))
        except BaseException as exc:  # uvicorn reports startup failure as SystemExit
            self._startup_error = exc
        finally:
            self._stopped.set()

    async def _serve(self, sock: socket.socket) -> None:
        assert self._server is not None
        self._loop = asyncio.get_running_loop()
        self._closing = asyncio.Event()
        await self._server.serve(sockets=[sock])

    # -- the ASGI wrapper: record, then delay, then fail or hand over to the app

    async def _serve_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        body, complete = await _read_body(receive)
        self.recorder.record(_recorded(scope, body))
        if not complete:
            self.recorder.record_disconnect()
            return
        with self._controls:
            held = self._held
        if held is not None and await self._client_left_before(held.wait(), receive):
            self.recorder.record_disconnect()
            return
        delay = self.delay_seconds
        if delay > 0 and await self._client_left_during(delay, receive):
            self.recorder.record_disconnect()
            return
        status = self.fail_with_status
        if status is not None:
            await JSONResponse(self._error_body(status), status_code=status)(scope, receive, send)
            return
        await self._app(scope, _replay(body, receive), send)

    async def _client_left_during(self, delay: float, receive: Receive) -> bool:
        return await self._client_left_before(asyncio.sleep(delay), receive)

    async def _client_left_before(self, waiting: Awaitable[Any], receive: Receive) -> bool:
        """Wait for `waiting`, cut short by the client leaving (True) or by `close()`."""
        assert self._closing is not None
        disconnected = asyncio.ensure_future(_wait_for_disconnect(receive))
        closing = asyncio.ensure_future(self._closing.wait())
        waited = asyncio.ensure_future(waiting)
        try:
            done, _ = await asyncio.wait({disconnected, closing, waited}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            disconnected.cancel()
            closing.cancel()
            waited.cancel()
        return disconnected in done


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """Read the whole request body; the flag is False when the client left before sending all of it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), False
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), True


async def _wait_for_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _replay(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _recorded(scope: Scope, body: bytes) -> RecordedRequest:
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
    query_string = scope.get("query_string", b"").decode("latin-1")
    return RecordedRequest(
        method=scope["method"],
        raw_path=raw_path.decode("latin-1"),
        query_string=query_string,
        query=parse_qsl(query_string, keep_blank_values=True),
        headers=Headers(raw=scope["headers"]),
        body=body,
    )
