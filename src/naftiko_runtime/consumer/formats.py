"""A consumed operation's raw answer decoded into a JSON value, as its `outputRawFormat` says.

The shapes follow the reference engine (naftiko/framework v1.0.0-alpha2, Jackson, jsoup and
commonmark underneath), so output parameters written for it map the same values here:

- json: the parsed document.
- xml: the root element's content (the root's own name is dropped). Child elements and attributes
  are keys (namespace prefixes dropped); an element repeated under one parent is an array; a leaf
  element is its text (`<a/>` is `""`); the text of an element that also has attributes or
  children is under the key `""`. Every value is a string.
- csv, tsv, psv: an array of objects keyed by the header row (`,`, tab, `|`; `"` quotes). Values
  are strings; a short row omits its missing columns, a row longer than the header is an error,
  blank lines are skipped.
- yaml: the first document, safely loaded; timestamps stay text, binary becomes base64.
- html: `{"tables": [[row, ...], ...]}`, the tables matched by the CSS selector in `outputSchema`
  (a matched element that is not a table contributes the tables inside it; default: every table).
  A table is a list of objects keyed by its header cells (the `th` of its first row); rows holding
  a `th` are skipped, a missing cell is `""`, a table without header text is left out.
- markdown: `{"frontMatter": {...}, "tables": [...], "sections": [{"heading", "level",
  "content"}, ...]}`. Top-level GFM tables as for html; a section per heading, its content the
  text of the blocks up to the next heading (tables left out). With `outputSchema`, only the
  sections whose heading text starts with it (`## Results` also works: level 2, text starting
  with `Results`); tables are not filtered.
- avro: one datum in Avro binary encoding, read with the `.avsc` named by `outputSchema`. Records
  are objects, a union is its value, an enum its symbol, bytes and fixed are base64, logical types
  are text (ISO 8601 for dates, times and timestamps).
- protobuf: one message of the first message type declared in the `.proto` named by `outputSchema`
  (compiled by protoc from grpcio-tools): the fields present, under their declared names; enums by
  name, bytes as base64, maps as objects, 64-bit integers as numbers.

Non-finite floats (YAML `.nan`, Avro and protobuf NaN or infinities) become the strings `"NaN"`,
`"Infinity"` and `"-Infinity"`, as in the protobuf JSON mapping. Schema paths are relative to the
capability file. An empty answer decodes to None.

`compile_decoder` runs at load time: it reads and compiles the schema file or the CSS selector
once. A problem found then (no `outputSchema`, a missing or broken schema file, a bad selector,
an unknown format) does not stop the file from loading: it is kept in `Decoder.load_problem`,
for the loader to warn about, and every `decode` raises it as a `FormatError`.

The libraries behind xml, html, markdown, avro and protobuf are imported inside the functions
that need them, not at the top of this module (an exception to the imports-at-top rule): importing
this module must not slow `naftiko validate` or `naftiko list`, and a capability that uses none of
those formats never loads them.
"""

from __future__ import annotations

import base64
import codecs
import csv
import datetime
import decimal
import functools
import io
import json
import math
import re
import struct
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from naftiko_runtime.json_depth import JsonTooDeep, bounded_loads

try:
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

FORMATS = ("json", "xml", "avro", "protobuf", "csv", "tsv", "psv", "yaml", "html", "markdown")
BINARY_FORMATS = frozenset({"avro", "protobuf"})

# How deep a decoded value may nest, and how many values an answer may expand to (YAML aliases
# share one value many times over): past these the answer is refused, not walked.
MAX_DEPTH = 256
MAX_VALUES = 1_000_000
# How long protoc may take to compile an `outputSchema` at load time.
PROTOC_TIMEOUT = 60.0


class FormatError(Exception):
    """An answer that cannot be decoded as its `outputRawFormat` says.

    The message names the format and what is wrong; it is safe to show a caller (it never quotes
    the answer beyond a position or a library's short reason)."""

    def __init__(self, message: str, output_format: str) -> None:
        super().__init__(message)
        self.output_format = output_format


Decode = Callable[[bytes, str], Any]


