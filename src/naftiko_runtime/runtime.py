"""Capabilities + options -> listeners (one ASGI app per host:port) and upstream clients."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from naftiko_runtime.adapters.health import Health
from naftiko_runtime.adapters.inbound_auth import InboundAuth
from naftiko_runtime.capability import (
    DEFAULT_HOST,
    Adapter,
    AdapterType,
    CompiledCapability,
    LoadOptions,
    load_capability,
)
from naftiko_runtime.companion_schemas import forget_documents
from naftiko_runtime.consumer.aiohttp_client import AiohttpClient
from naftiko_runtime.consumer.client import Timeouts, UpstreamClient
from naftiko_runtime.consumer.digest import DigestClient
from naftiko_runtime.consumer.guard import Guards, Resilience
from naftiko_runtime.consumer.network import Outbound
from naftiko_runtime.consumer.redact import Redaction, secrets_of
from naftiko_runtime.diagnostics import CapabilityError, Diagnostic, Location, Severity
from naftiko_runtime.discovery import Discovery, discover
from naftiko_runtime.engine import DEFAULT_MAX_RESULT_BYTES, Action, CallObserver
from naftiko_runtime.orchestration import CallStep
from naftiko_runtime.selection import Selection, apply_selection
from naftiko_runtime.spec.dialects import PathLiteral, split_path
from naftiko_runtime.tool_names import served_name

if TYPE_CHECKING:
    from naftiko_runtime.observability.telemetry import Telemetry

WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})
LOOPBACK_NAMES = {"localhost": "127.0.0.1"}
DEFAULT_PORTS: dict[AdapterType, int] = {"rest": 8080, "mcp": 9090, "skill": 8081, "control": 9199}
STDIO = "stdio"  # the host of the listener served over stdin/stdout


@dataclass(frozen=True, slots=True)
class RuntimeOptions:
    host: str | None = None
    ports: Mapping[str, int] = field(default_factory=dict)
    base_uris: Mapping[str, str] = field(default_factory=dict)
    mock: bool = False
    openapi: Mapping[str, Sequence[Path]] = field(default_factory=dict)
    timeouts: Timeouts = field(default_factory=Timeouts)
    stateless: bool = False
    json_response: bool = False
    # Several files on one port: tool names as `<file-stem>.<tool>`, routes under `/<file-stem>`.
    prefix_tools: bool = False
    prefix_routes: bool = False
    # A port claimed by adapters of different types: later ones move to a free port instead of failing.
    auto_ports: bool = False
    environ: Mapping[str, str] | None = None
    # --include-tools, --exclude-tools, --read-only: what of the catalogue is served.
    selection: Selection = field(default_factory=Selection)
    # --allowed-host / --allowed-origin: what MCP listeners accept besides loopback and their own address.
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    # --stdio: every MCP adapter served over stdin/stdout, and nothing over HTTP.
    stdio: bool = False
    # --max-result-bytes: MCP text results above this are cut with a note (0: no limit).
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES
    # --cors-origin: browser origins REST ports answer CORS requests for (`*`: any).
    cors_origins: tuple[str, ...] = ()
    # serve --watch: changed files reload; --graceful-timeout: what calls in flight get on a stop or a reload.
    watch: bool = False
    graceful_timeout: float = 10.0
    # --ca-file: a private CA trusted besides the system's; --insecure-upstream: namespaces not TLS-verified.
    ca_file: Path | None = None
    insecure_upstreams: tuple[str, ...] = ()
    # --retries, --max-upstream-concurrency/-queue, --max-upstream-body-bytes, per-namespace/operation timeouts.
    resilience: Resilience = field(default_factory=Resilience)
    # serve: call logs, metrics and traces (`observability/telemetry.py`); None: nothing observed.
    telemetry: Telemetry | None = None


@dataclass(slots=True)
class Listener:
    """Adapters of one type sharing one host:port, served as one app."""

    type: AdapterType
    host: str
    port: int
    adapters: list[Adapter]

    @property
    def namespaces(self) -> list[str]:
        return [adapter.namespace for adapter in self.adapters]

    @property
    def action_count(self) -> int:
        return sum(len(adapter.actions) + len(adapter.skills) for adapter in self.adapters)


@dataclass(slots=True)
class Runtime:
    capabilities: list[CompiledCapability]
    listeners: list[Listener]
    clients: list[UpstreamClient]
    diagnostics: list[Diagnostic]
    health: Health
    # MCP adapters served over stdin/stdout (`--stdio`, or `transport: stdio`), merged into one server.
    stdio: Listener | None = None
    telemetry: Telemetry | None = None

    def observe(self, bind: Callable[[Action], CallObserver]) -> None:
        """Have an observer told of every call of every route, tool, resource read and forward's relay:
        `bind` makes each action's, once."""
        for capability in self.capabilities:
            for adapter in capability.adapters:
                resources = [resource.action for resource in adapter.resources if resource.action is not None]
                forwards = [forward.action for forward in adapter.forwards if forward.action is not None]
                for action in [*adapter.actions, *resources, *forwards]:
                    action.observers = (*action.observers, bind(action))

    async def close(self) -> None:
        for client in self.clients:
            await client.close()


