"""The document's operations as the importer needs them: named, filtered by tag, parameters typed."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from naftiko_runtime.importer.document import ImportFailure, OpenApiDocument, text_of
from naftiko_runtime.importer.naming import IDENTIFIER, UniqueNames, identifier, kebab_case
from naftiko_runtime.importer.schemas import enum_values, json_type
from naftiko_runtime.spec.dialects import param_key

# The methods the official vocabulary knows, in the order a capability lists them.
METHODS = ("get", "post", "put", "patch", "delete")
_IGNORED_METHODS = ("head", "options", "trace")
_LOCATIONS = ("path", "query", "header", "cookie")
# OpenAPI says header parameters with these names are ignored (the transport sets them).
_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_JSON_MEDIA = re.compile(r"^(application/([\w.+-]*\+)?json|\*/\*)(;.*)?$", re.IGNORECASE)
_ENUM_LISTED = 12


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path, query, header or cookie
    type: str
    description: str
    required: bool


@dataclass(frozen=True)
class Body:
    type: str
    description: str
    required: bool


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    source_path: str  # as the document writes it
    path: str  # placeholders as `{{name}}`, names usable as identifiers
    name: str
    summary: str | None
    description: str | None
    tags: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    body: Body | None


def read_operations(document: OpenApiDocument, tags: Sequence[str], warnings: list[str]) -> list[Operation]:
    """Every operation (document path order, then GET, POST, PUT, PATCH, DELETE) carrying one of `tags`."""
    wanted = {tag.lower() for tag in tags}
    names = UniqueNames()
    operations: list[Operation] = []
    seen_tags: set[str] = set()
    for source_path, raw_item in (document.data.get("paths") or {}).items():
        if str(source_path).startswith("x-"):
            continue
        item = document.deref(raw_item)
        if not isinstance(item, Mapping):
            raise ImportFailure(f"{document.source}: path '{source_path}' is not a mapping")
        for method in _IGNORED_METHODS:
            if isinstance(item.get(method), Mapping) and _tagged(item[method], wanted):
                warnings.append(f"{method.upper()} {source_path} skipped: alpha2 has no {method.upper()} operations")
        for method in METHODS:
            raw = item.get(method)
            if not isinstance(raw, Mapping):
                continue
            seen_tags.update(tag.lower() for tag in _tags(raw))
            if not _tagged(raw, wanted):
                continue
            where = f"{method.upper()} {source_path}"
            path, renamed = _path(str(source_path))
            parameters = _parameters(document, item, raw, renamed, where, warnings)
            body = _body(document, raw.get("requestBody"), where, warnings)
            if body is not None and any(param_key(p.name) == "body" for p in parameters):
                warnings.append(f"{where}: parameter 'body' skipped: the name is the request body's")
                parameters = [p for p in parameters if param_key(p.name) != "body"]
            operation_id = kebab_case(str(raw.get("operationId") or ""))
            synthesized = kebab_case(method + "-" + (_PLACEHOLDER.sub(r"\1", str(source_path)).strip("/") or "root"))
            operations.append(
                Operation(
                    method=method.upper(),
                    source_path=str(source_path),
                    path=path,
                    name=names.claim(operation_id or synthesized),
                    summary=text_of(raw.get("summary")),
                    description=text_of(raw.get("description")),
                    tags=_tags(raw),
                    parameters=tuple(parameters),
                    body=body,
                )
            )
    for tag in tags:
        if tag.lower() not in seen_tags:
            warnings.append(f"--tag {tag}: no operation carries this tag")
    return operations


def _tagged(operation: Mapping[str, Any], wanted: set[str]) -> bool:
    return not wanted or any(tag.lower() in wanted for tag in _tags(operation))


def _tags(operation: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(tag) for tag in _list(operation.get("tags")))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _path(source_path: str) -> tuple[str, dict[str, str]]:
    """`/users/{user.id}` -> `/users/{{user_id}}`, and the placeholders renamed on the way."""
    renamed: dict[str, str] = {}

    def placeholder(match: re.Match[str]) -> str:
        name = match.group(1)
        renamed[name] = identifier(name)
        return "{{" + renamed[name] + "}}"

    path = _PLACEHOLDER.sub(placeholder, source_path)
    return (path if path.startswith("/") else "/" + path), renamed


def _parameters(
    document: OpenApiDocument,
    item: Mapping[str, Any],
    operation: Mapping[str, Any],
    renamed: dict[str, str],
    where: str,
    warnings: list[str],
) -> list[Parameter]:
    # Operation-level parameters override path-level ones of the same name and location.
    merged: dict[tuple[str, str], Mapping[str, Any]] = {}
    for raw in [*_list(item.get("parameters")), *_list(operation.get("parameters"))]:
        parameter = document.deref(raw)
        if isinstance(parameter, Mapping) and "name" in parameter and "in" in parameter:
            merged[(str(parameter["name"]), str(parameter["in"]))] = parameter
    parameters: dict[str, Parameter] = {}
    for (name, location), parameter in merged.items():
        if location == "header" and name.lower() in _IGNORED_HEADERS:
            continue
        if location not in _LOCATIONS:
            warnings.append(f"{where}: parameter '{name}' in {location} skipped")
            continue
        if location == "path":
            if name not in renamed:
                warnings.append(f"{where}: path parameter '{name}' skipped: the path has no {{{name}}}")
                continue
            name = renamed[name]
        elif not IDENTIFIER.match(name):
            warnings.append(f"{where}: {location} parameter '{name}' skipped: alpha2 names match [A-Za-z0-9_*-]+")
            continue
        if param_key(name) in parameters:
            warnings.append(f"{where}: {location} parameter '{name}' skipped: it clashes with another parameter's name")
            continue
        schema = parameter.get("schema")
        if schema is None:
            schema = _media_schema(parameter.get("content"))
        parameters[param_key(name)] = Parameter(
            name=name,
            location=location,
            type=json_type(document, schema),
            description=_parameter_description(document, parameter, schema, name, location),
            required=location == "path" or bool(parameter.get("required")),
        )
    for source_name, name in renamed.items():
        if param_key(name) not in parameters:
            warnings.append(f"{where}: path parameter '{source_name}' is not declared; imported as a string")
            parameters[param_key(name)] = Parameter(name, "path", "string", f"The {source_name} path parameter.", True)
    return list(parameters.values())


def _parameter_description(
    document: OpenApiDocument, parameter: Mapping[str, Any], schema: Any, name: str, location: str
) -> str:
    resolved = document.deref(schema)
    text = text_of(parameter.get("description")) or (
        text_of(resolved.get("description")) if isinstance(resolved, Mapping) else None
    )
    text = text or f"The {name} {location} parameter."
    values = enum_values(document, schema)
    if values and len(values) <= _ENUM_LISTED:
        text = f"{text} One of: {', '.join(map(str, values))}."
    return text


def _media_schema(content: Any) -> Any:
    """The schema of a `content` map's first media type."""
    entry = next(iter(content.values()), None) if isinstance(content, Mapping) else None
    return entry.get("schema") if isinstance(entry, Mapping) else None