@dataclass(frozen=True)
class Decoder:
    """How one consumed operation's answers are decoded; made once, at load time."""

    output_format: str
    output_schema: str | None = None
    # Why every answer will fail to decode (the loader warns with it); None when ready.
    load_problem: str | None = None
    _decode: Decode | None = field(default=None, repr=False, compare=False)

    def decode(self, body: bytes, content_type: str) -> Any:
        """The answer as a JSON-compatible value; None for an empty answer."""
        if not body or (self.output_format not in BINARY_FORMATS and not body.strip()):
            return None
        if self._decode is None:
            raise FormatError(self.load_problem or f"{self.output_format}: no decoder", self.output_format)
        try:
            return self._decode(body, content_type)
        except RecursionError:
            raise FormatError(f"{self.output_format} answer is nested too deeply", self.output_format) from None


def compile_decoder(output_format: str, output_schema: str | None, base_dir: Path) -> Decoder:
    """The decoder for an operation's `outputRawFormat` and `outputSchema`.

    `base_dir` is the capability file's folder: schema paths are relative to it."""
    fmt = (output_format or "json").strip().lower()
    schema = output_schema.strip() if output_schema and output_schema.strip() else None
    compile_format = _COMPILERS.get(fmt)
    if compile_format is None:
        problem = f"unsupported outputRawFormat {output_format!r} (expected one of {', '.join(FORMATS)})"
        return Decoder(fmt, schema, load_problem=problem)
    try:
        decode = compile_format(fmt, schema, base_dir)
    except FormatError as exc:
        return Decoder(fmt, schema, load_problem=str(exc))
    return Decoder(fmt, schema, None, decode)


# --- text ------------------------------------------------------------------------------------

_CHARSET = re.compile(r";\s*charset\s*=\s*\"?([^\";\s]+)", re.IGNORECASE)


def _charset(content_type: str) -> str | None:
    match = _CHARSET.search(content_type or "")
    if match is None:
        return None
    try:
        return codecs.lookup(match.group(1)).name
    except LookupError:
        return None


def _text(body: bytes, content_type: str) -> str:
    """The answer as text: the charset the content type names, else UTF-8; a BOM dropped."""
    return body.decode(_charset(content_type) or "utf-8", "replace").removeprefix("\ufeff")


def _short(exc: BaseException | str, limit: int = 120) -> str:
    """A library's reason on one line, short enough never to carry much of the answer."""
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return reason if len(reason) <= limit else reason[: limit - 3] + "..."


# --- JSON values -----------------------------------------------------------------------------

_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def _number(value: float) -> float | str:
    return value if math.isfinite(value) else _NON_FINITE[repr(value)]


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool):
        return json.dumps(key)
    return str(key)


def _jsonable(value: Any, fmt: str) -> Any:
    """A decoded value made JSON-compatible, its size and depth bounded (aliases may share values)."""
    count = 0

    def walk(item: Any, depth: int) -> Any:
        nonlocal count
        count += 1
        if count > MAX_VALUES:
            raise FormatError(f"{fmt} answer expands to more than {MAX_VALUES} values (aliases?)", fmt)
        if depth > MAX_DEPTH:
            raise FormatError(f"{fmt} answer is nested more than {MAX_DEPTH} levels deep", fmt)
        if item is None or isinstance(item, str | bool | int):
            return item
        if isinstance(item, float):
            return _number(item)
        if isinstance(item, dict):
            mapping: dict[str, Any] = {}
            for key, member in item.items():
                mapping[_key(key)] = walk(member, depth + 1)
            return mapping
        if isinstance(item, list | tuple | set | frozenset):
            sequence: list[Any] = []
            for member in item:
                sequence.append(walk(member, depth + 1))
            return sequence
        if isinstance(item, bytes | bytearray | memoryview):
            return base64.b64encode(bytes(item)).decode("ascii")
        if isinstance(item, datetime.date | datetime.time):
            return item.isoformat()
        if isinstance(item, decimal.Decimal | uuid.UUID):
            return str(item)
        return str(item)

    return walk(value, 0)


# --- json ------------------------------------------------------------------------------------


def _compile_json(fmt: str, schema: str | None, base_dir: Path) -> Decode:
    def decode(body: bytes, content_type: str) -> Any:
        try:
            return bounded_loads(body)
        except JsonTooDeep as exc:
            raise FormatError(f"json answer is {exc}", fmt) from None
        except ValueError as exc:
            raise FormatError(f"json answer is not valid JSON ({_short(exc)})", fmt) from None

    return decode


