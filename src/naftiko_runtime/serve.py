"""Serve every listener from one process and one event loop.

One uvicorn `Server` is given all pre-bound sockets; the ASGI app dispatches on the
local port of each connection. One lifespan runs every MCP session manager and closes
the upstream clients on the way out. A reload (the control port, or `--watch`) builds the
next generation beside the serving one; a signal starts a graceful shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib.metadata
import logging
import math
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

import anyio
import sniffio
import uvicorn
from anyio.abc import TaskGroup, TaskStatus
from sse_starlette.sse import AppStatus

from naftiko_runtime.adapters.asgi import ASGIApp, Receive, Scope, Send, problem, send_problem
from naftiko_runtime.adapters.control import ControlApp
from naftiko_runtime.adapters.cors import CorsPolicy
from naftiko_runtime.adapters.inbound_auth import guard, publish_metadata
from naftiko_runtime.adapters.mcp import MCP_PATHS, McpAdapter, McpSettings, tool_table
from naftiko_runtime.adapters.mcp_sse import SSE_PATH
from naftiko_runtime.adapters.mcp_stdio import serve_stdio
from naftiko_runtime.adapters.mcp_table import ToolTable
from naftiko_runtime.adapters.rest import RestApp
from naftiko_runtime.adapters.skill import SkillApp
from naftiko_runtime.adapters.streams import OpenStreams
from naftiko_runtime.diagnostics import CapabilityError
from naftiko_runtime.observability.telemetry import Telemetry
from naftiko_runtime.openapi_export import served_document
from naftiko_runtime.runtime import Listener, Runtime, RuntimeOptions, build_runtime
from naftiko_runtime.spec.models import ControlManagement
from naftiko_runtime.watch import WATCH_SECONDS, FileWatch, record_reads

logger = logging.getLogger("naftiko.serve")
SETTLE_SECONDS = 0.2
# MCP event streams (GET): open for as long as a client is connected, ended when shutdown begins.
STREAM_PATHS = MCP_PATHS | {SSE_PATH}


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
    # What each MCP endpoint serves in this build; the endpoints themselves outlive generations.
    tables: dict[int, ToolTable]


class Dispatcher:
    """Routes each connection to the app of the port it arrived on, in the current generation."""

    def __init__(
        self,
        runtime: Runtime,
        ports: dict[int, Listener],
        options: RuntimeOptions,
        paths: Sequence[Path] = (),
        reads: Iterable[Path] | None = None,
        metrics_port: int | None = None,
    ) -> None:
        """`metrics_port`: the port of `--metrics-port`, whose connections get the metrics app."""
        self._options = options
        self._paths = list(paths)
        self._ports = ports
        self._metrics_port = metrics_port
        self._streams = OpenStreams()
        # One MCP endpoint per port for the life of the process: sessions survive reloads.
        self._mcp: dict[int, McpAdapter] = {}
        self._generation = self._build(runtime, ports)
        self._tasks: TaskGroup | None = None
        self._reloading = anyio.Lock()
        self._retiring: dict[int, Runtime] = {}  # by id: runtimes compare by value
        self._watch = FileWatch(reads) if options.watch and reads is not None else None
        self.draining = False
        self._cutting = False

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
        try:
            await app(scope, receive, send)
        except asyncio.CancelledError:
            if not self._cutting:
                raise
            await self._answer_cut(send)

    async def _answer_cut(self, send: Send) -> None:
        """A call the end of the graceful period cut: 503 if nothing was sent yet, else the response ended."""
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        detail = f"the server stopped before this call finished (--graceful-timeout {self._options.graceful_timeout:g})"
        try:
            await send_problem(send, problem(503, "Service Unavailable", detail))
        except RuntimeError:  # the response had started
            with contextlib.suppress(RuntimeError, OSError):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            try:
                for adapter in self._mcp.values():
                    await tasks.start(_run_session_manager, adapter)
            except Exception as exc:
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                tasks.cancel_scope.cancel()
                return
            if self._watch is not None:
                tasks.start_soon(self._watch_files)
            await send({"type": "lifespan.startup.complete"})
            await receive()
            tasks.cancel_scope.cancel()
        for runtime in [self._generation.runtime, *self._retiring.values()]:
            await runtime.close()
        await send({"type": "lifespan.shutdown.complete"})

    async def reload(self) -> dict[str, Any]:
        """Load the capability files again and switch to them; in-flight calls finish on the old ones."""
        async with self._reloading:
            if self.draining:
                return {"reloaded": False, "detail": "the server is shutting down"}
            # Off the event loop: a directory of files takes a while to load, and calls go on meanwhile.
            runtime, reads, failure = await anyio.to_thread.run_sync(self._load)
            if self._watch is not None:
                # After a failed load the files it read are watched too, so fixing any of them is seen.
                self._watch.replace(reads if failure is None else {*reads, *self._watch.paths})
            if runtime is None:
                if isinstance(failure, CapabilityError):
                    return {"reloaded": False, "diagnostics": [d.as_dict() for d in failure.diagnostics]}
                logger.debug("reload failed", exc_info=failure)
                return {"reloaded": False, "detail": f"internal error ({type(failure).__name__}); see the log"}
            if runtime.stdio is not None:
                # The stdio session runs on the first build's tools and clients for the life of the process.
                await runtime.close()
                return {"reloaded": False, "detail": "an MCP adapter is served over stdio; restart instead"}
            ports = self._same_ports(runtime)
            if ports is None:
                await runtime.close()
                return {"reloaded": False, "detail": "the files now need other ports or adapters; restart instead"}
            generation = self._build(runtime, ports)
            retired, self._generation = self._generation, generation
            changes = [(self._mcp[port], self._mcp[port].replace(table)) for port, table in generation.tables.items()]
            assert self._tasks is not None
            self._tasks.start_soon(self._retire, retired.runtime)
            for adapter, events in changes:
                await adapter.notices.publish(events)
            logger.info("reloaded %d capability file(s)", len(runtime.capabilities))
            return {"reloaded": True, "diagnostics": [d.as_dict() for d in runtime.diagnostics]}

    def _load(self) -> tuple[Runtime | None, set[Path], BaseException | None]:
        def build() -> Runtime:
            return build_runtime(self._paths, self._options)

        if self._watch is not None:
            return record_reads(build)
        try:
            return build(), set(), None
        except Exception as exc:
            return None, set(), exc

    async def _watch_files(self) -> None:
        assert self._watch is not None
        while True:
            await anyio.sleep(WATCH_SECONDS)
            changed = self._watch.changed()
            if not changed:
                continue
            await anyio.sleep(SETTLE_SECONDS)  # an editor's save may be writing still
            outcome = await self.reload()
            names = ", ".join(str(path) for path in changed)
            if outcome["reloaded"]:
                logger.info("%s changed: now serving the new version", names)
            elif "diagnostics" in outcome:
                reasons = "; ".join(_diagnostic_text(d) for d in outcome["diagnostics"] if d["severity"] == "error")
                logger.warning("%s changed but does not load; still serving the previous version: %s", names, reasons)
            else:
                logger.warning("%s changed; still serving the previous version: %s", names, outcome["detail"])

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
        cors = CorsPolicy.of(self._options.cors_origins)
        apps: dict[int, ASGIApp] = {}
        tables: dict[int, ToolTable] = {}
        for port, listener in ports.items():
            if listener.type != "mcp":
                apps[port] = _listener_app(listener, runtime, settings, [], self.reload, cors)
                continue
            adapter = self._mcp.get(port)
            if adapter is None:
                adapter = self._mcp[port] = mcp_adapter(listener, runtime, settings)
                tables[port] = adapter.table
            else:
                tables[port] = listener_table(listener, runtime)
            apps[port] = self._streams.track(_guarded(listener, adapter, runtime.telemetry), STREAM_PATHS)
        if self._metrics_port is not None and runtime.telemetry is not None:
            apps[self._metrics_port] = runtime.telemetry.metrics_listener()
        return Generation(runtime, apps, tables)

    async def _retire(self, runtime: Runtime) -> None:
        # Calls that started on the old generation get the graceful period to finish.
        self._retiring[id(runtime)] = runtime
        await anyio.sleep(self._options.graceful_timeout)
        del self._retiring[id(runtime)]
        await runtime.close()

    def begin_shutdown(self, requests: Collection[asyncio.Task[None]]) -> None:
        """The listeners are closing: no more reloads, idle event streams end, calls in flight go on.

        `requests`: the server's tasks of the requests running (uvicorn's), cut when the graceful period ends.
        """
        self.draining = True
        logger.info("stopping: no new connections; calls in flight get %g s to finish", self._options.graceful_timeout)
        for adapter in self._mcp.values():
            adapter.notices.close_listen_streams()
        self._streams.close(MCP_PATHS)  # GET /mcp streams carry notifications only
        if self._tasks is not None:
            self._tasks.start_soon(self._close_legacy_streams)
            self._tasks.start_soon(self._cut_after_grace, requests)

    async def _cut_after_grace(self, requests: Collection[asyncio.Task[None]]) -> None:
        await anyio.sleep(self._options.graceful_timeout)
        running = [task for task in requests if not task.done()]
        AppStatus.should_exit = True  # the SDK's event-stream responses end too
        if not running:
            return
        logger.warning("the graceful period is over: %d call(s) still running are cut", len(running))
        self._cutting = True
        for task in running:
            task.cancel()

    async def _close_legacy_streams(self) -> None:
        # A 2024-11-05 stream carries the answers of its session's calls: it ends once none is running.
        while any(adapter.calls_in_flight for adapter in self._mcp.values()):
            await anyio.sleep(0.05)
        self._streams.close()


def _diagnostic_text(diagnostic: dict[str, Any]) -> str:
    where = diagnostic.get("file", "")
    if diagnostic.get("line"):
        where = f"{where}:{diagnostic['line']}"
    return f"{where}: {diagnostic.get('message', '')}" if where else str(diagnostic.get("message", ""))


async def _run_session_manager(adapter: McpAdapter, *, task_status: TaskStatus[None]) -> None:
    async with adapter.lifespan():
        task_status.started()
        await anyio.sleep_forever()


class _Uvicorn(uvicorn.Server):
    """uvicorn, telling the dispatcher when its graceful shutdown begins (and which requests run)."""

    def __init__(self, config: uvicorn.Config, on_shutdown: Callable[[Collection[asyncio.Task[None]]], None]) -> None:
        super().__init__(config)
        self._on_shutdown = on_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._on_shutdown(self.server_state.tasks)
        await super().shutdown(sockets)


def bind_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """`reuse_port`: one more socket on a port whose sockets all set SO_REUSEPORT (`workers.py`)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
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


