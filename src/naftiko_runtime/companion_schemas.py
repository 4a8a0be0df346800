"""The schemas an OpenAPI document gives a consumed operation: parameters, request body, answer.

The document is read once; an operation is found by method and path shape (placeholder names
do not matter, the base paths of its `servers` are considered), and only the operations a
capability consumes have their schemas resolved (see `openapi_schema.py`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from naftiko_runtime.openapi_schema import Inliner, resolve_local_ref
from naftiko_runtime.schema_check import schema_problem
from naftiko_runtime.spec.dialects import param_key

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PLACEHOLDER = re.compile(r"\{\{?[^{}]*\}?\}")
_SERVER_VARIABLE = re.compile(r"\{([^{}]+)\}")


class CompanionError(Exception):
    """The document cannot be used; the message names the file and `reason` says why."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ParameterSchema:
    name: str
    location: str
    schema: dict[str, Any]
    description: str | None


@dataclass(frozen=True, slots=True)
class OperationSchemas:
    """What the document says of one operation, each schema self-contained 2020-12."""

    source: str  # `<file name> <METHOD> <path template>`, for `naftiko list`
    parameters: dict[tuple[str, str], ParameterSchema]  # by (location, param_key(name))
    request_body: dict[str, Any] | None
    response: dict[str, Any] | None  # the first 2xx JSON answer's schema
    path_names: tuple[str, ...] = ()  # the template's placeholders, in order
    problems: tuple[str, ...] = ()

    def parameter(self, location: str, name: str) -> ParameterSchema | None:
        return self.parameters.get((location, param_key(name)))

    def path_parameter(self, index: int) -> ParameterSchema | None:
        """The path parameter at a placeholder position (capability and document may name it differently)."""
        if index >= len(self.path_names):
            return None
        return self.parameter("path", self.path_names[index])


@dataclass(frozen=True, slots=True)
class _Entry:
    method: str
    template: str
    operation: Mapping[str, Any]
    path_item: Mapping[str, Any]


class CompanionDocument:
    """One OpenAPI 3.x document, indexed by method and path shape."""

    def __init__(self, document: Mapping[str, Any], name: str) -> None:
        version = document.get("openapi")
        if not isinstance(version, str) or not version.startswith("3."):
            raise CompanionError(name, "not an OpenAPI 3.x document ('openapi: 3.x' missing)")
        self.name = name
        self._document = document
        self._openapi_30 = version.startswith("3.0")
        self._bases = _server_base_paths(document)
        self._by_path: dict[tuple[str, str], _Entry] = {}
        paths = document.get("paths")
        for template, item in paths.items() if isinstance(paths, Mapping) else []:
            if not isinstance(item, Mapping):
                continue
            item = self._deref(item)
            for method in METHODS:
                operation = item.get(method)
                if isinstance(operation, Mapping):
                    entry = _Entry(method.upper(), str(template), operation, item)
                    self._by_path.setdefault((method.upper(), shape(str(template))), entry)
        self._resolved: dict[tuple[str, str], OperationSchemas] = {}

    @classmethod
    def load(cls, path: Path) -> CompanionDocument:
        return _load(path.resolve(), *_stamp(path))

    def schemas_for(self, method: str, full_path: str, operation_path: str) -> OperationSchemas | None:
        """The operation at `full_path` (the consumed base URI's path plus the operation's path).

        Tried in order: the full path against each server base path plus the document's paths,
        then the operation's own path against the document's paths (base URIs that differ).
        """
        method = method.upper()
        wanted = shape(full_path)
        entry: _Entry | None = None
        for base in self._bases:
            if wanted.startswith(base + "/") or (base and wanted == base):
                entry = self._by_path.get((method, wanted[len(base) :] or "/"))
                if entry is not None:
                    break
        if entry is None:
            entry = self._by_path.get((method, shape(operation_path)))
        if entry is None:
            return None
        key = (entry.method, entry.template)
        if key not in self._resolved:
            self._resolved[key] = self._resolve(entry)
        return self._resolved[key]

    def _resolve(self, entry: _Entry) -> OperationSchemas:
        inliner = Inliner(self._lookup, openapi_30=self._openapi_30)
        problems: list[str] = []
        parameters: dict[tuple[str, str], ParameterSchema] = {}
        declared = [*_list(entry.path_item.get("parameters")), *_list(entry.operation.get("parameters"))]
        for raw in declared:
            parameter = self._deref(raw)
            name, location = parameter.get("name"), parameter.get("in")
            if not isinstance(name, str) or not isinstance(location, str):
                continue
            schema = parameter.get("schema")
            if schema is None:
                schema = _json_media_schema(self._deref(parameter.get("content")))
            inlined = _valid(inliner.inline(schema, "request"), f"parameter '{name}'", problems)
            if inlined is None:
                continue
            description = parameter.get("description") or inlined.get("description")
            parameters[(location, param_key(name))] = ParameterSchema(
                name, location, inlined, description if isinstance(description, str) else None
            )
        body = self._deref(entry.operation.get("requestBody"))
        body_schema = _json_media_schema(self._deref(body.get("content")))
        response = self._answer_schema(entry.operation.get("responses"))
        request_body = inliner.inline(body_schema, "request") if body_schema is not None else None
        answer = inliner.inline(response, "response") if response is not None else None
        return OperationSchemas(
            source=f"{self.name} {entry.method} {entry.template}",
            parameters=parameters,
            request_body=_valid(request_body, "request body", problems),
            response=_valid(answer, "answer", problems),
            path_names=tuple(re.findall(r"\{([^{}]+)\}", entry.template)),
            problems=(*inliner.problems, *problems),
        )

    def _answer_schema(self, responses: Any) -> Any:
        if not isinstance(responses, Mapping):
            return None
        answers = sorted(
            ((str(code), answer) for code, answer in responses.items() if str(code).startswith("2")),
            key=lambda item: item[0],
        )
        for _code, answer in answers:
            schema = _json_media_schema(self._deref(self._deref(answer).get("content")))
            if schema is not None:
                return schema
        return None

    def _deref(self, node: Any) -> dict[str, Any]:
        """A parameter, body, answer or path item with its own `$ref` chain followed ({} if none)."""
        seen: set[str] = set()
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and node["$ref"] not in seen:
            seen.add(node["$ref"])
            try:
                node = self._lookup(node["$ref"])
            except LookupError:
                return {}
        return dict(node) if isinstance(node, Mapping) else {}

    def _lookup(self, ref: str) -> Any:
        try:
            return resolve_local_ref(self._document, ref)
        except LookupError as exc:
            raise LookupError(f"{exc}; left open") from None


