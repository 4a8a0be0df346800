"""The capability an OpenAPI document describes: one consumes namespace, a REST facade, an MCP server."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from naftiko_runtime.importer.document import OpenApiDocument, text_of
from naftiko_runtime.importer.naming import TOOL_NAME_LIMIT, UniqueNames, kebab_case
from naftiko_runtime.importer.operations import Operation, Parameter, document_tags
from naftiko_runtime.importer.security import Credentials
from naftiko_runtime.importer.servers import BaseUri

VERSION = "1.0.0-alpha2"
REST_PORT, MCP_PORT = 8080, 9090
# (readOnly, destructive, idempotent) by HTTP method.
_HINTS = {
    "GET": (True, False, True),
    "PUT": (False, False, True),
    "DELETE": (False, True, True),
    "POST": (False, False, False),
    "PATCH": (False, False, False),
}
# The official lint rejects these in descriptions (markdown injection).
_UNSAFE = re.compile(r"<(script)|(eval)\(", re.IGNORECASE)
_LINE_END_SPACES = re.compile(r"[ \t]+\n")


@dataclass(frozen=True)
class Namespaces:
    consumes: str

    @property
    def rest(self) -> str:
        return f"{self.consumes}-rest"

    @property
    def mcp(self) -> str:
        return f"{self.consumes}-mcp"

    @property
    def binds(self) -> str:
        return f"{self.consumes}-env"


@dataclass(frozen=True)
class Built:
    capability: dict[str, Any]
    routes: list[tuple[str, str]]
    tools: list[str]


def build_capability(
    document: OpenApiDocument,
    operations: Sequence[Operation],
    namespaces: Namespaces,
    base: BaseUri,
    credentials: Credentials,
) -> Built:
    info = document.data.get("info") or {}
    title = text_of(info.get("title")) or document.path.stem
    version = text_of(info.get("version"))
    groups: dict[str, list[Operation]] = {}
    for operation in operations:
        groups.setdefault(operation.source_path, []).append(operation)
    resource_names = UniqueNames()
    tool_names = UniqueNames(TOOL_NAME_LIMIT)
    consumed: list[dict[str, Any]] = []
    exposed: list[dict[str, Any]] = []
    tools: list[dict[str, Any]] = []
    for source_path, group in groups.items():
        name = resource_names.claim(kebab_case(source_path.replace("{", "").replace("}", "")) or "root")
        path = group[0].path
        consumed.append(
            {"name": name, "path": path, "operations": [_consumed_operation(operation) for operation in group]}
        )
        exposed.append(
            {
                "name": name,
                "path": (base.path + path).rstrip("/") or "/",
                "description": _safe("; ".join(dict.fromkeys(_title(operation) for operation in group))),
                "operations": [_route(operation, namespaces) for operation in group],
            }
        )
        tools.extend(_tool(operation, tool_names.claim(operation.name), namespaces) for operation in group)
    consumes: dict[str, Any] = {
        "type": "http",
        "namespace": namespaces.consumes,
        "description": _consumes_description(title, version, document, base, namespaces),
        "baseUri": base.uri,
    }
    if credentials.parameters:
        consumes["inputParameters"] = credentials.parameters
    if credentials.authentication:
        consumes["authentication"] = credentials.authentication
    consumes["resources"] = consumed
    capability: dict[str, Any] = {"naftiko": VERSION, "info": _info(info, title, version, operations, document)}
    if credentials.variables:
        capability["binds"] = [
            {
                "namespace": namespaces.binds,
                "description": f"Credentials for {title}, read from the environment.",
                "keys": {variable: variable for variable in credentials.variables},
            }
        ]
    rest = {"type": "rest", "namespace": namespaces.rest, "port": REST_PORT, "resources": exposed}
    mcp = {
        "type": "mcp",
        "namespace": namespaces.mcp,
        "port": MCP_PORT,
        "description": _safe(f"{title}: one tool per operation of its OpenAPI document."),
        "tools": tools,
    }
    capability["capability"] = {"consumes": [consumes], "exposes": [rest, mcp]}
    return Built(
        capability,
        routes=[(route["method"], resource["path"]) for resource in exposed for route in resource["operations"]],
        tools=[tool["name"] for tool in tools],
    )


def _info(
    info: Mapping[str, Any], title: str, version: str | None, operations: Sequence[Operation], document: OpenApiDocument
) -> dict[str, Any]:
    description = text_of(info.get("description")) or (
        f"{title}{f' {version}' if version else ''}: {len(operations)} operations, imported from its OpenAPI document."
    )
    result: dict[str, Any] = {"label": _safe(title), "description": _safe(description)}
    used = [tag for operation in operations for tag in operation.tags]
    tags = [tag for tag in document_tags(document) if tag in used]
    if tags:
        result["tags"] = tags
    return result


def _consumes_description(
    title: str, version: str | None, document: OpenApiDocument, base: BaseUri, namespaces: Namespaces
) -> str:
    text = f"{title}{f' {version}' if version else ''}, imported from {document.path.name}."
    if base.placeholder_reason:
        text += (
            f" The baseUri is a placeholder ({base.placeholder_reason}): "
            f"serve with --base-uri {namespaces.consumes}=URL."
        )
    return _safe(text)


def _consumed_operation(operation: Operation) -> dict[str, Any]:
    result: dict[str, Any] = {"name": operation.name, "method": operation.method}
    if operation.summary:
        result["label"] = _safe(operation.summary)
    parameters = [{"name": parameter.name, "in": parameter.location} for parameter in operation.parameters]
    if operation.body is not None:
        parameters.append({"name": "body", "in": "body"})
    if parameters:
        result["inputParameters"] = parameters
    return result


def _route(operation: Operation, namespaces: Namespaces) -> dict[str, Any]:
    result: dict[str, Any] = {"method": operation.method, "name": operation.name}
    if operation.summary:
        result["label"] = _safe(operation.summary)
    result["description"] = _safe(_description(operation))
    parameters = [
        {
            "name": parameter.name,
            "in": parameter.location,
            "type": parameter.type,
            "description": _safe(parameter.description),
        }
        for parameter in operation.parameters
    ]
    if operation.body is not None:
        body = operation.body
        parameters.append({"name": "body", "in": "body", "type": body.type, "description": _safe(body.description)})
    if parameters:
        result["inputParameters"] = parameters
    _call(result, operation, namespaces.consumes, namespaces.rest)
    return result


def _tool(operation: Operation, name: str, namespaces: Namespaces) -> dict[str, Any]:
    result: dict[str, Any] = {"name": name}
    if operation.summary:
        result["label"] = _safe(operation.summary)
    result["description"] = _safe(_description(operation))
    read_only, destructive, idempotent = _HINTS[operation.method]
    result["hints"] = {"readOnly": read_only, "destructive": destructive, "idempotent": idempotent, "openWorld": True}
    parameters = [_tool_parameter(parameter) for parameter in operation.parameters]
    if operation.body is not None:
        body = operation.body
        parameters.append(
            {"name": "body", "type": body.type, "description": _safe(body.description), "required": body.required}
        )
    if parameters:
        result["inputParameters"] = parameters
    _call(result, operation, namespaces.consumes, namespaces.mcp)
    return result


def _tool_parameter(parameter: Parameter) -> dict[str, Any]:
    return {
        "name": parameter.name,
        "type": parameter.type,
        "description": _safe(parameter.description),
        "required": parameter.required,
    }


def _call(result: dict[str, Any], operation: Operation, consumes: str, expose: str) -> None:
    result["call"] = f"{consumes}.{operation.name}"
    names = [parameter.name for parameter in operation.parameters] + (["body"] if operation.body else [])
    if names:
        result["with"] = {name: f"{expose}.{name}" for name in names}


def _description(operation: Operation) -> str:
    return operation.description or operation.summary or f"{operation.method} {operation.source_path}"


def _title(operation: Operation) -> str:
    return operation.summary or f"{operation.method} {operation.source_path}"


def _safe(text: str) -> str:
    """`text` defused for the official lint, without spaces at line ends (so YAML can show it as a block)."""
    text = _LINE_END_SPACES.sub("\n", text)
    return _UNSAFE.sub(lambda match: f"&lt;{match.group(1)}" if match.group(1) else f"{match.group(2)} (", text)
