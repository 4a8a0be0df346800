"""Reading an OpenAPI 3.x document and following its local `$ref`s."""

from __future__ import annotations

import json
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from naftiko_runtime.openapi_schema import resolve_local_ref
from naftiko_runtime.spec.source import ExpansionLimits, SourceError, check_yaml_limits

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
        if json_only:
            data = json.loads(text)
        else:
            data = _load_in_one_pass(text, Path(source))
            if data is _UNSURE:
                check_yaml_limits(text, Path(source))
                data = yaml.load(text, Loader=_DocumentLoader)
    except SourceError as exc:
        raise MockDocumentError(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise MockDocumentError(f"{source}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    except yaml.YAMLError as exc:
        raise MockDocumentError(f"{source}: not valid YAML: {_describe_yaml_error(exc)}") from None
    if not isinstance(data, dict):
        raise MockDocumentError(f"{source}: not an OpenAPI document (expected a mapping at the top)")
    return data


_UNSURE: Any = object()
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
# Keys whose meaning depends on the mapping around them (`<<: *base`, `=`): left to the full loader.
_CONTEXT_TAGS = frozenset({"tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"})
_NO_KEY: Any = object()


def _load_in_one_pass(text: str, path: Path) -> Any:
    """The document built straight from the parser's events, the limits of `check_yaml_limits`
    counted on the way: one parse, and no node tree (a few times the size of the data) in memory.

    Only plain mappings, lists and scalars are built here; anything else (merge keys, tags of
    other collections, complex keys, aliases that are undefined, repeated or inside their own
    anchor, several documents, any error) gives `_UNSURE`, and the two passes of before (limits,
    then the full loader) load the text or say what is wrong with it, exactly as they always did.
    """
    loader = _DocumentLoader(text)
    limits = ExpansionLimits(path)
    anchors: dict[str, Any] = {}
    open_anchors: set[str] = set()
    # Per open collection: [container, anchor, key waiting for its value (mappings)].
    stack: list[list[Any]] = []
    document: Any = None
    documents = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            limits.see(event)
            if isinstance(event, yaml.ScalarEvent):
                value = _scalar(loader, event)
                if value is _UNSURE:
                    return _UNSURE
                anchor = event.anchor
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors or event.anchor in open_anchors:
                    return _UNSURE
                value, anchor = anchors[event.anchor], None
            elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                is_mapping = isinstance(event, yaml.MappingStartEvent)
                tag = event.tag
                if tag is None or tag == "!":
                    tag = loader.resolve(yaml.MappingNode if is_mapping else yaml.SequenceNode, None, event.implicit)
                if tag != (_MAP_TAG if is_mapping else _SEQ_TAG):
                    return _UNSURE
                value, anchor = ({} if is_mapping else []), event.anchor
                if anchor is not None:
                    open_anchors.add(anchor)
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                anchor = stack.pop()[1]
                if anchor is not None:
                    open_anchors.discard(anchor)
                continue
            else:
                if isinstance(event, yaml.DocumentStartEvent):
                    documents += 1
                    if documents > 1:
                        return _UNSURE
                continue
            if anchor is not None:
                if anchor in anchors:
                    return _UNSURE
                anchors[anchor] = value
            if not stack:
                document = value
            else:
                frame = stack[-1]
                container, key = frame[0], frame[2]
                if isinstance(container, list):
                    container.append(value)
                elif key is _NO_KEY:
                    if isinstance(value, dict | list):  # a complex key
                        return _UNSURE
                    hash(value)
                    frame[2] = value
                else:
                    container[key] = value
                    frame[2] = _NO_KEY
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                stack.append([value, event.anchor, _NO_KEY])
    except Exception:  # any error: the full loader says what it is, in its own words
        return _UNSURE
    finally:
        loader.dispose()
    return document


def _scalar(loader: _DocumentLoader, event: yaml.ScalarEvent) -> Any:
    """The value of a scalar event, as the full loader constructs it; `_UNSURE` for a context tag."""
    tag = event.tag
    if tag is None or tag == "!":
        tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
    constructor = loader.yaml_constructors.get(tag)
    if tag in _CONTEXT_TAGS or constructor is None:
        return _UNSURE
    # No marks: a constructor's error is not shown from here (the full loader tells it).
    value = constructor(loader, yaml.ScalarNode(tag, event.value, None, None, event.style))
    return _UNSURE if isinstance(value, types.GeneratorType) else value


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