def load_all(found: Discovery, options: RuntimeOptions) -> list[CompiledCapability]:
    """Every file must load, except those found in a directory: their errors go to `found.skipped`."""
    load_options = LoadOptions(
        base_uris=options.base_uris,
        mock=options.mock,
        environ=options.environ,
        companion_schemas=True,
        openapi=options.openapi,
    )
    capabilities: list[CompiledCapability] = []
    errors: list[Diagnostic] = []
    for path in found.capabilities:
        try:
            capabilities.append(load_capability(path, load_options, found.sources.pop(path, None)))
        except CapabilityError as exc:
            if path in found.found_in_directories:
                found.skipped.extend(exc.diagnostics)
                found.skipped.append(Diagnostic(Severity.WARNING, "does not load; skipped", Location(str(path))))
            else:
                errors.extend(exc.diagnostics)
    forget_documents()
    if errors:
        raise CapabilityError(errors)
    return capabilities


def build_runtime(paths: Sequence[Path], options: RuntimeOptions) -> Runtime:
    """Capabilities given as files or found in directories (`discovery.py`), ready to serve."""
    found = discover(paths)
    capabilities = load_all(found, options)
    chosen = apply_selection(capabilities, options.selection)
    for capability in capabilities:
        _prefix(capability, tools=options.prefix_tools, routes=options.prefix_routes)
    diagnostics = [*found.skipped, *(d for capability in capabilities for d in capability.diagnostics), *chosen]
    diagnostics.extend(_serve_tools(capabilities, options))
    outbound = Outbound() if options.mock else Outbound.of(options.ca_file, options.insecure_upstreams, options.environ)
    diagnostics.extend(outbound.remarks(ns for capability in capabilities for ns in capability.namespaces()))
    diagnostics.extend(_unknown_timeout_keys(capabilities, options))
    telemetry = options.telemetry
    if telemetry is not None:
        diagnostics.extend(telemetry.configure(capabilities))
    clients = _attach_clients(capabilities, options, outbound)
    stdio = _stdio_listener(capabilities, options, diagnostics)
    listeners = [] if options.stdio else _listeners(capabilities, options, diagnostics)
    diagnostics.extend(exposure_warnings(listeners))
    runtime = Runtime(capabilities, listeners, clients, diagnostics, Health(capabilities), stdio, telemetry)
    for bind in telemetry.observers() if telemetry is not None else ():
        runtime.observe(bind)
    return runtime


def _prefix(capability: CompiledCapability, *, tools: bool, routes: bool) -> None:
    stem = capability.path.stem
    for adapter in capability.adapters:
        for action in adapter.actions:
            if tools and action.kind == "tool":
                action.name = f"{stem}.{action.name}"
            elif routes and action.kind == "route":
                action.path = f"/{stem}{action.path}"
                action.name = f"{action.method} {action.path}"


