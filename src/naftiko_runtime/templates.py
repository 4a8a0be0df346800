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
        self._parsed: ParsedTemplate | None = None
        if "{{" in source:
            try:
                self._parsed = pystache.parse(source)
            except pystache.parser.ParsingError as exc:
                raise TemplateError(f"invalid template {source!r}: {exc}") from None

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


class TemplateError(ValueError):
    """A template that does not parse; the message says why."""


def _textual(context: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _as_text_value(value) for key, value in context.items()}


class _JsonObject(dict[str, Any]):
    # Renders as JSON text, yet dotted names and sections still see its fields.
    def __str__(self) -> str:
        return json.dumps(_plain(self))


class _JsonArray(list[Any]):
    # Renders as JSON text, yet a section still repeats once per item.
    def __str__(self) -> str:
        return json.dumps(_plain(self))


class _JsonBoolean:
    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.value = value

    def __bool__(self) -> bool:
        return self.value

    def __str__(self) -> str:
        return "true" if self.value else "false"


def _as_text_value(value: Any) -> Any:
    """Booleans and containers render as JSON text (`true`, `{"a": 1}`), not Python reprs."""
    if isinstance(value, bool):
        return _JsonBoolean(value)
    if isinstance(value, dict):
        return _JsonObject({key: _as_text_value(item) for key, item in value.items()})
    if isinstance(value, list):
        return _JsonArray(_as_text_value(item) for item in value)
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, _JsonBoolean):
        return value.value
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
