"""An OpenAPI 3.1 document describing what one REST listener serves.

Built from the listener's adapters as served (after `--read-only` cut them and `--prefix-routes`
moved them), so `GET /openapi.json` and `naftiko export openapi` describe exactly what the
adapter accepts: one document per listener, the routes of every file merged on it tagged by
file. Schemas are the ones the runtime validates with (`Signature`, typed from companion
documents at load) and the ones the capability gives its answers; no credential value is read.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from naftiko_runtime.capability import Adapter, CompiledCapability
from naftiko_runtime.engine import Action
from naftiko_runtime.forward import Forward
from naftiko_runtime.openapi_operations import (
    PathTemplate,
    forward_operations,
    forward_template,
    headers_only,
    path_template,
    route_operation,
)
from naftiko_runtime.openapi_responses import PROBLEM, PROBLEM_MEDIA, PROBLEM_SCHEMA
from naftiko_runtime.openapi_security import SecurityScheme, security_scheme
from naftiko_runtime.runtime import WILDCARD_HOSTS, Listener
from naftiko_runtime.spec.models import ExposesRest

logger = logging.getLogger("naftiko.openapi")
OPENAPI_VERSION = "3.1.0"
OPENAPI_PATH = "/openapi.json"
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_.-]+")
Requirement = list[dict[str, list[str]]]
OPTIONS_RESPONSE: dict[str, Any] = {
    "description": "`Allow` lists the methods of this path; a CORS preflight from an allowed origin is answered too.",
    "headers": {"Allow": {"description": "The methods this path allows.", "schema": {"type": "string"}}},
}


class _PlainDumper(yaml.SafeDumper):
    """Operations share their tags and parameter lists: written out each time, not as YAML aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


@dataclass(slots=True)
class Exported:
    document: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def render(self, format: str = "json", *, compact: bool = False) -> str:
        if format == "yaml":
            return str(yaml.dump(self.document, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True, width=120))
        if compact:
            return json.dumps(self.document, ensure_ascii=False, separators=(",", ":"))
        return json.dumps(self.document, indent=2, ensure_ascii=False) + "\n"


def listener_url(listener: Listener) -> str:
    """Where the listener is reached: its address and port (loopback for a wildcard address)."""
    if listener.port == 0:
        return "/"
    host = "localhost" if listener.host in WILDCARD_HOSTS else listener.host
    return f"http://{f'[{host}]' if ':' in host else host}:{listener.port}"


def listener_document(listener: Listener) -> Exported:
    return openapi_document(listener.adapters, listener_url(listener))


def openapi_document(adapters: Sequence[Adapter], server_url: str) -> Exported:
    """The document of REST adapters served together at `server_url`."""
    builder = _Builder(list(adapters))
    return builder.build(server_url)


