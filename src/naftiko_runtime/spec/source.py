"""YAML text to plain data, remembering where every field came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from naftiko_runtime.diagnostics import FieldPath, Location

# A capability file holds a few thousand nodes (the largest of the corpus: 8,000). Past these limits a
# document is refused before it is built: a "billion laughs" of aliases, or nesting that would
# exhaust the stack, fails with a message instead of eating memory or crashing.
MAX_NODES = 250_000  # after alias expansion
MAX_DEPTH = 128
# Below this size, and without anchors, a document cannot hold more than MAX_NODES nodes.
_SMALL = 2 * MAX_NODES


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


def check_yaml_limits(text: str, path: Path) -> None:
    """Refuse (SourceError) a YAML text that would expand beyond the node or depth limits; cheap for small texts."""
    if len(text) > _SMALL or "&" in text:
        _check_expansion(text, path)


def parse_source(text: str, path: Path) -> Source:
    check_yaml_limits(text, path)
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


_COLLECTION_STARTS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_COLLECTION_ENDS = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def _check_expansion(text: str, path: Path) -> None:
    """Count nodes as aliases expand them, from parser events (no tree built), stopping at the limits."""
    limits = ExpansionLimits(path)
    try:
        for event in yaml.parse(text, Loader=_Loader):
            limits.see(event)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = Location(str(path), mark.line + 1, mark.column + 1) if mark else Location(str(path))
        raise SourceError(f"invalid YAML: {exc.problem or exc.context or 'invalid YAML'}", location) from None
    except yaml.YAMLError as exc:
        raise SourceError(f"invalid YAML: {exc}", Location(str(path))) from None


class ExpansionLimits:
    """Told each parser event in turn: refuses (SourceError) the one past the node or depth limits."""

    __slots__ = ("_anchored", "_open", "_path", "_total")

    def __init__(self, path: Path) -> None:
        self._path = path
        # Per open collection: its anchor, its expanded size and depth so far; per anchor, what it expands to.
        self._open: list[list[Any]] = []
        self._anchored: dict[str, tuple[int, int]] = {}
        self._total = 0

    def see(self, event: yaml.Event) -> None:
        open_collections = self._open
        if isinstance(event, _COLLECTION_STARTS):
            open_collections.append([event.anchor, 1, 1])
            size, depth = 1, 1
        elif isinstance(event, _COLLECTION_ENDS):
            anchor, size, depth = open_collections.pop()
            if anchor:
                self._anchored[anchor] = (size, depth)
            size -= 1  # the collection itself was counted when it opened
        elif isinstance(event, yaml.ScalarEvent):
            size, depth = 1, 1
            if event.anchor:
                self._anchored[event.anchor] = (1, 1)
        elif isinstance(event, yaml.AliasEvent):
            size, depth = self._anchored.get(event.anchor or "", (1, 1))
        else:
            return
        self._total += size
        if open_collections:
            parent = open_collections[-1]
            parent[1] += size
            parent[2] = max(parent[2], depth + 1)
        if self._total > MAX_NODES:
            raise _refused(event, self._path, f"document too large (over {MAX_NODES} nodes once aliases are expanded)")
        if len(open_collections) + depth > MAX_DEPTH:
            raise _refused(event, self._path, f"nested too deeply (over {MAX_DEPTH} levels, aliases expanded)")


def _refused(event: yaml.Event, path: Path, problem: str) -> SourceError:
    mark = event.start_mark
    where = Location(str(path), mark.line + 1, mark.column + 1) if mark is not None else Location(str(path))
    return SourceError(f"invalid YAML: {problem}", where)


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, source: Source) -> None:
        self._loader = loader
        self._source = source
        self._count = 0
        self._open: set[int] = set()

    def build(self, node: yaml.Node, path: FieldPath) -> Any:
        self._count += 1
        if self._count > MAX_NODES:
            problem = f"document too large (over {MAX_NODES} nodes once aliases are expanded)"
            raise yaml.MarkedYAMLError(problem=problem, problem_mark=node.start_mark)
        if len(path) > MAX_DEPTH:
            problem = f"nested too deeply (over {MAX_DEPTH} levels)"
            raise yaml.MarkedYAMLError(problem=problem, problem_mark=node.start_mark)
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