def _body(document: OpenApiDocument, raw: Any, where: str, warnings: list[str]) -> Body | None:
    body = document.deref(raw)
    if not isinstance(body, Mapping):
        return None
    content: Mapping[str, Any] = body["content"] if isinstance(body.get("content"), Mapping) else {}
    media = next((key for key in content if _JSON_MEDIA.match(str(key))), None)
    if media is None:
        kinds = ", ".join(map(str, content)) or "no media type"
        warnings.append(f"{where}: request body ({kinds}) not imported: only JSON bodies are; it is sent without one")
        return None
    schema = _media_schema({media: content[media]})
    resolved = document.deref(schema)
    description = text_of(body.get("description")) or (
        text_of(resolved.get("description")) if isinstance(resolved, Mapping) else None
    )
    return Body(
        type=json_type(document, schema, default="object"),
        description=description or "The request body (JSON).",
        required=bool(body.get("required")),
    )


def document_tags(document: OpenApiDocument) -> list[str]:
    """The tags the document declares, then those only its operations carry."""
    declared = [str(tag.get("name")) for tag in _list(document.data.get("tags")) if isinstance(tag, Mapping)]
    used = [
        tag
        for item in (document.data.get("paths") or {}).values()
        if isinstance(item, Mapping)
        for method in METHODS
        if isinstance(item.get(method), Mapping)
        for tag in _tags(item[method])
    ]
    return list(dict.fromkeys([*declared, *used]))
