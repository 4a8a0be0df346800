"""Capabilities + options -> listeners (one ASGI app per host:port) and upstream clients."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from naftiko_runtime.adapters.health import Health
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
from naftiko_runtime.engine import CallObserver

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


def load_all(paths: Sequence[Path], options: RuntimeOptions) -> list[CompiledCapability]:
    load_options = LoadOptions(base_uris=options.base_uris, mock=options.mock, environ=options.environ)
    capabilities: list[CompiledCapability] = []
    errors: list[Diagnostic] = []
    for path in paths:
        try:
            capabilities.append(load_capability(path, load_options))
        except CapabilityError as exc:
            errors.extend(exc.diagnostics)
    if errors:
        raise CapabilityError(errors)
    return capabilities


def build_runtime(paths: Sequence[Path], options: RuntimeOptions) -> Runtime:
    capabilities = load_all(paths, options)
    diagnostics = [d for capability in capabilities for d in capability.diagnostics]
    clients = _attach_clients(capabilities, options)
    listeners = _listeners(capabilities, options, diagnostics)
    return Runtime(capabilities, listeners, clients, diagnostics, Health(capabilities))


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
    listeners: dict[tuple[str, int], Listener] = {}
    used_keys: set[str] = set()
    errors: list[Diagnostic] = []
    for capability in capabilities:
        for adapter in capability.adapters:
            port = _port(adapter, options.ports, used_keys)
            host = options.host or adapter.address or DEFAULT_HOST
            key = (host, port) if port else (host, -len(listeners) - 1)
            existing = listeners.get(key)
            if existing is None:
                listeners[key] = Listener(adapter.type, host, port, [adapter])
            elif existing.type != adapter.type:
                errors.append(
                    Diagnostic(
                        Severity.ERROR,
                        f"{adapter.type} adapter '{adapter.namespace}' ({capability.path}) and {existing.type} adapter "
                        f"'{existing.adapters[0].namespace}' ({existing.adapters[0].capability.path}) both claim "
                        f"{host}:{port}; move one with --port",
                        adapter.actions[0].location if adapter.actions else Location(str(capability.path)),
                    )
                )
            else:
                existing.adapters.append(adapter)
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


def _port(adapter: Adapter, ports: Mapping[str, int], used_keys: set[str]) -> int:
    for key in (adapter.namespace, str(adapter.declared_port)):
        if key in ports:
            used_keys.add(key)
            return ports[key]
    if adapter.declared_port is not None:
        return adapter.declared_port
    return DEFAULT_PORTS[adapter.type]
