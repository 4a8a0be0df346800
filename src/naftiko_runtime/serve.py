"""Serve every listener from one process and one event loop.

One uvicorn `Server` is given all pre-bound sockets; the ASGI app dispatches on the
local port of each connection. One lifespan runs every MCP session manager and closes
the upstream clients on the way out.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import socket
import sys
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import TextIO

import sniffio
import uvicorn

from naftiko_runtime.adapters.asgi import ASGIApp, Receive, Scope, Send, problem, send_problem
from naftiko_runtime.adapters.control import ControlApp
from naftiko_runtime.adapters.inbound_auth import guard
from naftiko_runtime.adapters.mcp import McpAdapter, McpSettings
from naftiko_runtime.adapters.rest import RestApp
from naftiko_runtime.adapters.skill import SkillApp
from naftiko_runtime.runtime import Listener, Runtime, RuntimeOptions
from naftiko_runtime.spec.models import ControlManagement

logger = logging.getLogger("naftiko.serve")
GRACEFUL_SECONDS = 10


class Dispatcher:
    """Routes each connection to the app of the port it arrived on."""

    def __init__(self, runtime: Runtime, apps: dict[int, ASGIApp], mcp_adapters: list[McpAdapter]) -> None:
        self._runtime = runtime
        self._apps = apps
        self._mcp_adapters = mcp_adapters
        self._single = next(iter(apps.values())) if len(apps) == 1 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        app = self._single or self._apps.get(scope["server"][1] if scope.get("server") else -1)
        if app is None:
            await send_problem(send, problem(404, "Not Found", "no adapter on this port"))
            return
        await app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()
        async with AsyncExitStack() as stack:
            try:
                for adapter in self._mcp_adapters:
                    await stack.enter_async_context(adapter.lifespan())
            except Exception as exc:
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
            await receive()
        await self._runtime.close()
        await send({"type": "lifespan.shutdown.complete"})


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


def build_app(runtime: Runtime, ports: dict[int, Listener], options: RuntimeOptions) -> Dispatcher:
    apps: dict[int, ASGIApp] = {}
    mcp_adapters: list[McpAdapter] = []
    settings = McpSettings(stateless=options.stateless, json_response=options.json_response)
    for port, listener in ports.items():
        apps[port] = _listener_app(listener, runtime, settings, mcp_adapters)
    return Dispatcher(runtime, apps, mcp_adapters)


def _listener_app(
    listener: Listener, runtime: Runtime, settings: McpSettings, mcp_adapters: list[McpAdapter]
) -> ASGIApp:
    """The app of one listener, behind the inbound authentication its adapters declare."""
    app = _bare_app(listener, runtime, settings, mcp_adapters)
    auth = next((adapter.inbound_auth for adapter in listener.adapters if adapter.inbound_auth), None)
    return guard(app, auth) if auth is not None else app


def _bare_app(listener: Listener, runtime: Runtime, settings: McpSettings, mcp_adapters: list[McpAdapter]) -> ASGIApp:
    actions = [action for adapter in listener.adapters for action in adapter.actions]
    if listener.type == "rest":
        forwards = [forward for adapter in listener.adapters for forward in adapter.forwards]
        return RestApp(actions, runtime.health, forwards=forwards)
    if listener.type == "skill":
        return SkillApp([skill for adapter in listener.adapters for skill in adapter.skills], runtime.health)
    if listener.type == "control":
        management = listener.adapters[0].management or ControlManagement()
        return ControlApp(runtime.capabilities, management, runtime.health)
    descriptions = [a.description for a in listener.adapters if a.description]
    adapter = McpAdapter(
        "+".join(listener.namespaces),
        actions,
        runtime.health,
        instructions="\n\n".join(descriptions) or None,
        host=listener.host,
        settings=settings,
        resources=[resource for a in listener.adapters for resource in a.resources],
        prompts=[prompt for a in listener.adapters for prompt in a.prompts],
    )
    mcp_adapters.append(adapter)
    return adapter


async def serve(
    runtime: Runtime,
    options: RuntimeOptions,
    banner: TextIO = sys.stderr,
) -> None:
    # anyio asks sniffio which library runs the loop at nearly every await; on Python 3.11
    # sniffing costs a pure-Python asyncio.current_task() each time. This thread only runs asyncio.
    sniffio.thread_local.name = "asyncio"
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
    app = build_app(runtime, bound, options)
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
    # Everything built so far lives as long as the process: out of the collector's sight, full
    # collections no longer walk it (they cost 60-110 ms under load without this).
    gc.collect()
    gc.freeze()
    print(f"naftiko: serving {len(bound)} adapter(s); stop with Ctrl-C or SIGTERM", file=banner, flush=True)
    _exit_quietly_on_signals()
    await server.serve(sockets=sockets)


class ServeError(Exception):
    pass


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _exit_quietly_on_signals() -> None:
    # uvicorn re-raises the signal that stopped it once shutdown is done; a no-op handler
    # turns that into a normal return, so a graceful stop exits 0.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: None)


def run(runtime: Runtime, options: RuntimeOptions) -> None:
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(serve(runtime, options))


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    # uvloop (installed with uvicorn[standard]) when the platform has it; asyncio's loop otherwise.
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