# Under load, the objects of the calls under way keep the collector's allocation count climbing
# (calls leave almost no cyclic garbage): Python's default, a young collection every 700, walked
# and promoted them so often it took 5% of a REST call's CPU, 9% with logs, metrics and traces on
# (A/B of CPU per call under wrk). Every 10,000 allocations holds well under a megabyte more.
YOUNG_COLLECTION_THRESHOLD = 10_000


def settle_heap() -> None:
    """Before serving: what the load built is moved out of the collector's sight (full collections
    no longer walk it; they cost 60-110 ms under load before), and young objects are collected
    less often."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, oldest)


def _listener_app(
    listener: Listener,
    runtime: Runtime,
    settings: McpSettings,
    mcp_adapters: list[McpAdapter],
    reload: Callable[[], Awaitable[dict[str, Any]]],
    cors: CorsPolicy | None = None,
) -> ASGIApp:
    """The app of one listener, behind the inbound authentication its adapters declare."""
    return _guarded(listener, _bare_app(listener, runtime, settings, mcp_adapters, reload, cors), runtime.telemetry)


def _guarded(listener: Listener, app: ASGIApp, telemetry: Telemetry | None = None) -> ASGIApp:
    auths = list(dict.fromkeys(adapter.inbound_auth for adapter in listener.adapters))
    if listener.type == "rest":
        return publish_metadata(app, auths)  # each route checks its own file's authentication
    if auths == [None]:
        return app
    refused = telemetry.listener_refusals(listener.type, "+".join(listener.namespaces)) if telemetry else None
    # MCP clients look for the resource metadata at the endpoint's path first.
    return guard(app, auths, metadata_suffixes=("/mcp",) if listener.type == "mcp" else (), on_refusal=refused)


def _bare_app(
    listener: Listener,
    runtime: Runtime,
    settings: McpSettings,
    mcp_adapters: list[McpAdapter],
    reload: Callable[[], Awaitable[dict[str, Any]]],
    cors: CorsPolicy | None = None,
) -> ASGIApp:
    actions = [action for adapter in listener.adapters for action in adapter.actions]
    if listener.type == "rest":
        forwards = [forward for adapter in listener.adapters for forward in adapter.forwards]
        openapi = served_document(listener)
        ids = runtime.telemetry.request_ids() if runtime.telemetry is not None else None
        return RestApp(actions, runtime.health, forwards=forwards, cors=cors, openapi=openapi, request_ids=ids)
    if listener.type == "skill":
        return SkillApp([skill for adapter in listener.adapters for skill in adapter.skills], runtime.health)
    if listener.type == "control":
        management = listener.adapters[0].management or ControlManagement()
        routes = runtime.telemetry.control_routes(listener.adapters[0]) if runtime.telemetry is not None else None
        return ControlApp(runtime.capabilities, management, runtime.health, reload=reload, observability=routes)
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
    adapter = McpAdapter(
        "+".join(listener.namespaces),
        [action for adapter in listener.adapters for action in adapter.actions],
        runtime.health,
        instructions=_instructions(listener),
        host=listener.host,
        settings=settings,
        version=VERSION,
        resources=[resource for a in listener.adapters for resource in a.resources],
        prompts=[prompt for a in listener.adapters for prompt in a.prompts],
    )
    if runtime.telemetry is not None:
        runtime.telemetry.instrument_mcp(adapter)
    return adapter


def listener_table(listener: Listener, runtime: Runtime) -> ToolTable:
    """What a reload gives an MCP endpoint that already serves this listener."""
    return tool_table(
        [action for adapter in listener.adapters for action in adapter.actions],
        runtime.health,
        resources=[resource for a in listener.adapters for resource in a.resources],
        prompts=[prompt for a in listener.adapters for prompt in a.prompts],
        instructions=_instructions(listener),
    )


def _instructions(listener: Listener) -> str | None:
    return "\n\n".join(a.description for a in listener.adapters if a.description) or None


async def serve(
    runtime: Runtime,
    options: RuntimeOptions,
    banner: TextIO = sys.stderr,
    paths: Sequence[Path] = (),
    reads: Iterable[Path] | None = None,
    listening: Listening | None = None,
) -> None:
    """`reads`: what the runtime's build read (`watch.record_reads`), watched under `--watch`.

    `listening`: sockets bound and announced already (a worker of `workers.py`): no banner here.
    """
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
    pre_bound = listening is not None
    if listening is None:
        listening = listen(runtime, options)
    watched = reads if stdio is None else None
    app = Dispatcher(runtime, listening.ports, options, paths, watched, metrics_port=listening.metrics_port)
    config = uvicorn.Config(
        app,
        lifespan="on",
        # No adapter speaks WebSocket: "auto" would load a WebSocket library into every server.
        ws="none",
        log_level="warning",
        access_log=False,
        # Nothing here reads a caller's address or scheme, which is all X-Forwarded-* would rewrite:
        # uvicorn's middleware for it would be one more layer on every request for no effect.
        proxy_headers=False,
        # A backstop: the dispatcher cuts what still runs when --graceful-timeout ends, and answers it.
        timeout_graceful_shutdown=math.ceil(options.graceful_timeout) + 2,
        log_config=None,
    )
    server = _Uvicorn(config, app.begin_shutdown)
    if not pre_bound:
        announce(listening, runtime, options, banner)
    settle_heap()
    # Handlers first: a signal sent as soon as the banner is read must not be lost.
    _exit_quietly_on_signals(server)
    # sse-starlette (the MCP SDK's event streams) ends every stream as soon as a stop begins, the
    # answers of calls in flight with them; the dispatcher ends idle streams itself instead.
    AppStatus.enable_automatic_graceful_drain = False
    if not pre_bound:
        count = len(listening.ports) + (stdio is not None)
        print(f"naftiko: serving {count} adapter(s); stop with Ctrl-C or SIGTERM", file=banner, flush=True)
    async with anyio.create_task_group() as tasks:
        if stdio is not None:
            tasks.start_soon(_stdio_beside_http, stdio, server)
        await server.serve(sockets=listening.sockets)
        tasks.cancel_scope.cancel()


@dataclass(slots=True)
class Listening:
    """Every socket the server accepts on, bound before serving (once, by the supervisor of several workers)."""

    sockets: list[socket.socket]
    ports: dict[int, Listener]
    metrics_port: int | None = None
    metrics_url: str | None = None

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()


def listen(runtime: Runtime, options: RuntimeOptions) -> Listening:
    """Bind every listener's socket, and `--metrics-port`'s; a port that cannot be had is a `ServeError`."""
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
    listening = Listening(sockets, bound)
    _bind_metrics_port(listening, runtime, options)
    return listening


def announce(listening: Listening, runtime: Runtime, options: RuntimeOptions, banner: TextIO) -> None:
    """The banner: one line per listener with its URL, then metrics, stdio and `--watch`."""
    for listener in listening.ports.values():
        kind = {"rest": "routes", "mcp": "tools", "skill": "skills", "control": "endpoint groups"}[listener.type]
        scheme_path = "/mcp" if listener.type == "mcp" else ""
        print(
            f"naftiko: {listener.type.upper():5} {'+'.join(listener.namespaces)} at "
            f"http://{_url_host(listener.host)}:{listener.port}{scheme_path} ({listener.action_count} {kind})",
            file=banner,
            flush=True,
        )
    if listening.metrics_url is not None:
        print(f"naftiko: METRICS at {listening.metrics_url}", file=banner, flush=True)
    _announce_stdio(runtime.stdio, banner)
    if options.watch:
        stdio = runtime.stdio is not None
        watching = "not with an MCP adapter over stdio (restart instead)" if stdio else "changes reload the files"
        print(f"naftiko: --watch: {watching}", file=banner, flush=True)


def _bind_metrics_port(listening: Listening, runtime: Runtime, options: RuntimeOptions) -> None:
    """`--metrics-port`: its socket added to the server's."""
    telemetry = runtime.telemetry
    if telemetry is None or telemetry.metrics_port is None:
        return
    host = options.host or "127.0.0.1"
    try:
        sock = bind_socket(host, telemetry.metrics_port)
    except OSError as exc:
        listening.close()
        raise ServeError(f"cannot listen on {host}:{telemetry.metrics_port} (--metrics-port): {exc.strerror}") from None
    listening.sockets.append(sock)
    listening.metrics_port = sock.getsockname()[1]
    listening.metrics_url = f"http://{_url_host(host)}:{listening.metrics_port}/metrics"


def _announce_stdio(listener: Listener | None, banner: TextIO) -> None:
    if listener is not None:
        print(
            f"naftiko: MCP   {'+'.join(listener.namespaces)} over stdio ({listener.action_count} tools)",
            file=banner,
            flush=True,
        )


async def _serve_stdio_alone(runtime: Runtime, adapter: McpAdapter, banner: TextIO) -> None:
    """Serve one stdio session; the process ends with it (stdin closed) or on SIGINT/SIGTERM."""
    settle_heap()
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


def run(
    runtime: Runtime,
    options: RuntimeOptions,
    paths: Sequence[Path] = (),
    reads: Iterable[Path] | None = None,
    listening: Listening | None = None,
) -> None:
    _fill_standard_descriptors()
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(serve(runtime, options, paths=paths, reads=reads, listening=listening))


def _fill_standard_descriptors() -> None:
    # Started with stdin (or stdout, stderr) closed, the next file opened takes its number; libuv
    # aborts the process when it later closes such a descriptor. The null device holds it instead.
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            os.open(os.devnull, os.O_RDWR)  # the lowest free descriptor: this one


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    # uvloop (a dependency wherever it builds) when the platform has it; asyncio's loop otherwise.
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
