"""Serve every listener from one process and one event loop.

One uvicorn `Server` is given all pre-bound sockets; the ASGI app dispatches on the
local port of each connection. One lifespan runs every MCP session manager and closes
the upstream clients on the way out.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.metadata
import logging
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

import anyio
import sniffio
import uvicorn
from anyio.abc import TaskGroup, TaskStatus

from naftiko_runtime.adapters.asgi import ASGIApp, Receive, Scope, Send, problem, send_problem
from naftiko_runtime.adapters.control import ControlApp
from naftiko_runtime.adapters.inbound_auth import guard, publish_metadata
from naftiko_runtime.adapters.mcp import McpAdapter, McpSettings
from naftiko_runtime.adapters.mcp_stdio import serve_stdio
from naftiko_runtime.adapters.rest import RestApp
from naftiko_runtime.adapters.skill import SkillApp
from naftiko_runtime.diagnostics import CapabilityError
from naftiko_runtime.runtime import Listener, Runtime, RuntimeOptions, build_runtime
from naftiko_runtime.spec.models import ControlManagement

logger = logging.getLogger("naftiko.serve")
GRACEFUL_SECONDS = 10


def _version() -> str:
    try:
        return importlib.metadata.version("naftiko-runtime")
    except importlib.metadata.PackageNotFoundError:
        return "0"


VERSION = _version()  # the serverInfo version MCP clients are told


@dataclass(slots=True)
class Generation:
    """One build of the runtime and its apps; a reload makes the next one."""

    runtime: Runtime
    apps: dict[int, ASGIApp]
    mcp_adapters: list[McpAdapter]
    stops: list[anyio.Event] = field(default_factory=list)


class Dispatcher:
    """Routes each connection to the app of the port it arrived on, in the current generation."""

    def __init__(
        self, runtime: Runtime, ports: dict[int, Listener], options: RuntimeOptions, paths: Sequence[Path] = ()
    ) -> None:
        self._options = options
        self._paths = list(paths)
        self._ports = ports
        self._generation = self._build(runtime, ports)
        self._tasks: TaskGroup | None = None
        self._reloading = anyio.Lock()

    @property
    def generation(self) -> Generation:
        return self._generation

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        apps = self._generation.apps
        app = apps.get(scope["server"][1]) if scope.get("server") else None
        if app is None and len(apps) == 1:
            app = next(iter(apps.values()))
        if app is None:
            await send_problem(send, problem(404, "Not Found", "no adapter on this port"))
            return
        await app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            try:
                await self._start(self._generation)
            except Exception as exc:
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                tasks.cancel_scope.cancel()
                return
            await send({"type": "lifespan.startup.complete"})
            await receive()
            tasks.cancel_scope.cancel()
        await self._generation.runtime.close()
        await send({"type": "lifespan.shutdown.complete"})

    async def reload(self) -> dict[str, Any]:
        """Load the capability files again and switch to them; in-flight calls finish on the old ones."""
        async with self._reloading:
            try:
                runtime = build_runtime(self._paths, self._options)
            except CapabilityError as exc:
                return {"reloaded": False, "diagnostics": [d.as_dict() for d in exc.diagnostics]}
            if runtime.stdio is not None:
                # The stdio session runs on the first build's tools and clients for the life of the process.
                await runtime.close()
                return {"reloaded": False, "detail": "an MCP adapter is served over stdio; restart instead"}
            ports = self._same_ports(runtime)
            if ports is None:
                await runtime.close()
                return {"reloaded": False, "detail": "the files now need other ports or adapters; restart instead"}
            generation = self._build(runtime, ports)
            await self._start(generation)
            retired, self._generation = self._generation, generation
            assert self._tasks is not None
            self._tasks.start_soon(self._retire, retired)
            logger.info("reloaded %d capability file(s)", len(self._paths))
            return {"reloaded": True, "diagnostics": [d.as_dict() for d in runtime.diagnostics]}

    def _same_ports(self, runtime: Runtime) -> dict[int, Listener] | None:
        by_adapters = {(known.type, tuple(known.namespaces)): port for port, known in self._ports.items()}
        ports: dict[int, Listener] = {}
        for listener in runtime.listeners:
            port = by_adapters.get((listener.type, tuple(listener.namespaces)))
            if port is None:
                return None
            listener.port = port
            ports[port] = listener
        return ports if len(ports) == len(self._ports) else None

    def _build(self, runtime: Runtime, ports: dict[int, Listener]) -> Generation:
        settings = mcp_settings(self._options)
        mcp_adapters: list[McpAdapter] = []
        apps = {
            port: _listener_app(listener, runtime, settings, mcp_adapters, self.reload)
            for port, listener in ports.items()
        }
        return Generation(runtime, apps, mcp_adapters)

    async def _start(self, generation: Generation) -> None:
        assert self._tasks is not None
        for adapter in generation.mcp_adapters:
            stop = anyio.Event()
            await self._tasks.start(_run_session_manager, adapter, stop)
            generation.stops.append(stop)

    async def _retire(self, generation: Generation) -> None:
        # Calls that started on the old generation get the graceful period to finish.
        await anyio.sleep(GRACEFUL_SECONDS)
        for stop in generation.stops:
            stop.set()
        await generation.runtime.close()


async def _run_session_manager(adapter: McpAdapter, stop: anyio.Event, *, task_status: TaskStatus[None]) -> None:
    async with adapter.lifespan():
        task_status.started()
        await stop.wait()


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it, a response written as headers then
    # body waits on the client's delayed ACK (about 40 ms per call).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _listener_app(
    listener: Listener,
    runtime: Runtime,
    settings: McpSettings,
    mcp_adapters: list[McpAdapter],
    reload: Callable[[], Awaitable[dict[str, Any]]],
) -> ASGIApp:
    """The app of one listener, behind the inbound authentication its adapters declare."""
    app = _bare_app(listener, runtime, settings, mcp_adapters, reload)
    auths = list(dict.fromkeys(adapter.inbound_auth for adapter in listener.adapters))
    if listener.type == "rest":
        return publish_metadata(app, auths)  # each route checks its own file's authentication
    if auths == [None]:
        return app
    # MCP clients look for the resource metadata at the endpoint's path first.
    return guard(app, auths, metadata_suffixes=("/mcp",) if listener.type == "mcp" else ())


def _bare_app(
    listener: Listener,
    runtime: Runtime,
    settings: McpSettings,
    mcp_adapters: list[McpAdapter],
    reload: Callable[[], Awaitable[dict[str, Any]]],
) -> ASGIApp:
    actions = [action for adapter in listener.adapters for action in adapter.actions]
    if listener.type == "rest":
        forwards = [forward for adapter in listener.adapters for forward in adapter.forwards]
        return RestApp(actions, runtime.health, forwards=forwards)
    if listener.type == "skill":
        return SkillApp([skill for adapter in listener.adapters for skill in adapter.skills], runtime.health)
    if listener.type == "control":
        management = listener.adapters[0].management or ControlManagement()
        return ControlApp(runtime.capabilities, management, runtime.health, reload=reload)
    adapter = mcp_adapter(listener, runtime, settings)
    mcp_adapters.append(adapter)
    return adapter


def mcp_settings(options: RuntimeOptions) -> McpSettings:
    return McpSettings(
        stateless=options.stateless,
        json_response=options.json_response,
        allowed_hosts=options.allowed_hosts,
        allowed_origins=options.allowed_origins,
    )


def mcp_adapter(listener: Listener, runtime: Runtime, settings: McpSettings) -> McpAdapter:
    """The MCP server of a listener: its adapters' tools, resources and prompts merged."""
    descriptions = [a.description for a in listener.adapters if a.description]
    return McpAdapter(
        "+".join(listener.namespaces),
        [action for adapter in listener.adapters for action in adapter.actions],
        runtime.health,
        instructions="\n\n".join(descriptions) or None,
        host=listener.host,
        settings=settings,
        version=VERSION,
        resources=[resource for a in listener.adapters for resource in a.resources],
        prompts=[prompt for a in listener.adapters for prompt in a.prompts],
    )


