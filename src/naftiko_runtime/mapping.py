"""Output parameters: shape the upstream answer with JSONPath compiled at load time."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from naftiko_runtime.spec.dialects import is_whole_value_mapping
from naftiko_runtime.spec.models import OutputParameter
from naftiko_runtime.templates import Template, is_template

if TYPE_CHECKING:
    from jsonpath_ng import JSONPath
    from jsonpath_ng.ext.parser import ExtendedJsonPathParser

Shaper = Callable[[Any], Any]


class MappingError(Exception):
    """An output parameter whose JSONPath does not parse."""


class OutputMapping:
    """Maps a decoded upstream answer to the exposed result."""

    __slots__ = ("_shape", "is_identity", "json_type")

    def __init__(self, shape: Shaper | None, json_type: str | None) -> None:
        self._shape = shape
        self.is_identity = shape is None
        self.json_type = json_type

    def apply(self, value: Any) -> Any:
        return value if self._shape is None else self._shape(value)


def compile_outputs(parameters: Sequence[OutputParameter]) -> OutputMapping:
    """No parameters, or one unnamed whole-value parameter: the answer as is."""
    if not parameters:
        return OutputMapping(None, None)
    if len(parameters) == 1 and not parameters[0].name:
        only = parameters[0]
        if _is_passthrough(only):
            return OutputMapping(None, only.type)
        return OutputMapping(_compile(only), only.type)
    named = [(parameter.name or f"value{index}", _compile(parameter)) for index, parameter in enumerate(parameters)]

    def shape_object(value: Any) -> Any:
        return {name: shaper(value) for name, shaper in named}

    return OutputMapping(shape_object, "object")


def _is_passthrough(parameter: OutputParameter) -> bool:
    return (
        is_whole_value_mapping(parameter.mapping)
        and parameter.value is None
        and not parameter.properties
        and parameter.items is None
    )


def _compile(parameter: OutputParameter) -> Shaper:
    if parameter.value is not None:
        return _constant(parameter.value)
    select = _selector(parameter.mapping, parameter.type == "array")
    if parameter.type == "array" and parameter.items is not None:
        item_shaper = _compile(_item_shape(parameter.items))

        def shape_array(value: Any) -> Any:
            selected = select(value)
            if selected is None:
                return None
            items = selected if isinstance(selected, list) else [selected]
            return [item_shaper(item) for item in items]

        return shape_array
    if parameter.properties:
        fields = [(name, _compile(child)) for name, child in parameter.properties.items()]

        def shape_object(value: Any) -> Any:
            selected = select(value)
            if selected is None and not is_whole_value_mapping(parameter.mapping):
                return None
            return {name: shaper(selected) for name, shaper in fields}

        return shape_object
    return select


def _item_shape(items: OutputParameter | list[OutputParameter]) -> OutputParameter:
    """A list of item fields (the orchestrated form) is an object of those fields."""
    if isinstance(items, OutputParameter):
        return items
    fields = {
        field.name or f"field{index}": field
        if field.mapping or field.value is not None
        else field.model_copy(update={"mapping": f"$.{field.name}"})
        for index, field in enumerate(items)
    }
    return OutputParameter(type="object", properties=fields)


def _constant(value: Any) -> Shaper:
    if is_template(value):
        template = Template(value)
        return lambda data: template.render(data if isinstance(data, dict) else {})
    return lambda _data: value


def _selector(mapping: str | None, wants_list: bool) -> Shaper:
    if is_whole_value_mapping(mapping):
        return lambda value: value
    assert mapping is not None
    expression = _parse(mapping)
    many = _yields_many(mapping)

    def select(value: Any) -> Any:
        matches = [match.value for match in expression.find(value)]
        if wants_list and many:
            return matches
        if not matches:
            return None
        if wants_list and not isinstance(matches[0], list):
            return matches
        return matches[0]

    return select


def compile_path(mapping: str) -> Shaper:
    """A JSONPath selector: the value it names, or the list of matches for a multi-match path."""
    return _selector(mapping, _yields_many(mapping))


def _yields_many(mapping: str) -> bool:
    # A wildcard, filter, slice or recursive path yields a list of matches however many there are.
    return any(token in mapping for token in ("*", "..", "?(", ":", ","))


def _parse(mapping: str) -> JSONPath:
    text = mapping.strip()
    # `$.` followed by nothing is the whole value; handled above. Allow a relative `field`.
    if not text.startswith("$"):
        text = "$." + text
    try:
        return _parse_text(text)
    except Exception as exc:  # the lexer's and parser's errors, and whatever else a path makes it raise
        raise MappingError(f"invalid JSONPath {mapping!r}: {exc}") from None


@functools.lru_cache(maxsize=4096)
def _parse_text(text: str) -> JSONPath:
    # jsonpath-ng builds its parser tables anew for each `parse()` call (about 0.7 ms): one
    # parser serves every expression, and expressions repeated across files parse once.
    return _parser().parse(text)


@functools.cache
def _parser() -> ExtendedJsonPathParser:
    # Imported on first use: jsonpath-ng and its parser tables are about 1 MB, and files that map
    # only whole values (`$.`) never need them.
    from jsonpath_ng.ext.parser import ExtendedJsonPathParser

    return ExtendedJsonPathParser()


def validate_jsonpath(mapping: str) -> str | None:
    """The error message for a mapping that does not parse, else None."""
    if is_whole_value_mapping(mapping):
        return None
    try:
        _parse(mapping)
    except MappingError as exc:
        return str(exc)
    return None