# --- xml -------------------------------------------------------------------------------------

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _put(members: dict[str, Any], key: str, value: Any) -> None:
    """Add a member; a name seen twice under one parent becomes an array (XML values are never lists)."""
    if key not in members:
        members[key] = value
    elif isinstance(members[key], list):
        members[key].append(value)
    else:
        members[key] = [members[key], value]


def _xml_value(element: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise FormatError(f"xml answer is nested more than {MAX_DEPTH} levels deep", "xml")
    children = list(element)
    if not children and not element.attrib:
        return element.text or ""
    members: dict[str, Any] = {}
    for name, value in element.attrib.items():
        _put(members, _local(name), value)
    for child in children:
        if isinstance(child.tag, str):
            _put(members, _local(child.tag), _xml_value(child, depth + 1))
    for text in (element.text, *(child.tail for child in children)):
        if text and text.strip():
            _put(members, "", text)
    return members


def _compile_xml(fmt: str, schema: str | None, base_dir: Path) -> Decode:
    def decode(body: bytes, content_type: str) -> Any:
        # defusedxml refuses entity declarations and external references (no expansion bombs, no
        # network); it ships no type information.
        from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
        from defusedxml.ElementTree import ParseError, fromstring  # type: ignore[import-untyped]

        charset = _charset(content_type)
        # Without a charset the parser reads the XML declaration (or a BOM) itself.
        source: str | bytes = _XML_DECLARATION.sub("", _text(body, content_type), count=1) if charset else body
        try:
            root = fromstring(source, forbid_dtd=False, forbid_entities=True, forbid_external=True)
        except DefusedXmlException:
            raise FormatError("xml answer declares entities or references external ones (refused)", fmt) from None
        except ParseError as exc:
            line, column = getattr(exc, "position", (0, 0))
            raise FormatError(f"xml answer is not well-formed XML (line {line}, column {column + 1})", fmt) from None
        if len(root) == 0 and not root.attrib:
            text = root.text or ""
            return text if text.strip() else {}
        return _xml_value(root, 1)

    return decode


# --- delimited text --------------------------------------------------------------------------

_SEPARATORS = {"csv": ",", "tsv": "\t", "psv": "|"}


def _compile_delimited(fmt: str, schema: str | None, base_dir: Path) -> Decode:
    separator = _SEPARATORS[fmt]

    def decode(body: bytes, content_type: str) -> Any:
        reader = csv.reader(io.StringIO(_text(body, content_type), newline=""), delimiter=separator, quotechar='"')
        header: list[str] | None = None
        rows: list[dict[str, str]] = []
        try:
            for fields in reader:
                if not fields:
                    continue
                if header is None:
                    header = fields
                    continue
                if len(fields) > len(header):
                    raise FormatError(
                        f"{fmt} answer: line {reader.line_num} has {len(fields)} fields"
                        f" but the header names {len(header)} columns",
                        fmt,
                    )
                rows.append(dict(zip(header, fields, strict=False)))
        except csv.Error as exc:
            raise FormatError(f"{fmt} answer: line {reader.line_num}: {_short(exc)}", fmt) from None
        return rows

    return decode


# --- yaml ------------------------------------------------------------------------------------


class _YamlLoader(_SafeLoader):
    """Safe loading; timestamps stay the text they were (a JSON value has no date type)."""


def _timestamp_as_text(loader: _YamlLoader, node: yaml.Node) -> str:
    assert isinstance(node, yaml.ScalarNode)
    return loader.construct_scalar(node)


_YamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def _load_yaml(text: str, fmt: str, what: str) -> Any:
    loader = _YamlLoader(text)
    try:
        # The first document, as the reference engine reads it.
        node = loader.get_node() if loader.check_node() else None
        return None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise FormatError(f"{what} is not valid YAML{where}: {exc.problem or exc.context}", fmt) from None
    except yaml.YAMLError as exc:
        raise FormatError(f"{what} is not valid YAML: {_short(exc)}", fmt) from None
    except RecursionError:
        raise FormatError(f"{what} is nested too deeply", fmt) from None
    finally:
        loader.dispose()


def _compile_yaml(fmt: str, schema: str | None, base_dir: Path) -> Decode:
    def decode(body: bytes, content_type: str) -> Any:
        return _jsonable(_load_yaml(_text(body, content_type), fmt, "yaml answer"), fmt)

    return decode


# --- tables (html and markdown) --------------------------------------------------------------


def _table_rows(headers: list[str], rows: list[list[str]]) -> list[dict[str, str]] | None:
    """Rows as objects keyed by header (a missing cell is ""); None for a table with no header text."""
    headers = [header.strip() for header in headers]
    if not any(headers):
        return None
    table: list[dict[str, str]] = []
    for row in rows:
        table.append({header: row[index] if index < len(row) else "" for index, header in enumerate(headers)})
    return table


# --- html ------------------------------------------------------------------------------------

# Elements whose edges separate words in a cell's text, as a browser would show it.
_HTML_BLOCKS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "br", "dd", "details", "dialog", "div", "dl", "dt"),
        *("fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header"),
        *("hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot"),
        *("th", "thead", "tr", "ul"),
    }
)
_HTML_HIDDEN = frozenset({"script", "style", "template", "noscript"})


