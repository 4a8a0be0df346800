"""How the generated dialect is read as its authors meant (NAFTIKO.md, section 2).

Every rule that bridges generated capability files and the official vocabulary lives
here, so the rest of the runtime never asks which dialect it is reading:

- path placeholders are `{{name}}` (official) or `{name}` (generated);
- names that differ only in case or in `-` versus `_` are one parameter;
- `with` values `rest.Y` / `tools.Y` / `mcp.Y` / `<expose-namespace>.Y` name the caller's argument `Y`;
- `{{env.X}}` and a bare `{{X}}` that no bind declares read the environment variable `X`;
- an output mapping `$` or `$.` (or none) is the whole value;
- an `in: body` parameter named `body` is the whole JSON request body;
- a consumed `body` of `type: form` is `formUrlEncoded`; `{type: json}` with no `data` takes
  the caller's JSON body; an object that is not `{type, data}` is the JSON payload itself;
- in templates, `{{tools.x}}` / `{{rest.x}}` name the caller's argument `x`;
- an apikey authentication may say `headers: {Name: value, ...}` (several keys), or `name`/`in`
  for `key`/`placement`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from naftiko_runtime.spec.models import InputParameter

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}\s]+?)\s*\}\}|\{([^{}\s/]+)\}")
_REFERENCE = re.compile(r"^([A-Za-z0-9_-]+)\.([^.\s{}][^\s{}]*)$")
# Prefixes the generators use for "the incoming call's argument".
GENERIC_ARGUMENT_PREFIXES = frozenset({"rest", "tools", "mcp", "this"})
ENVIRONMENT_NAMESPACE = "env"
WHOLE_BODY_NAME = "body"


def param_key(name: str) -> str:
    """The identity of a parameter name: case and `-`/`_` do not matter."""
    return name.lower().replace("-", "_")


@dataclass(frozen=True, slots=True)
class PathLiteral:
    text: str


@dataclass(frozen=True, slots=True)
class PathPlaceholder:
    name: str

    @property
    def key(self) -> str:
        return param_key(self.name)


PathPart = PathLiteral | PathPlaceholder


def split_path(path: str) -> list[PathPart]:
    """`/a/{{x}}/b/{y}` -> literals and placeholders, in order."""
    parts: list[PathPart] = []
    position = 0
    for match in _PLACEHOLDER.finditer(path):
        if match.start() > position:
            parts.append(PathLiteral(path[position : match.start()]))
        parts.append(PathPlaceholder(match.group(1) or match.group(2)))
        position = match.end()
    if position < len(path):
        parts.append(PathLiteral(path[position:]))
    return parts


def path_placeholders(path: str) -> list[str]:
    return [part.name for part in split_path(path) if isinstance(part, PathPlaceholder)]


def argument_reference(value: object, expose_namespace: str) -> str | None:
    """The argument named by a `with` value such as `rest.integration_id`, else None."""
    if not isinstance(value, str):
        return None
    match = _REFERENCE.match(value.strip())
    if match is None:
        return None
    prefix, name = match.groups()
    if prefix in GENERIC_ARGUMENT_PREFIXES or prefix == expose_namespace:
        return name
    return None


def template_argument(name: str) -> str:
    """`tools.x` / `rest.x` in a template name the caller's argument `x`; other names stay."""
    head, dot, rest = name.partition(".")
    return rest if dot and head in GENERIC_ARGUMENT_PREFIXES and rest else name


BODY_KINDS = frozenset({"json", "text", "xml", "sparql", "formUrlEncoded", "multipartForm"})
_BODY_KIND_ALIASES = {
    "form": "formUrlEncoded",
    "form-urlencoded": "formUrlEncoded",
    "urlencoded": "formUrlEncoded",
    "multipart": "multipartForm",
    "form-data": "multipartForm",
}


def normalize_body(spec: object) -> tuple[object, bool]:
    """(the body in official form or None, whether the caller supplies the JSON body)."""
    if not isinstance(spec, dict):
        return spec, False
    kind = spec.get("type")
    kind = _BODY_KIND_ALIASES.get(kind, kind) if isinstance(kind, str) else kind
    if kind in BODY_KINDS:
        if "data" not in spec:
            return None, kind == "json"
        return {**spec, "type": kind}, False
    return {"type": "json", "data": spec}, False


def apikey_entries(auth: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(placement, key, value template) of an apikey authentication, in every form written."""
    entries = [
        ("header", str(name), str(value)) for name, value in (auth.get("headers") or {}).items() if value is not None
    ]
    key = auth.get("key") or auth.get("name")
    if key and auth.get("value") is not None:
        placement = auth.get("placement") or auth.get("in") or "header"
        entries.append(("query" if placement == "query" else "header", str(key), str(auth["value"])))
    return entries


def is_whole_value_mapping(mapping: str | None) -> bool:
    return mapping is None or mapping.strip() in ("$", "$.", "")


def is_whole_body(parameter: InputParameter) -> bool:
    return parameter.location == "body" and param_key(parameter.name) == WHOLE_BODY_NAME


def environment_name(variable: str, bind_namespaces: frozenset[str]) -> str | None:
    """The environment variable a template variable reads when no bind declares it.

    `env.X` (with no bind namespace `env`) and a bare `X` read `X`; other dotted names
    (arguments' fields, bind namespaces) are not environment reads.
    """
    head, dot, rest = variable.partition(".")
    if dot:
        if head == ENVIRONMENT_NAMESPACE and head not in bind_namespaces and "." not in rest:
            return rest
        return None
    return variable


def iter_template_variables(template: str) -> Iterator[str]:
    """Names used by `{{name}}` / `{{{name}}}` / `{{&name}}` / section tags of a template."""
    for match in _TEMPLATE_TAG.finditer(template):
        name = match.group(1)
        if name != ".":
            yield name


_TEMPLATE_TAG = re.compile(r"\{\{\{?\s*[#^/&]?\s*([^{}!>=\s]+?)\s*\}?\}\}")