async def serve(
    runtime: Runtime,
    options: RuntimeOptions,
    banner: TextIO = sys.stderr,
    paths: Sequence[Path] = (),
) -> None:
    # anyio asks sniffio which library runs the loop at nearly every await; on Python 3.11
    # sniffing costs a pure-Python asyncio.current_task() each time. This thread only runs asyncio.
    sniffio.thread_local.name = "asyncio"
    # Over stdio there is no HTTP response mode: notifications (progress) always have a way back.
    stdio_settings = replace(mcp_settings(options), stateless=False, json_response=False)
    stdio = mcp_adapter(runtime.stdio, runtime, stdio_settings) if runtime.stdio is not None else None
    if stdio is not None and not runtime.listeners:
        _announce_stdio(runtime.stdio, banner)
        await _serve_stdio_alone(runtime, stdio, banner)
        return
    sockets: list[socket.socket] = []
    bound: dict[int, Listener] = {}
    try:
        for listener in runtime.listeners:
            sock = bind_socket(listener.host, listener.port)
            sockets.append(sock)
            listener.port = sock.getsockname()[1]
            bound[listener.port] = listener
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise ServeError(f"cannot listen on {listener.host}:{listener.port}: {exc.strerror}") from None
    app = Dispatcher(runtime, bound, options, paths)
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        log_config=None,
    )
    server = uvicorn.Server(config)
    for listener in bound.values():
        kind = {"rest": "routes", "mcp": "tools", "skill": "skills", "control": "endpoint groups"}[listener.type]
        scheme_path = "/mcp" if listener.type == "mcp" else ""
        print(
            f"naftiko: {listener.type.upper():5} {'+'.join(listener.namespaces)} at "
            f"http://{_url_host(listener.host)}:{listener.port}{scheme_path} ({listener.action_count} {kind})",
            file=banner,
            flush=True,
        )
    _announce_stdio(runtime.stdio, banner)
    # Everything built so far lives as long as the process: out of the collector's sight, full
    # collections no longer walk it (they cost 60-110 ms under load without this).
    gc.collect()
    gc.freeze()
    # Handlers first: a signal sent as soon as the banner is read must not be lost.
    _exit_quietly_on_signals(server)
    count = len(bound) + (stdio is not None)
    print(f"naftiko: serving {count} adapter(s); stop with Ctrl-C or SIGTERM", file=banner, flush=True)
    async with anyio.create_task_group() as tasks:
        if stdio is not None:
            tasks.start_soon(_stdio_beside_http, stdio, server)
        await server.serve(sockets=sockets)
        tasks.cancel_scope.cancel()