def _css(selector: str) -> Any:
    """A CSS selector compiled to an lxml XPath (case-insensitive names, as HTML wants)."""
    from cssselect import HTMLTranslator
    from lxml import etree  # type: ignore[import-untyped]

    return etree.XPath(HTMLTranslator().css_to_xpath(selector))


@functools.cache
def _fixed_css(selector: str) -> Any:
    """One of the selectors of table extraction, compiled on first use."""
    return _css(selector)


def _html_text(element: Any) -> str:
    """An element's text with whitespace collapsed and words kept apart at block edges."""
    from lxml import etree

    parts: list[str] = []
    for event, node in etree.iterwalk(element, events=("start", "end")):
        tag = node.tag if isinstance(node.tag, str) else ""
        hidden = tag.lower() in _HTML_HIDDEN
        if event == "start":
            if tag.lower() in _HTML_BLOCKS:
                parts.append(" ")
            if node.text and tag and not hidden:
                parts.append(node.text)
        else:
            if tag.lower() in _HTML_BLOCKS:
                parts.append(" ")
            if node.tail and node is not element:
                parts.append(node.tail)
    return " ".join("".join(parts).split())


def _html_table(table: Any) -> list[dict[str, str]] | None:
    header_cells = _fixed_css("thead tr:first-child th")(table) or _fixed_css("tr:first-child th")(table)
    headers = [_html_text(cell) for cell in header_cells]
    rows: list[list[str]] = []
    for row in _fixed_css("tbody tr")(table) or _fixed_css("tr")(table):
        if _fixed_css("th")(row):
            continue  # a header row
        cells = _fixed_css("td")(row)
        if cells:
            rows.append([_html_text(cell) for cell in cells])
    return _table_rows(headers, rows)


def _compile_html(fmt: str, schema: str | None, base_dir: Path) -> Decode:
    from cssselect import SelectorError

    scope: Any = None
    if schema is not None:
        try:
            scope = _css(schema)
        except SelectorError as exc:
            raise FormatError(f"html: outputSchema {schema!r} is not a usable CSS selector ({exc})", fmt) from None

    def decode(body: bytes, content_type: str) -> Any:
        # lxml's HTML parser caps nesting (256 levels) and never touches the network.
        from lxml import etree, html

        text = _XML_DECLARATION.sub("", _text(body, content_type), count=1)
        try:
            document = html.document_fromstring(text)
        except (etree.ParserError, ValueError) as exc:
            raise FormatError(f"html answer could not be parsed ({_short(exc)})", fmt) from None
        if scope is None:
            tables = list(_fixed_css("table")(document))
        else:
            tables = []
            for element in scope(document):
                if isinstance(element.tag, str) and element.tag.lower() == "table":
                    tables.append(element)
                elif isinstance(element.tag, str):
                    tables.extend(_fixed_css("table")(element))
        result: list[list[dict[str, str]]] = []
        seen: set[int] = set()
        for table in tables:
            if id(table) in seen:
                continue
            seen.add(id(table))
            rows = _html_table(table)
            if rows is not None:
                result.append(rows)
        return {"tables": result}

    return decode


# --- markdown --------------------------------------------------------------------------------

