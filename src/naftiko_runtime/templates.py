"""Mustache templates, compiled once: HTML escaping off, a missing value renders empty."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pystache
from pystache.parsed import ParsedTemplate

from naftiko_runtime.spec.dialects import iter_template_variables

_RENDERER = pystache.Renderer(escape=lambda text: text, missing_tags="ignore")


class Template:
    """A string that may hold `{{...}}` tags; a tag-free string costs nothing to render."""

    __slots__ = ("_parsed", "source", "variables")

    def __init__(self, source: str) -> None:
        self.source = source
        self.variables: tuple[str, ...] = tuple(dict.fromkeys(iter_template_variables(source)))
        self._parsed: ParsedTemplate | None = pystache.parse(source) if "{{" in source else None

    @property
    def is_constant(self) -> bool:
        return self._parsed is None

    def render(self, context: Mapping[str, Any]) -> str:
        if self._parsed is None:
            return self.source
        return str(_RENDERER.render(self._parsed, _textual(context)))

    def __repr__(self) -> str:
        return f"Template({self.source!r})"


def is_template(value: object) -> bool:
    return isinstance(value, str) and "{{" in value


def _textual(context: Mapping[str, Any]) -> dict[str, Any]:
    # Booleans and containers render as JSON text (`true`, `{"a": 1}`), not Python reprs.
    return {key: _as_text_value(value) for key, value in context.items()}


def _as_text_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return {key: _as_text_value(item) for key, item in value.items()} or json.dumps(value)
    if isinstance(value, list):
        return json.dumps(value)
    return value
