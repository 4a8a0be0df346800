"""A consumed operation's `body`: compiled once, rendered with the call's values.

Forms (alpha2): a raw string (sent as JSON unless a header says otherwise), or
`{type: json|text|xml|sparql|formUrlEncoded|multipartForm, data}`. Strings are Mustache
templates; in JSON data a string that is exactly one `{{name}}` keeps the value's type.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from naftiko_runtime.templates import Template

Render = Callable[[Template], str]
Lookup = Callable[[str], Any]

_CONTENT_TYPES = {
    "json": "application/json",
    "text": "text/plain; charset=utf-8",
    "xml": "application/xml",
    "sparql": "application/sparql-query",
    "formUrlEncoded": "application/x-www-form-urlencoded",
}
_WHOLE_TAG = re.compile(r"^\{\{\{?\s*([^{}#^/!>&\s]+)\s*\}?\}\}$")


class BodyError(ValueError):
    """A `body` whose shape is not one of the alpha2 forms."""


@dataclass(frozen=True, slots=True)
class BodyPlan:
    kind: str
    data: Any  # templates compiled in place

    @property
    def variables(self) -> list[str]:
        return list(dict.fromkeys(_variables(self.data)))

    def render(self, render: Render, lookup: Lookup) -> tuple[bytes, str]:
        """(bytes, content type); `lookup` finds a whole-tag value with its JSON type."""
        if self.kind == "multipartForm":
            return _multipart(self.data, render)
        if self.kind == "json":
            if isinstance(self.data, Template):
                return render(self.data).encode(), _CONTENT_TYPES["json"]
            return json.dumps(_render_json(self.data, render, lookup)).encode(), _CONTENT_TYPES["json"]
        if self.kind == "formUrlEncoded" and isinstance(self.data, dict):
            pairs = [(name, render(value)) for name, value in self.data.items()]
            return urlencode(pairs, quote_via=quote).encode(), _CONTENT_TYPES["formUrlEncoded"]
        assert isinstance(self.data, Template)
        return render(self.data).encode(), _CONTENT_TYPES[self.kind]


def compile_body(spec: Any) -> BodyPlan | None:
    if spec is None:
        return None
    if isinstance(spec, str):
        return BodyPlan("json", Template(spec))
    if not isinstance(spec, dict) or "type" not in spec:
        raise BodyError("body must be a string or {type, data}")
    kind, data = spec["type"], spec.get("data")
    if kind == "json":
        return BodyPlan(kind, _compile_json(data))
    if kind in ("text", "xml", "sparql"):
        return BodyPlan(kind, Template(str(data if data is not None else "")))
    if kind == "formUrlEncoded":
        if isinstance(data, dict):
            return BodyPlan(kind, {str(name): Template(str(value)) for name, value in data.items()})
        return BodyPlan(kind, Template(str(data if data is not None else "")))
    if kind == "multipartForm":
        if not isinstance(data, list):
            raise BodyError("a multipartForm body's data must be a list of parts")
        return BodyPlan(kind, [_compile_part(part) for part in data])
    raise BodyError(f"unknown body type {kind!r} (json, text, xml, sparql, formUrlEncoded, multipartForm)")


def _compile_json(data: Any) -> Any:
    if isinstance(data, str):
        return Template(data)
    if isinstance(data, dict):
        return {key: _compile_json(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_compile_json(value) for value in data]
    return data


def _render_json(data: Any, render: Render, lookup: Lookup) -> Any:
    if isinstance(data, Template):
        whole = _WHOLE_TAG.match(data.source)
        if whole:
            value = lookup(whole.group(1))
            if value is not None and not isinstance(value, str):
                return value
        return render(data)
    if isinstance(data, dict):
        return {key: _render_json(value, render, lookup) for key, value in data.items()}
    if isinstance(data, list):
        return [_render_json(value, render, lookup) for value in data]
    return data


def _compile_part(part: Any) -> dict[str, Any]:
    if not isinstance(part, dict) or "name" not in part:
        raise BodyError("each multipartForm part needs a name")
    return {
        "name": str(part["name"]),
        "value": Template(str(part.get("value", ""))),
        "filename": part.get("filename"),
        "contentType": part.get("contentType"),
    }


def _multipart(parts: list[dict[str, Any]], render: Render) -> tuple[bytes, str]:
    boundary = "naftiko-" + secrets.token_hex(12)
    chunks: list[bytes] = []
    for part in parts:
        disposition = f'form-data; name="{_quoted(part["name"])}"'
        if part["filename"]:
            disposition += f'; filename="{_quoted(str(part["filename"]))}"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if part["contentType"]:
            head += f"Content-Type: {part['contentType']}\r\n"
        chunks.append(head.encode() + b"\r\n" + render(part["value"]).encode() + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")


def _variables(data: Any) -> list[str]:
    if isinstance(data, Template):
        return list(data.variables)
    if isinstance(data, dict):
        return [name for value in data.values() for name in _variables(value)]
    if isinstance(data, list):
        return [name for value in data for name in _variables(value)]
    return []


def lookup_in(values: Mapping[str, Any], key_of: Callable[[str], str]) -> Lookup:
    return lambda name: values.get(key_of(name))
