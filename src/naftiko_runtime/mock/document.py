"""Reading an OpenAPI 3.x document and following its local `$ref`s."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from naftiko_runtime.openapi_schema import resolve_local_ref
from naftiko_runtime.spec.source import SourceError, check_yaml_limits

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DocumentLoader(_Loader):  # type: ignore[valid-type, misc]
    """Safe YAML whose unquoted dates stay strings, as JSON examples expect."""


_DocumentLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _Loader.yaml_implicit_resolvers.items()
}


class MockDocumentError(Exception):
    """The mock document cannot be used; the message names the file and the reason."""


def load_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MockDocumentError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise MockDocumentError(f"{path}: not UTF-8 text") from None
    return parse_text(text, str(path), json_only=path.suffix.lower() == ".json")


def parse_text(text: str, source: str, *, json_only: bool = False) -> dict[str, Any]:
    try:
        if not json_only:
            check_yaml_limits(text, Path(source))
        data = json.loads(text) if json_only else yaml.load(text, Loader=_DocumentLoader)
    except SourceError as exc:
        raise MockDocumentError(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise MockDocumentError(f"{source}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    except yaml.YAMLError as exc:
        raise MockDocumentError(f"{source}: not valid YAML: {_describe_yaml_error(exc)}") from None
    if not isinstance(data, dict):
        raise MockDocumentError(f"{source}: not an OpenAPI document (expected a mapping at the top)")
    return data


def check_document(doc: Mapping[str, Any], source: str) -> None:
    version = doc.get("openapi")
    if version is None and "swagger" in doc:
        raise MockDocumentError(f"{source}: Swagger 2.0 is not supported; convert it to OpenAPI 3.x")
    if not isinstance(version, str) or not version.startswith("3."):
        raise MockDocumentError(f"{source}: not an OpenAPI 3.x document ('openapi: 3.x' missing)")
    paths = doc.get("paths", {})
    if not isinstance(paths, Mapping):
        raise MockDocumentError(f"{source}: 'paths' must be a mapping")


def server_base_path(doc: Mapping[str, Any]) -> str:
    """The path part of `servers[0].url`, variables set to their defaults, without a trailing slash."""
    servers = doc.get("servers")
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], Mapping):
        return ""
    url = str(servers[0].get("url", ""))
    variables = servers[0].get("variables")
    if isinstance(variables, Mapping):
        for name, variable in variables.items():
            if isinstance(variable, Mapping) and "default" in variable:
                url = url.replace("{" + str(name) + "}", str(variable["default"]))
    return urlsplit(url).path.rstrip("/")


class Resolver:
    """Follows local `$ref`s (`#/components/...`) inside one document."""

    def __init__(self, doc: Mapping[str, Any], source: str) -> None:
        self._doc = doc
        self.source = source

    def deref(self, node: Any) -> Any:
        """`node` with any chain of `$ref`s followed; sibling keys of a `$ref` are kept over the target's."""
        seen: list[str] = []
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen:
                raise MockDocumentError(f"{self.source}: $ref cycle through '{ref}'")
            seen.append(ref)
            target = self.lookup(ref)
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            node = {**target, **siblings} if siblings and isinstance(target, Mapping) else target
        return node

    def lookup(self, ref: str) -> Any:
        try:
            return resolve_local_ref(self._doc, ref)
        except LookupError as exc:
            raise MockDocumentError(f"{self.source}: {exc}") from None


def _describe_yaml_error(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"line {mark.line + 1}, column {mark.column + 1}: {exc.problem}"
    return str(exc)