def _serve_tools(capabilities: Sequence[CompiledCapability], options: RuntimeOptions) -> list[Diagnostic]:
    """Each tool's result limit; names `--prefix-tools` made, checked again against the MCP rule."""
    remarks: list[Diagnostic] = []
    for capability in capabilities:
        for adapter in capability.adapters:
            for action in adapter.actions:
                if action.kind != "tool":
                    continue
                action.result_limit = options.max_result_bytes
                if options.prefix_tools:
                    action.name, problems = served_name(action.name)
                    remarks.extend(Diagnostic(Severity.WARNING, p, action.location, code="tool-name") for p in problems)
    return remarks


def _attach_clients(
    capabilities: Sequence[CompiledCapability], options: RuntimeOptions, outbound: Outbound
) -> list[UpstreamClient]:
    clients: list[UpstreamClient] = []
    resilience = options.resilience
    telemetry = options.telemetry
    for capability in capabilities:
        by_namespace: dict[str, UpstreamClient] = {}
        # Each operation calls through its own guard (limits, timeouts, retries; the mock needs none),
        # which telemetry watches (`observability/upstream.py`).
        watches = telemetry.operation_watch if telemetry is not None and telemetry.active else None
        redactions: dict[str, Redaction] = {}
        guards = Guards(
            by_namespace,
            resilience,
            options.timeouts,
            capability.idempotent,
            bare=options.mock,
            watches=watches,
            redactions=redactions,
        )
        for namespace in capability.namespaces():
            if options.mock:
                client = _mock_client(capability, namespace, options)
            else:
                route = outbound.route(namespace, _base_uri(capability, namespace))
                timeouts = guards.namespace_timeouts(namespace)
                limit, max_body = resilience.max_concurrency, resilience.max_body_bytes
                client = AiohttpClient(timeouts, limit=limit, max_body=max_body, route=route)
            operations = [op for op in capability.operations.values() if op.namespace == namespace]
            digest = next((op.auth.digest for op in operations), None)
            if digest is not None and not options.mock:
                client = DigestClient(client, *digest)
            credentials = secrets_of(op.auth.secrets for op in operations)
            if credentials and not options.mock:  # its failures may quote them (`consumer/redact.py`)
                redactions[namespace] = Redaction(credentials)
            by_namespace[namespace] = client
            clients.append(client)

        for adapter in capability.adapters:
            resource_actions = [resource.action for resource in adapter.resources if resource.action]
            for action in [*adapter.actions, *resource_actions]:
                if action.target is not None:
                    action.client = guards.client(action.target)
                for step in action.orchestration.steps if action.orchestration is not None else ():
                    if isinstance(step, CallStep):
                        step.client = guards.client(step.target)
            for forward in adapter.forwards:
                # A forward relays any method: each request's own says whether it may be retried.
                forward.client = guards.client(forward.target, by_method=True)
    return clients


def _unknown_timeout_keys(capabilities: Sequence[CompiledCapability], options: RuntimeOptions) -> list[Diagnostic]:
    """`--*-timeout KEY=SECONDS` naming neither a consumes namespace nor one of its operations."""
    known = {name for c in capabilities for name in [*c.namespaces(), *c.operations]}
    return [
        Diagnostic(
            Severity.WARNING,
            f"timeout for {key} names no consumes namespace or operation (NAMESPACE or NAMESPACE.OPERATION); ignored",
            Location("command line"),
        )
        for key in options.resilience.timeouts
        if key not in known
    ]


def _base_uri(capability: CompiledCapability, namespace: str) -> str:
    return next((op.base_uri for op in capability.operations.values() if op.namespace == namespace and op.base_uri), "")