def _valid(schema: dict[str, Any] | None, what: str, problems: list[str]) -> dict[str, Any] | None:
    """`schema` when it is valid JSON Schema 2020-12; else None, and a remark why."""
    if schema is None:
        return None
    problem = schema_problem(schema)
    if problem is not None:
        problems.append(f"{what}: {problem}; not used")
        return None
    return schema


def shape(path: str) -> str:
    """A path with every placeholder (`{x}`, `{{x}}`) as `{}` and no trailing slash."""
    text = _PLACEHOLDER.sub("{}", path.split("?", 1)[0])
    text = text if text.startswith("/") else "/" + text
    return text.rstrip("/") or "/"


def _server_base_paths(document: Mapping[str, Any]) -> list[str]:
    """The path part of every server URL (variables at their defaults), longest first, then ''."""
    bases: list[str] = []
    for server in _list(document.get("servers")):
        url = server.get("url") if isinstance(server, Mapping) else None
        if not isinstance(url, str):
            continue
        variables = server.get("variables")
        if isinstance(variables, Mapping):
            url = _SERVER_VARIABLE.sub(functools.partial(_variable_default, variables), url)
        path = urlsplit(url).path if "://" in url else url.split("?", 1)[0]
        bases.append(shape(path) if path.strip("/") else "")
    return sorted(set(bases) | {""}, key=len, reverse=True)


def _variable_default(variables: Mapping[str, Any], match: re.Match[str]) -> str:
    name = match.group(1)
    variable = variables.get(name)
    default = variable.get("default") if isinstance(variable, Mapping) else None
    return str(default) if default is not None else "{" + name + "}"


def _json_media_schema(content: Mapping[str, Any]) -> Any:
    """The schema of `application/json`, else of the first media type that is JSON."""
    if not content:
        return None
    for media_type, media in sorted(content.items(), key=lambda item: str(item[0]) != "application/json"):
        if "json" in str(media_type).lower() and isinstance(media, Mapping) and "schema" in media:
            return media["schema"]
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _stamp(path: Path) -> tuple[int, int]:
    try:
        status = path.stat()
    except OSError:
        return (0, 0)
    return (status.st_mtime_ns, status.st_size)


@functools.lru_cache(maxsize=16)
def _load(path: Path, _mtime: int, _size: int) -> CompanionDocument:
    """Read once per version of the file: several capabilities may name the same document."""
    # The mock package's reader keeps unquoted dates as strings; imported here because the
    # package's own imports (the mock server) are only worth paying for when a document is used.
    from naftiko_runtime.mock.document import MockDocumentError, load_file

    try:
        document = load_file(path)
    except MockDocumentError as exc:
        raise CompanionError(path.name, str(exc).removeprefix(f"{path}: ")) from None
    return CompanionDocument(document, path.name)


def forget_documents() -> None:
    """Drop the documents read so far: what the actions need was taken from them at load, and a
    whole parsed OpenAPI document is megabytes a server would otherwise keep for nothing."""
    _load.cache_clear()


def documents_for(namespaces: Iterable[str], given: Mapping[str, Any], beside: Path | None) -> dict[str, list[Path]]:
    """Per consumes namespace: the documents `--openapi NS=FILE` names, else the one beside the capability."""
    chosen: dict[str, list[Path]] = {}
    for namespace in namespaces:
        paths = [Path(path) for path in given.get(namespace, ())]
        if not paths and beside is not None:
            paths = [beside]
        if paths:
            chosen[namespace] = paths
    return chosen
