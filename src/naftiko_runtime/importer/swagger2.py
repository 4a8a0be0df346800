"""A Swagger 2.0 document seen as OpenAPI 3.x: only the parts the importer reads are converted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from naftiko_runtime.mock.document import Resolver

_SCHEMA_KEYS = ("type", "format", "items", "enum", "default", "description")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_BODY = ("body", "formData")


def from_swagger2(doc: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Servers from host/basePath/schemes, security definitions as schemes, body/formData as request bodies.

    `definitions` and `parameters` stay where they are, so `$ref`s into them still resolve.
    """
    resolver = Resolver(doc, source)
    converted = dict(doc)
    converted["servers"] = _servers(doc)
    components = {"securitySchemes": _security_schemes(doc.get("securityDefinitions"))}
    converted["components"] = {**(doc.get("components") or {}), **components}
    media = _media_types(doc.get("consumes"))
    paths: dict[str, Any] = {}
    for template, item in (doc.get("paths") or {}).items():
        item = resolver.deref(item)
        if not isinstance(item, Mapping):
            paths[template] = item
            continue
        new_item = dict(item)
        shared = [resolver.deref(parameter) for parameter in item.get("parameters") or []]
        new_item["parameters"] = [_parameter(p) for p in shared if isinstance(p, Mapping) and p.get("in") not in _BODY]
        for method in _METHODS:
            operation = item.get(method)
            if isinstance(operation, Mapping):
                new_item[method] = _operation(
                    operation, shared, resolver, _media_types(operation.get("consumes")) or media
                )
        paths[template] = new_item
    converted["paths"] = paths
    return converted


def _servers(doc: Mapping[str, Any]) -> list[dict[str, str]]:
    host, base_path = doc.get("host"), str(doc.get("basePath") or "")
    if not host:
        return [{"url": base_path}] if base_path else []
    schemes = [str(scheme) for scheme in doc.get("schemes") or []]
    scheme = "https" if "https" in schemes or not schemes else schemes[0]
    return [{"url": f"{scheme}://{host}{base_path}"}]


def _security_schemes(definitions: Any) -> dict[str, Any]:
    schemes: dict[str, Any] = {}
    for name, definition in (definitions or {}).items():
        if not isinstance(definition, Mapping):
            continue
        if definition.get("type") == "basic":
            schemes[name] = {"type": "http", "scheme": "basic"}
        else:
            schemes[name] = dict(definition)
    return schemes


def _media_types(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


def _operation(operation: Mapping[str, Any], shared: list[Any], resolver: Resolver, media: list[str]) -> dict[str, Any]:
    converted = dict(operation)
    own = [resolver.deref(parameter) for parameter in operation.get("parameters") or []]
    parameters = [p for p in [*shared, *own] if isinstance(p, Mapping)]
    converted["parameters"] = [_parameter(p) for p in own if isinstance(p, Mapping) and p.get("in") not in _BODY]
    body = next((p for p in reversed(parameters) if p.get("in") == "body"), None)
    form = [p for p in parameters if p.get("in") == "formData"]
    if body is not None:
        json_types = [m for m in media if "json" in m] or ["application/json"]
        converted["requestBody"] = {
            "required": bool(body.get("required")),
            "description": body.get("description"),
            "content": {json_types[0]: {"schema": body.get("schema") or {}}},
        }
    elif form:
        kind = (
            "multipart/form-data" if any(p.get("type") == "file" for p in form) else "application/x-www-form-urlencoded"
        )
        converted["requestBody"] = {"content": {kind: {"schema": {"type": "object"}}}}
    return converted


def _parameter(parameter: Mapping[str, Any]) -> dict[str, Any]:
    schema = {key: parameter[key] for key in _SCHEMA_KEYS if key in parameter and key != "description"}
    converted = {key: value for key, value in parameter.items() if key not in _SCHEMA_KEYS or key == "description"}
    converted["schema"] = schema
    return converted