def exposure_warnings(listeners: Sequence[Listener]) -> list[Diagnostic]:
    """Adapters reachable beyond this machine that ask callers for nothing."""
    warnings = []
    for listener in listeners:
        if _is_loopback(listener.host):
            continue
        for adapter in listener.adapters:
            if adapter.inbound_auth is None and not any(action.inbound_auth for action in adapter.actions):
                warnings.append(
                    Diagnostic(
                        Severity.WARNING,
                        f"{adapter.type} adapter '{adapter.namespace}' listens on {listener.host} without inbound "
                        "authentication: anyone who can reach this address can use it (declare `authentication` "
                        "on the expose, or listen on 127.0.0.1 behind a gateway)",
                        Location(str(adapter.capability.path)),
                        code="unauthenticated",
                    )
                )
    return warnings


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _mock_client(capability: CompiledCapability, namespace: str, options: RuntimeOptions) -> UpstreamClient:
    # Imported here: the mock is only loaded when --mock asks for it.
    from naftiko_runtime.mock import MockApi, MockClient, MockDocumentError, find_companion

    documents = list(options.openapi.get(namespace, ()))
    if not documents:
        companion = find_companion(capability.path)
        if companion is not None:
            documents.append(companion)
    try:
        return MockClient([MockApi.from_file(document) for document in documents])
    except MockDocumentError as exc:
        raise CapabilityError([Diagnostic(Severity.ERROR, str(exc), Location(str(capability.path)))]) from None


def _listeners(
    capabilities: Sequence[CompiledCapability], options: RuntimeOptions, diagnostics: list[Diagnostic]
) -> list[Listener]:
    """Adapters of one type on one host:port merge into one listener; --port moves a whole group."""
    groups: dict[tuple[AdapterType, str, int, InboundAuth | None], list[Adapter]] = {}
    for capability in capabilities:
        for adapter in capability.adapters:
            if over_stdio(adapter):
                continue
            host = options.host or adapter.address or DEFAULT_HOST
            declared = adapter.declared_port if adapter.declared_port is not None else DEFAULT_PORTS[adapter.type]
            # Port 0 asks for a free port: such adapters never share one. MCP adapters asking for
            # different authentication form separate groups, so --port can part them; on one port
            # they share an endpoint and each tool keeps its own file's check.
            auth = adapter.inbound_auth if adapter.type == "mcp" else None
            key = (adapter.type, host, declared if declared else -id(adapter), auth)
            groups.setdefault(key, []).append(adapter)
    used_keys: set[str] = set()
    # Per port (or per free-port request), the listeners on addresses that do not overlap.
    slots: dict[int | str, list[Listener]] = {}
    errors: list[Diagnostic] = []
    for (kind, host, declared, _), adapters in groups.items():
        port = _port(adapters, declared, options.ports, used_keys)
        # Groups moved to port 0 from one declared port stay together on one free port.
        sharing = slots.setdefault(port or f"free port for {declared}", [])
        existing = next((listener for listener in sharing if _overlap(listener.host, host)), None)
        if existing is None:
            sharing.append(Listener(kind, host, port, list(adapters)))
        elif existing.type == kind and existing.host == host:
            existing.adapters.extend(adapters)
        elif options.auto_ports:
            diagnostics.append(_port_taken(adapters[0], host, existing, port, moved=True))
            moved = slots.setdefault(f"free port for {kind} on {host} moved from {port}", [])
            if not moved:
                moved.append(Listener(kind, host, 0, []))
            moved[0].adapters.extend(adapters)
        else:
            errors.append(_port_taken(adapters[0], host, existing, port, moved=False))
    listeners = [listener for sharing in slots.values() for listener in sharing]
    for listener in listeners:
        errors.extend(_duplicates(listener))
    if errors:
        raise CapabilityError(errors)
    for unused in sorted(set(options.ports) - used_keys):
        diagnostics.append(
            Diagnostic(
                Severity.WARNING,
                f"--port {unused}={options.ports[unused]} names no adapter (by namespace or declared port); ignored",
                Location("command line"),
            )
        )
    return listeners


def _overlap(host: str, other: str) -> bool:
    """Whether two listen addresses can hold the same port at once only as one socket."""
    same = {LOOPBACK_NAMES.get(host, host), LOOPBACK_NAMES.get(other, other)}
    return len(same) == 1 or bool(same & WILDCARD_HOSTS)