_HEADING_FILTER = re.compile(r"^(#{1,6})[ \t]+(.*)$")


def _section_matcher(section_filter: str | None) -> Callable[[str, int], bool]:
    """Which sections to keep: headings whose text starts with the filter. A filter written as a
    heading line (`## Results`) also wants that level."""
    if section_filter is None or not section_filter.strip():
        return lambda heading, level: True
    match = _HEADING_FILTER.match(section_filter)
    if match is None:
        return lambda heading, level: heading.startswith(section_filter)
    wanted_level, prefix = len(match.group(1)), match.group(2)
    return lambda heading, level: (
        heading.startswith(section_filter) or (level == wanted_level and heading.startswith(prefix))
    )


def _inline_text(token: Any) -> str:
    """The text of an inline token: literal text and code, soft breaks as spaces, hard ones as newlines."""
    parts: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "image":
            parts.append(_inline_text(child))
    return "".join(parts)


def _block_text(block: list[Any]) -> str:
    """A top-level block's text: its paragraphs (one per line) and code."""
    lines: list[str] = []
    for token in block:
        if token.type == "inline":
            text = _inline_text(token).strip()
        elif token.type in ("fence", "code_block"):
            text = token.content.strip()
        else:
            continue
        if text:
            lines.append(text)
    return "\n".join(lines)


def _top_level_blocks(tokens: list[Any]) -> list[list[Any]]:
    blocks: list[list[Any]] = []
    index = 0
    while index < len(tokens):
        start = index
        if tokens[index].nesting == 1:
            depth = 0
            while True:
                depth += tokens[index].nesting
                if depth == 0:
                    break
                index += 1
        blocks.append(tokens[start : index + 1])
        index += 1
    return blocks


def _markdown_table(block: list[Any]) -> list[dict[str, str]] | None:
    headers: list[str] = []
    rows: list[list[str]] = []
    row: list[str] | None = None
    in_head = False
    for token in block:
        if token.type == "thead_open":
            in_head = True
        elif token.type == "thead_close":
            in_head = False
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            if in_head:
                headers = headers or row
            else:
                rows.append(row)
            row = None
        elif token.type == "inline" and row is not None:
            row.append(_inline_text(token).strip())
    return _table_rows(headers, rows)


def _front_matter(markdown: str, fmt: str) -> tuple[dict[str, Any], str]:
    """YAML front matter (`---` lines around it, at the very start) and the body after it."""
    if markdown.startswith("---\n"):
        end = markdown.find("\n---\n", 4)
        if end > -1:
            data = _load_yaml(markdown[4:end], fmt, "markdown front matter")
            front = _jsonable(data, fmt)
            return (front if isinstance(front, dict) else {}), markdown[end + 5 :]
    return {}, markdown


def _compile_markdown(fmt: str, schema: str | None, base_dir: Path) -> Decode:
    keep = _section_matcher(schema)

    def decode(body: bytes, content_type: str) -> Any:
        from markdown_it import MarkdownIt

        front, markdown = _front_matter(_text(body, content_type).replace("\r\n", "\n"), fmt)
        # CommonMark with GFM tables; markdown-it caps block nesting (maxNesting).
        tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
        tables: list[list[dict[str, str]]] = []
        sections: list[dict[str, Any]] = []
        heading: tuple[str, int] | None = None
        content: list[str] = []

        def close_section() -> None:
            if heading is not None and keep(*heading):
                sections.append({"heading": heading[0], "level": heading[1], "content": "\n".join(content).strip()})

        for block in _top_level_blocks(tokens):
            kind = block[0].type
            if kind == "table_open":
                table = _markdown_table(block)
                if table is not None:
                    tables.append(table)
            elif kind == "heading_open":
                close_section()
                heading, content = (_block_text(block), int(block[0].tag[1:])), []
            elif heading is not None:
                text = _block_text(block)
                if text:
                    content.append(text)
        close_section()
        return {"frontMatter": front, "tables": tables, "sections": sections}

    return decode


# --- schema files ----------------------------------------------------------------------------


