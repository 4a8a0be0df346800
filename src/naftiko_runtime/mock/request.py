"""The incoming request as dispatchers, scripts and templates see it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from xml.etree import ElementTree

NOT_JSON: Any = object()  # marks a body that is empty or not JSON


@dataclass(frozen=True)
class MockRequest:
    method: str
    path: str
    """Path relative to the document's paths, percent-decoded."""
    path_params: Mapping[str, str]
    query: Sequence[tuple[str, str]]
    headers: Mapping[str, str]
    """Lower-case names."""
    body: bytes = b""
    context: dict[str, Any] = field(default_factory=dict)
    """Values a SCRIPT dispatcher stored for the templates (`requestContext`)."""

    @cached_property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @cached_property
    def json(self) -> Any:
        if not self.body.strip():
            return NOT_JSON
        try:
            return json.loads(self.body)
        except ValueError:
            return NOT_JSON

    @cached_property
    def xml(self) -> ElementTree.Element | None:
        if not self.body.lstrip().startswith(b"<"):
            return None
        try:
            return ElementTree.fromstring(self.body)
        except ElementTree.ParseError:
            return None

    @cached_property
    def segments(self) -> tuple[str, ...]:
        return tuple(part for part in self.path.split("/") if part)

    def param(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def json_pointer(document: Any, pointer: str) -> Any:
    """RFC 6901 lookup; None when the pointer leads nowhere."""
    if pointer in ("", "/"):
        return document
    node = document
    for raw in pointer.lstrip("/").split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node


def xpath_text(root: ElementTree.Element, expression: str) -> str | None:
    """The text of the first element an XPath of the simple kinds `/a/b[1]/c`, `//name` selects."""
    expression = expression.removesuffix("/text()")
    if expression.startswith("//"):
        path = ".//" + expression[2:]
    elif expression.startswith("/"):
        steps = expression[1:].split("/")
        if steps[0].split("[", 1)[0] not in (root.tag, "*"):
            return None
        if len(steps) == 1:
            return "".join(root.itertext())
        path = "./" + "/".join(steps[1:])
    else:
        path = "./" + expression
    try:
        found = root.find(path)
    except SyntaxError:
        return None
    return None if found is None else "".join(found.itertext())