class _Builder:
    def __init__(self, adapters: list[Adapter]) -> None:
        self.adapters = adapters
        # Capabilities compare by value (dataclasses): identity is what tells files apart.
        self.capabilities = list({id(adapter.capability): adapter.capability for adapter in adapters}.values())
        self.merged = len(self.capabilities) > 1
        self.warnings: list[str] = []
        self.schemes: dict[str, dict[str, Any]] = {}
        self.shapes: dict[str, PathTemplate] = {}
        self.templates: dict[str, PathTemplate] = {}
        self.forwarded: set[str] = set()
        self.paths: dict[str, dict[str, Any]] = {}
        self.operation_ids: set[str] = set()
        self.file_tags = _file_tags(self.capabilities)

    def build(self, server_url: str) -> Exported:
        requirements = [(adapter, self._security(adapter), self._tags(adapter.capability)) for adapter in self.adapters]
        # Routes first: the router tries them before any forward.
        for adapter, security, tags in requirements:
            for action in adapter.actions:
                if action.kind == "route":
                    self._route(action, adapter, tags, security)
        for adapter, security, tags in requirements:
            for forward in adapter.forwards:
                self._forward(forward, adapter, tags, security)
        for template, item in self.paths.items():
            self._implicit(self.templates[template], item)
        document: dict[str, Any] = {
            "openapi": OPENAPI_VERSION,
            "info": self._info(),
            "servers": [{"url": server_url, "description": self._server_description()}],
            "tags": self._tag_objects(),
            "paths": self.paths,
        }
        components: dict[str, Any] = {}
        if any(
            PROBLEM_MEDIA in r.get("content", {}) for op in _operations(self.paths) for r in op["responses"].values()
        ):
            components["schemas"] = {PROBLEM: PROBLEM_SCHEMA}
        if self.schemes:
            components["securitySchemes"] = self.schemes
        if components:
            document["components"] = components
        return Exported(document, self.warnings)

    def _route(self, action: Action, adapter: Adapter, tags: list[str], security: Requirement | None) -> None:
        if not action.path.startswith("/"):
            self.warnings.append(
                f"route '{action.name}' ({action.location}): a path without a leading '/' is never matched; "
                "left out of the OpenAPI document"
            )
            return
        template = self._template(path_template(action.path))
        if template.template == OPENAPI_PATH:
            self.warnings.append(
                f"route '{action.name}' ({action.location}) is served at {OPENAPI_PATH} instead of the OpenAPI document"
            )
        item = self.paths.setdefault(template.template, {})
        method = action.method.lower()
        if method in item:
            return  # the router serves the first route of a method and shape
        operation: dict[str, Any] = {
            "operationId": self._operation_id(action.operation_name, method, template, adapter)
        }
        operation |= route_operation(action, template.names)
        operation["tags"] = tags
        if security is not None:
            operation["security"] = security
        item[method] = operation

    def _implicit(self, template: PathTemplate, item: dict[str, Any]) -> None:
        """What the router answers beyond the declared routes: HEAD where GET is, OPTIONS everywhere."""
        first = next(iter(item.values()))
        if "get" in item and "head" not in item:
            get = item["get"]
            head: dict[str, Any] = {
                "operationId": self._operation_id(f"{get['operationId']}-head", "head", template, None)
            }
            head |= {key: value for key, value in get.items() if key not in ("requestBody", "operationId")}
            head["responses"] = headers_only(get["responses"])
            item["head"] = head
        if "options" not in item:
            item["options"] = {
                "operationId": self._operation_id(f"options{template.template}", "options", template, None),
                "summary": "The methods this path allows",
                "parameters": [p for p in first.get("parameters", []) if p["in"] == "path"],
                "responses": {"204": OPTIONS_RESPONSE},
                "tags": first["tags"],
            }

    def _template(self, template: PathTemplate) -> PathTemplate:
        """The template already used for this shape (the router sees one shape), else this one."""
        chosen = self.shapes.setdefault(template.shape, template)
        self.templates[chosen.template] = chosen
        return chosen

    def _forward(self, forward: Forward, adapter: Adapter, tags: list[str], security: Requirement | None) -> None:
        template = self._template(forward_template(forward))
        item = self.paths.setdefault(template.template, {})
        if item and template.template not in self.forwarded:
            return  # routes hold this shape: the router answers 405 for their other methods, never forwards
        self.forwarded.add(template.template)
        operations = forward_operations(forward, template, authenticated=adapter.inbound_auth is not None)
        for method, operation in operations.items():
            if method in item:
                continue
            name = f"forward-{forward.target.namespace}-{method}"
            item[method] = {"operationId": self._operation_id(name, method, template, adapter), **operation}
            item[method]["tags"] = tags
            if security is not None:
                item[method]["security"] = security

    def _operation_id(self, name: str | None, method: str, template: PathTemplate, adapter: Adapter | None) -> str:
        """The operation's own name, else method and path; qualified by file, then numbered, when taken."""
        base = name or f"{method}{template.template}"
        base = _UNSAFE_ID.sub("-", base).strip("-") or method
        candidates = [base]
        if self.merged and adapter is not None:
            candidates.append(f"{adapter.capability.path.stem}.{base}")
        chosen = next((candidate for candidate in candidates if candidate not in self.operation_ids), None)
        number = 2
        while chosen is None:
            if f"{base}-{number}" not in self.operation_ids:
                chosen = f"{base}-{number}"
            number += 1
        self.operation_ids.add(chosen)
        return chosen

    def _security(self, adapter: Adapter) -> Requirement | None:
        """The requirement of the adapter's routes (their own file's authentication), its scheme registered."""
        expose = _expose(adapter)
        if expose is None or expose.authentication is None:
            return None
        where = f"{adapter.capability.path.name} rest '{adapter.namespace}'"
        found = security_scheme(expose.authentication, adapter.inbound_auth, adapter.capability.variables, where)
        self.warnings.extend(found.warnings)
        name = self._scheme_name(found, adapter)
        return [{name: list(found.scopes)}]

    def _scheme_name(self, found: SecurityScheme, adapter: Adapter) -> str:
        base = {"apikey": "apiKeyAuth"}.get(found.kind, f"{found.kind}Auth")
        for name in (base, f"{_UNSAFE_ID.sub('-', adapter.namespace)}.{base}"):
            if self.schemes.setdefault(name, found.scheme) == found.scheme:
                return name
        number = 2
        while self.schemes.setdefault(f"{base}-{number}", found.scheme) != found.scheme:
            number += 1
        return f"{base}-{number}"

    def _tags(self, capability: CompiledCapability) -> list[str]:
        own = _info_tags(capability)
        if self.merged:
            return list(dict.fromkeys([self.file_tags[id(capability)], *own]))
        return own or [self.file_tags[id(capability)]]

    def _tag_objects(self) -> list[dict[str, str]]:
        described = {self.file_tags[id(capability)]: capability for capability in self.capabilities}
        names = dict.fromkeys(
            tag for item in self.paths.values() for operation in item.values() for tag in operation.get("tags", [])
        )
        objects = []
        for name in names:
            entry = {"name": name}
            capability = described.get(name)
            if capability is not None:
                entry["description"] = _description(capability) or f"Routes of {capability.path.name}."
            objects.append(entry)
        return objects

    def _info(self) -> dict[str, Any]:
        if not self.merged:
            capability = self.capabilities[0] if self.capabilities else None
            descriptions = [_description(capability) if capability else None]
            descriptions += [adapter.description for adapter in self.adapters]
            info: dict[str, Any] = {"title": capability.label if capability else "REST adapter"}
            text = "\n\n".join(dict.fromkeys(text.strip() for text in descriptions if text and text.strip()))
            if text:
                info["description"] = text
            info["version"] = _version(capability) if capability else "1.0.0"
            return info
        lines = [
            f"- **{capability.label}** ({capability.path.name}): {_description(capability) or 'no description'}"
            for capability in self.capabilities
        ]
        return {
            "title": " + ".join(dict.fromkeys(capability.label for capability in self.capabilities)),
            "description": "Routes of several capability files served on one port:\n\n" + "\n".join(lines),
            "version": "1.0.0",
        }

    def _server_description(self) -> str:
        namespaces = "+".join(adapter.namespace for adapter in self.adapters)
        return f"naftiko REST adapter {namespaces}"


