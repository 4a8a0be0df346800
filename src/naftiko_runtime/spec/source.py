"""YAML text to plain data, remembering where every field came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from naftiko_runtime.diagnostics import FieldPath, Location

# Alias expansion is counted so a "billion laughs" document fails instead of eating memory.
MAX_NODES = 1_000_000


class SourceError(Exception):
    def __init__(self, message: str, location: Location) -> None:
        self.location = location
        super().__init__(f"{location}: {message}")


@dataclass(slots=True)
class Source:
    """A parsed document and the line/column of each field path in it."""

    path: Path
    data: Any
    positions: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    # Keys written twice in one mapping (the last one wins, as in YAML loaders).
    duplicate_keys: list[FieldPath] = field(default_factory=list)

    def locate(self, path: FieldPath) -> Location:
        """The closest recorded position to `path` (walking up to its parents)."""
        probe = tuple(path)
        while probe:
            found = self.positions.get(probe)
            if found is not None:
                return Location(str(self.path), found[0], found[1])
            probe = probe[:-1]
        found = self.positions.get(())
        line, column = found if found else (0, 0)
        return Location(str(self.path), line, column)


def read_source(path: Path) -> Source:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"cannot read file ({exc.strerror})", Location(str(path))) from None
    except UnicodeDecodeError:
        raise SourceError("not UTF-8 text", Location(str(path))) from None
    return parse_source(text, path)


# libyaml composes ten times faster and keeps the marks we need; the pure-Python loader is the fallback.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_source(text: str, path: Path) -> Source:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        source = Source(path=path, data=None)
        if node is not None:
            builder = _Builder(loader, source)
            source.data = builder.build(node, ())
        return source
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = Location(str(path), mark.line + 1, mark.column + 1) if mark else Location(str(path))
        problem = exc.problem or exc.context or "invalid YAML"
        raise SourceError(f"invalid YAML: {problem}", location) from None
    except yaml.YAMLError as exc:
        raise SourceError(f"invalid YAML: {exc}", Location(str(path))) from None
    finally:
        loader.dispose()


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, source: Source) -> None:
        self._loader = loader
        self._source = source
        self._count = 0
        self._open: set[int] = set()

    def build(self, node: yaml.Node, path: FieldPath) -> Any:
        self._count += 1
        if self._count > MAX_NODES:
            raise yaml.MarkedYAMLError(problem="document too large (alias expansion?)", problem_mark=node.start_mark)
        if id(node) in self._open:
            raise yaml.MarkedYAMLError(problem="an alias refers to itself", problem_mark=node.start_mark)
        self._open.add(id(node))
        try:
            return self._build(node, path)
        finally:
            self._open.discard(id(node))

    def _build(self, node: yaml.Node, path: FieldPath) -> Any:
        self._source.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            self._loader.flatten_mapping(node)
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self._loader.construct_object(key_node, deep=True)
                if not isinstance(key, str | int | float | bool) and key is not None:
                    raise yaml.MarkedYAMLError(problem="unhashable mapping key", problem_mark=key_node.start_mark)
                key_path = (*path, key if isinstance(key, str | int) else str(key))
                if key in result:
                    self._source.duplicate_keys.append(key_path)
                self._source.positions[key_path] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
                result[key] = self.build(value_node, key_path)
                # Point at the key, where a reader looks for the field.
                self._source.positions[key_path] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        return self._loader.construct_object(node, deep=True)