def _schema_file(fmt: str, schema: str | None, base_dir: Path, kind: str) -> Path:
    if schema is None:
        raise FormatError(f"{fmt}: outputRawFormat {fmt} needs outputSchema, the path of {kind}", fmt)
    path = Path(schema)
    if not path.is_absolute():
        path = base_dir / path
    if not path.is_file():
        raise FormatError(f"{fmt}: outputSchema {schema!r} not found (paths are relative to the capability file)", fmt)
    return path


def _read_schema(fmt: str, schema: str, path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(f"{fmt}: outputSchema {schema!r} cannot be read ({_short(exc)})", fmt) from None


# --- avro ------------------------------------------------------------------------------------

_AVRO_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})


def _refers_by_name(schema: Any) -> bool:
    """Whether a parsed Avro schema names a type it defines elsewhere: the only way to recurse."""
    pending = [schema]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if item not in _AVRO_PRIMITIVES:
                return True
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            kind = item.get("type")
            if kind in ("record", "error"):
                pending.extend(member.get("type") for member in item.get("fields", ()))
            elif kind == "array":
                pending.append(item.get("items"))
            elif kind == "map":
                pending.append(item.get("values"))
            elif isinstance(kind, dict | list):
                pending.append(kind)
    return False


def _compile_avro(fmt: str, schema: str | None, base_dir: Path) -> Decode:
    import fastavro
    from fastavro.schema import SchemaParseException, UnknownType

    path = _schema_file(fmt, schema, base_dir, "an Avro schema (.avsc) file")
    assert schema is not None
    try:
        parsed = fastavro.parse_schema(json.loads(_read_schema(fmt, schema, path)))
    except (ValueError, TypeError, KeyError, AttributeError, SchemaParseException, UnknownType) as exc:
        raise FormatError(f"avro: outputSchema {schema!r} is not a valid Avro schema ({_short(exc)})", fmt) from None
    schemaless_reader: Callable[..., Any] = fastavro.schemaless_reader
    if _refers_by_name(parsed):
        # A schema that can recurse is read by fastavro's pure-Python reader: the compiled one
        # recurses on the C stack, so a deep enough answer would crash the process.
        from fastavro import _read_py

        schemaless_reader = _read_py.schemaless_reader

    def decode(body: bytes, content_type: str) -> Any:
        stream = io.BytesIO(body)
        try:
            datum = schemaless_reader(stream, parsed, None)
        except RecursionError:
            raise FormatError("avro answer is nested too deeply", fmt) from None
        except Exception as exc:  # fastavro fails on a foreign payload with any kind of error
            raise FormatError(f"avro answer does not match outputSchema {schema!r} ({_short(exc)})", fmt) from None
        left = len(body) - stream.tell()
        if left:
            container = body[:4] == b"Obj\x01"
            hint = " (an Avro object container file? one binary-encoded datum is expected)" if container else ""
            raise FormatError(
                f"avro answer has {left} bytes past the datum outputSchema {schema!r} describes{hint}", fmt
            )
        return _jsonable(datum, fmt)

    return decode


# --- protobuf --------------------------------------------------------------------------------


def _float32(value: float) -> float | str:
    """A 32-bit float as the shortest decimal that reads back to it (0.1, not 0.10000000149011612)."""
    if not math.isfinite(value):
        return _number(value)
    packed = struct.pack("<f", value)
    for digits in range(6, 10):
        shortest = float(f"{value:.{digits}g}")
        if struct.pack("<f", shortest) == packed:
            return shortest
    return value


def _proto_value(field_descriptor: Any, value: Any, depth: int) -> Any:
    kind = field_descriptor.type
    if kind in (field_descriptor.TYPE_MESSAGE, field_descriptor.TYPE_GROUP):
        return _proto_message(value, depth + 1)
    if kind == field_descriptor.TYPE_ENUM:
        known = field_descriptor.enum_type.values_by_number.get(value)
        return known.name if known is not None else value
    if kind == field_descriptor.TYPE_BYTES:
        return base64.b64encode(value).decode("ascii")
    if kind == field_descriptor.TYPE_FLOAT:
        return _float32(value)
    if kind == field_descriptor.TYPE_DOUBLE:
        return _number(value)
    return value


def _is_repeated(field_descriptor: Any) -> bool:
    repeated = getattr(field_descriptor, "is_repeated", None)
    if repeated is None:  # protobuf before 6.30
        return bool(field_descriptor.label == field_descriptor.LABEL_REPEATED)
    return bool(repeated)