def _announce_stdio(listener: Listener | None, banner: TextIO) -> None:
    if listener is not None:
        print(
            f"naftiko: MCP   {'+'.join(listener.namespaces)} over stdio ({listener.action_count} tools)",
            file=banner,
            flush=True,
        )


async def _serve_stdio_alone(runtime: Runtime, adapter: McpAdapter, banner: TextIO) -> None:
    """Serve one stdio session; the process ends with it (stdin closed) or on SIGINT/SIGTERM."""
    gc.collect()
    gc.freeze()
    try:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            print(
                "naftiko: serving 1 adapter(s) over stdio; stop by closing stdin or with SIGTERM",
                file=banner,
                flush=True,
            )
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(_cancel_on_signal, signals, tasks.cancel_scope)
                await serve_stdio(adapter.server)
                tasks.cancel_scope.cancel()
    finally:
        await runtime.close()


async def _cancel_on_signal(signals: AsyncIterator[int], scope: anyio.CancelScope) -> None:
    async for _ in signals:
        scope.cancel()
        return


async def _stdio_beside_http(adapter: McpAdapter, server: uvicorn.Server) -> None:
    if await serve_stdio(adapter.server):
        # The client that spoke over stdio closed it: like any stdio server, the process ends with it.
        server.should_exit = True
    else:
        # Nothing ever came (stdin at its end from the start, as under a service manager).
        logger.info("stdin closed before any MCP message; the stdio MCP server stopped, HTTP adapters keep serving")


class ServeError(Exception):
    pass


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _exit_quietly_on_signals(server: uvicorn.Server) -> None:
    # uvicorn re-raises the signal that stopped it once shutdown is done; this handler turns that
    # into a normal return, so a graceful stop exits 0. Before uvicorn installs its own, it asks
    # for the same graceful stop.
    def stop(_signum: int, _frame: object) -> None:
        server.should_exit = True

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)


def run(runtime: Runtime, options: RuntimeOptions, paths: Sequence[Path] = ()) -> None:
    _fill_standard_descriptors()
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(serve(runtime, options, paths=paths))


def _fill_standard_descriptors() -> None:
    # Started with stdin (or stdout, stderr) closed, the next file opened takes its number; libuv
    # aborts the process when it later closes such a descriptor. The null device holds it instead.
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            os.open(os.devnull, os.O_RDWR)  # the lowest free descriptor: this one


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    # uvloop (installed with uvicorn[standard]) when the platform has it; asyncio's loop otherwise.
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
