"""JSON read with its nesting depth bounded, so no document can make the runtime recurse too deep.

Deeply nested JSON ( `[[[[...` ) is cheap to send and costly to process: parsers, schema checks
and mappings recurse once per level. Documents nested deeper than `MAX_JSON_DEPTH` are refused
before they are parsed. The check runs in C-speed bytes operations, and only when a document
has more brackets than the limit at all.
"""

from __future__ import annotations

import json
from typing import Any

# The default of System.Text.Json; real APIs stay far below it.
MAX_JSON_DEPTH = 64

_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_STRUCTURE = bytes(set(range(256)) - set(b'"[]{}'))


class JsonTooDeep(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"JSON nested more than {limit} levels deep")


def bounded_loads(data: bytes | str, limit: int = MAX_JSON_DEPTH) -> Any:
    """`json.loads`, refusing documents nested deeper than `limit` with `JsonTooDeep` (a ValueError)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if too_deep(raw, limit):
        raise JsonTooDeep(limit)
    try:
        return json.loads(data)
    except RecursionError:
        raise JsonTooDeep(limit) from None


def too_deep(data: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the arrays and objects of a JSON document nest deeper than `limit`."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    if b"\\" in data:
        # Escapes first, so that an escaped quote does not end a string.
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Only quotes and brackets left; dropping adjacent quotes keeps each one's parity, so what
    # remains between an odd and an even quote is string content.
    shape = data.translate(_BRACKETS, _NOT_STRUCTURE).replace(b'""', b"")
    if b'"' in shape:
        shape = b"".join(shape.split(b'"')[::2])
    # Each pass removes the innermost pairs: the passes needed to empty it are the depth.
    for _ in range(limit):
        shorter = shape.replace(b"[]", b"")
        if len(shorter) == len(shape):
            # Empty: within the limit. Unbalanced: not JSON, and the parser says so, unless it is long.
            return len(shape) > limit
        shape = shorter
    return bool(shape)