def served_document(listener: Listener) -> bytes:
    """The document a REST port serves at OPENAPI_PATH; what it could not say is logged."""
    exported = listener_document(listener)
    for warning in exported.warnings:
        logger.warning("%s", warning)
    return exported.render(compact=True).encode()


def _operations(paths: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [operation for item in paths.values() for operation in item.values()]


def _expose(adapter: Adapter) -> ExposesRest | None:
    capability = adapter.capability.loaded.document.capability
    exposes = capability.exposes if capability is not None else []
    return next((e for e in exposes if isinstance(e, ExposesRest) and e.namespace == adapter.namespace), None)


def _info_tags(capability: CompiledCapability) -> list[str]:
    info = capability.loaded.document.info
    return [str(tag) for tag in info.tags if str(tag).strip()] if info is not None else []


def _description(capability: CompiledCapability) -> str | None:
    info = capability.loaded.document.info
    return info.description.strip() if info is not None and info.description else None


def _version(capability: CompiledCapability) -> str:
    """The capability's own `info.version` when it says one, else when it was last changed."""
    info = capability.loaded.document.info
    if info is None:
        return "1.0.0"
    extra = info.model_extra or {}
    for value in (extra.get("version"), info.modified, info.created):
        if value is not None and str(value).strip():
            return str(value)
    return "1.0.0"


def _file_tags(capabilities: Sequence[CompiledCapability]) -> dict[int, str]:
    """A tag per file (by identity): its label, or its file stem where labels repeat."""
    labels = [capability.label for capability in capabilities]
    return {
        id(capability): capability.label if labels.count(capability.label) == 1 else capability.path.stem
        for capability in capabilities
    }