def _port(adapters: Sequence[Adapter], declared: int, ports: Mapping[str, int], used_keys: set[str]) -> int:
    """The port of a group: --port by any member's namespace or by the declared port, else the declared one."""
    for key in [*(adapter.namespace for adapter in adapters), str(declared)]:
        if key in ports:
            used_keys.add(key)
            return ports[key]
    return max(declared, 0)


def _port_taken(adapter: Adapter, host: str, holder: Listener, port: int, *, moved: bool) -> Diagnostic:
    """An adapter wanting a port that an adapter of another type holds: an error, or moved (--auto-ports)."""
    other = holder.adapters[0]
    where = f"on {host}" if host == holder.host else f"on {host} and {holder.host}"
    outcome = "moved to a free port (--auto-ports)" if moved else "move one with --port or use --auto-ports"
    return Diagnostic(
        Severity.WARNING if moved else Severity.ERROR,
        f"{adapter.type} adapter '{adapter.namespace}' ({adapter.capability.path}) wants port {port} ({where}), "
        f"which {other.type} adapter '{other.namespace}' ({other.capability.path}) holds; {outcome}",
        adapter.actions[0].location if adapter.actions else Location(str(adapter.capability.path)),
        code="port-moved" if moved else "port-taken",
    )


def _duplicates(listener: Listener) -> list[Diagnostic]:
    """A route (method + path) or tool name claimed twice on one listener, naming both places."""
    seen: dict[tuple[str, ...], Action] = {}
    errors = []
    for adapter in listener.adapters:
        for action in adapter.actions:
            key = (action.method, _shape(action.path)) if action.kind == "route" else (action.name,)
            first = seen.setdefault(key, action)
            if first is action:
                continue
            remedy = "--prefix-routes" if action.kind == "route" else "--prefix-tools"
            errors.append(
                Diagnostic(
                    Severity.ERROR,
                    f"{action.kind} '{action.name}' is also defined at {first.location}; "
                    f"both are served {_where(listener)}: rename one or use {remedy}",
                    action.location,
                    code="duplicate",
                )
            )
    return errors


def _shape(path: str) -> str:
    return "".join(part.text if isinstance(part, PathLiteral) else "{}" for part in split_path(path)).rstrip("/")


def over_stdio(adapter: Adapter) -> bool:
    """Whether the spec asks for this MCP adapter on stdin/stdout (`transport: stdio`)."""
    if adapter.type != "mcp" or adapter.capability.loaded.document.capability is None:
        return False
    exposes = adapter.capability.loaded.document.capability.exposes
    declared = next((e for e in exposes if e.type == "mcp" and e.namespace == adapter.namespace), None)
    return getattr(declared, "transport", "http") == "stdio"


def _stdio_listener(
    capabilities: Sequence[CompiledCapability], options: RuntimeOptions, diagnostics: list[Diagnostic]
) -> Listener | None:
    """One process has one stdin: every MCP adapter bound for it merges into one server."""
    adapters = []
    for capability in capabilities:
        for adapter in capability.adapters:
            if adapter.type == "mcp" and (options.stdio or over_stdio(adapter)):
                adapters.append(adapter)
                if adapter.inbound_auth is not None:
                    diagnostics.append(_stdio_note(adapter, "its authentication does not apply to a local process"))
            elif options.stdio:
                diagnostics.append(_stdio_note(adapter, "--stdio serves only MCP adapters"))
    if not adapters:
        return None
    listener = Listener("mcp", STDIO, 0, adapters)
    errors = _duplicates(listener)
    if errors:
        raise CapabilityError(errors)
    return listener


def _stdio_note(adapter: Adapter, why: str) -> Diagnostic:
    served = "served over stdio" if adapter.type == "mcp" else "not served"
    message = f"{adapter.type} adapter '{adapter.namespace}' is {served}: {why}"
    return Diagnostic(Severity.NOTE, message, Location(str(adapter.capability.path)), code="stdio")


def _where(listener: Listener) -> str:
    return "over stdio" if listener.host == STDIO else f"on port {listener.port}"
