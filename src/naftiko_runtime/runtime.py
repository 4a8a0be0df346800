"""Capabilities + options -> listeners (one ASGI app per host:port) and upstream clients."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

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
from naftiko_runtime.consumer.aiohttp_client import AiohttpClient
from naftiko_runtime.consumer.client import Timeouts, UpstreamClient
from naftiko_runtime.consumer.digest import DigestClient
from naftiko_runtime.diagnostics import CapabilityError, Diagnostic, Location, Severity
from naftiko_runtime.discovery import discover
from naftiko_runtime.engine import Action, CallObserver
from naftiko_runtime.spec.dialects import PathLiteral, split_path

DEFAULT_PORTS: dict[AdapterType, int] = {"rest": 8080, "mcp": 9090, "skill": 8081, "control": 9199}


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
    environ: Mapping[str, str] | None = None


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

    def observe(self, observer: CallObserver) -> None:
        """Have `observer` told of every call of every route and tool."""
        for capability in self.capabilities:
            for adapter in capability.adapters:
                for action in adapter.actions:
                    action.observers = (*action.observers, observer)

    async def close(self) -> None:
        for client in self.clients:
            await client.close()


def load_all(
    paths: Sequence[Path],
    options: RuntimeOptions,
    skippable: Collection[Path] = (),
    skipped: list[Diagnostic] | None = None,
) -> list[CompiledCapability]:
    """Every file must load, except those in `skippable` (found in a directory): their errors go to `skipped`."""
    load_options = LoadOptions(base_uris=options.base_uris, mock=options.mock, environ=options.environ)
    capabilities: list[CompiledCapability] = []
    errors: list[Diagnostic] = []
    for path in paths:
        try:
            capabilities.append(load_capability(path, load_options))
        except CapabilityError as exc:
            if path in skippable and skipped is not None:
                skipped.extend(exc.diagnostics)
                skipped.append(Diagnostic(Severity.WARNING, "does not load; skipped", Location(str(path))))
            else:
                errors.extend(exc.diagnostics)
    if errors:
        raise CapabilityError(errors)
    return capabilities


def build_runtime(paths: Sequence[Path], options: RuntimeOptions) -> Runtime:
    """Capabilities given as files or found in directories (`discovery.py`), ready to serve."""
    found = discover(paths)
    capabilities = load_all(found.capabilities, options, found.found_in_directories, found.skipped)
    for capability in capabilities:
        _prefix(capability, tools=options.prefix_tools, routes=options.prefix_routes)
    diagnostics = [*found.skipped, *(d for capability in capabilities for d in capability.diagnostics)]
    clients = _attach_clients(capabilities, options)
    listeners = _listeners(capabilities, options, diagnostics)
    return Runtime(capabilities, listeners, clients, diagnostics, Health(capabilities))


def _prefix(capability: CompiledCapability, *, tools: bool, routes: bool) -> None:
    stem = capability.path.stem
    for adapter in capability.adapters:
        for action in adapter.actions:
            if tools and action.kind == "tool":
                action.name = f"{stem}.{action.name}"
            elif routes and action.kind == "route":
                action.path = f"/{stem}{action.path}"
                action.name = f"{action.method} {action.path}"


def _attach_clients(capabilities: Sequence[CompiledCapability], options: RuntimeOptions) -> list[UpstreamClient]:
    clients: list[UpstreamClient] = []
    for capability in capabilities:
        by_namespace: dict[str, UpstreamClient] = {}
        for namespace in capability.namespaces():
            client = _mock_client(capability, namespace, options) if options.mock else AiohttpClient(options.timeouts)
            digest = next((op.auth.digest for op in capability.operations.values() if op.namespace == namespace), None)
            if digest is not None and not options.mock:
                client = DigestClient(client, *digest)
            by_namespace[namespace] = client
            clients.append(client)
        for adapter in capability.adapters:
            resource_actions = [resource.action for resource in adapter.resources if resource.action]
            for action in [*adapter.actions, *resource_actions]:
                if action.target is not None:
                    action.client = by_namespace[action.target.namespace]
                if action.orchestration is not None:
                    action.orchestration.attach(by_namespace)
            for forward in adapter.forwards:
                forward.client = by_namespace[forward.target.namespace]
    return clients


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
            host = options.host or adapter.address or DEFAULT_HOST
            declared = adapter.declared_port if adapter.declared_port is not None else DEFAULT_PORTS[adapter.type]
            # Port 0 asks for a free port: such adapters never share one. MCP adapters asking for
            # different authentication form separate groups, so --port can part them.
            auth = adapter.inbound_auth if adapter.type == "mcp" else None
            key = (adapter.type, host, declared if declared else -id(adapter), auth)
            groups.setdefault(key, []).append(adapter)
    used_keys: set[str] = set()
    listeners: dict[tuple[str, int], Listener] = {}
    errors: list[Diagnostic] = []
    for (kind, host, declared, _), adapters in groups.items():
        port = _port(adapters, declared, options.ports, used_keys)
        slot = (host, port) if port else (host, -len(listeners) - 1)
        existing = listeners.get(slot)
        if existing is None:
            listeners[slot] = Listener(kind, host, port, list(adapters))
        elif existing.type != kind:
            errors.append(_clash(adapters[0], existing.adapters[0], f"{host}:{port}"))
        else:
            existing.adapters.extend(adapters)
    for listener in listeners.values():
        errors.extend(_duplicates(listener))
        errors.extend(_mixed_mcp_auth(listener))
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
    return list(listeners.values())


def _port(adapters: Sequence[Adapter], declared: int, ports: Mapping[str, int], used_keys: set[str]) -> int:
    """The port of a group: --port by any member's namespace or by the declared port, else the declared one."""
    for key in [*(adapter.namespace for adapter in adapters), str(declared)]:
        if key in ports:
            used_keys.add(key)
            return ports[key]
    return max(declared, 0)


def _clash(adapter: Adapter, other: Adapter, where: str) -> Diagnostic:
    return Diagnostic(
        Severity.ERROR,
        f"{adapter.type} adapter '{adapter.namespace}' ({adapter.capability.path}) and {other.type} adapter "
        f"'{other.namespace}' ({other.capability.path}) both claim {where}; move one with --port",
        adapter.actions[0].location if adapter.actions else Location(str(adapter.capability.path)),
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
                    f"both are served on port {listener.port}: rename one or use {remedy}",
                    action.location,
                    code="duplicate",
                )
            )
    return errors


def _shape(path: str) -> str:
    return "".join(part.text if isinstance(part, PathLiteral) else "{}" for part in split_path(path)).rstrip("/")


def _mixed_mcp_auth(listener: Listener) -> list[Diagnostic]:
    auths = [adapter.inbound_auth for adapter in listener.adapters]
    if listener.type != "mcp" or all(auth == auths[0] for auth in auths):
        return []
    first, other = listener.adapters[0], next(a for a in listener.adapters if a.inbound_auth != auths[0])
    return [
        Diagnostic(
            Severity.ERROR,
            f"MCP adapters '{first.namespace}' ({first.capability.path}) and '{other.namespace}' "
            f"({other.capability.path}) ask callers for different authentication on one port; move one with --port",
            Location(str(other.capability.path)),
        )
    ]