def _proto_message(message: Any, depth: int) -> dict[str, Any]:
    if depth > MAX_DEPTH:
        raise FormatError(f"protobuf answer is nested more than {MAX_DEPTH} levels deep", "protobuf")
    members: dict[str, Any] = {}
    for field_descriptor, value in message.ListFields():
        name = f"[{field_descriptor.full_name}]" if field_descriptor.is_extension else field_descriptor.name
        entry = field_descriptor.message_type
        if entry is not None and entry.GetOptions().map_entry:
            value_field = entry.fields_by_name["value"]
            members[name] = {_key(key): _proto_value(value_field, item, depth) for key, item in value.items()}
        elif _is_repeated(field_descriptor):
            members[name] = [_proto_value(field_descriptor, item, depth) for item in value]
        else:
            members[name] = _proto_value(field_descriptor, value, depth)
    return members


def _compile_proto_file(fmt: str, schema: str, path: Path, base_dir: Path) -> bytes:
    """The FileDescriptorSet protoc makes of the file (imports included), or the errors it reports."""
    _read_schema(fmt, schema, path)  # unreadable files fail here, with a plain message
    with tempfile.TemporaryDirectory(prefix="naftiko-protoc-") as scratch:
        out = Path(scratch) / "schema.pb"
        # grpc_tools.protoc adds the well-known types (google/protobuf/*.proto) to the import path.
        command = [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            "--proto_path=.",
            f"--proto_path={base_dir.resolve()}",
            "--include_imports",
            f"--descriptor_set_out={out}",
            path.name,
        ]
        try:
            done = subprocess.run(
                command, cwd=path.parent, capture_output=True, text=True, timeout=PROTOC_TIMEOUT, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise FormatError(f"protobuf: outputSchema {schema!r} could not be compiled ({_short(exc)})", fmt) from None
        if done.returncode != 0 or not out.is_file():
            errors = "; ".join(line.strip() for line in done.stderr.splitlines() if line.strip())
            if "No module named grpc_tools" in errors:
                errors = "grpcio-tools is not installed"
            raise FormatError(f"protobuf: outputSchema {schema!r} does not compile: {_short(errors, 300)}", fmt)
        return out.read_bytes()


def _compile_protobuf(fmt: str, schema: str | None, base_dir: Path) -> Decode:
    from google.protobuf import (  # type: ignore[import-untyped]
        descriptor_pb2,
        descriptor_pool,
        message,
        message_factory,
    )

    path = _schema_file(fmt, schema, base_dir, "a Protocol Buffers (.proto) file")
    assert schema is not None
    files = descriptor_pb2.FileDescriptorSet.FromString(_compile_proto_file(fmt, schema, path, base_dir)).file
    main = next((file for file in files if file.name == path.name), None)
    if main is None or not main.message_type:
        raise FormatError(f"protobuf: outputSchema {schema!r} declares no message type", fmt)
    # The first message type declared is the answer's type, as in the reference engine.
    full_name = f"{main.package}.{main.message_type[0].name}" if main.package else main.message_type[0].name
    pool = descriptor_pool.DescriptorPool()  # a pool of our own: files of other capabilities never clash
    try:
        for file in files:
            pool.Add(file)
        message_class = message_factory.GetMessageClass(pool.FindMessageTypeByName(full_name))
    except (TypeError, KeyError, ValueError) as exc:
        raise FormatError(f"protobuf: outputSchema {schema!r} cannot be loaded ({_short(exc)})", fmt) from None

    def decode(body: bytes, content_type: str) -> Any:
        try:
            parsed = message_class.FromString(body)
        except message.DecodeError as exc:
            raise FormatError(f"protobuf answer is not a {full_name} message ({_short(exc)})", fmt) from None
        return _proto_message(parsed, 0)

    return decode


_COMPILERS: dict[str, Callable[[str, str | None, Path], Decode]] = {
    "json": _compile_json,
    "xml": _compile_xml,
    "csv": _compile_delimited,
    "tsv": _compile_delimited,
    "psv": _compile_delimited,
    "yaml": _compile_yaml,
    "html": _compile_html,
    "markdown": _compile_markdown,
    "avro": _compile_avro,
    "protobuf": _compile_protobuf,
}
