"""OpenAPI path templates matched against request paths, one decoded segment at a time.

Splitting the raw path on `/` before percent-decoding keeps an encoded slash (`%2F`) inside the
one parameter value it belongs to.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

_PARAMETER = re.compile(r"\{([^{}]+)\}")

Segments = tuple[str, ...]


def split_path(raw_path: str) -> Segments:
    """Decoded segments of a raw path; `/a/b/` and `/a/b` give the same."""
    parts = raw_path.split("/")
    if len(parts) > 2 and parts[-1] == "":
        parts.pop()
    return tuple(unquote(part) for part in parts)


def strip_prefix(segments: Segments, prefix: Segments) -> Segments | None:
    """`segments` without the base path `prefix` (both from `split_path`), or None if it does not start so."""
    if len(prefix) <= 1 or segments[: len(prefix)] != prefix:
        return None
    return ("", *segments[len(prefix) :]) if len(segments) > len(prefix) else ("", "")


@dataclass(frozen=True)
class PathTemplate:
    template: str
    names: tuple[str, ...]
    _segments: tuple[str | re.Pattern[str], ...]
    _group_names: tuple[tuple[str, ...], ...]

    @property
    def precedence(self) -> tuple[int, int]:
        """Concrete paths before templated ones, then longer literal text first."""
        literal = sum(len(s) for s in self._segments if isinstance(s, str))
        return (len(self.names), -literal)

    def match(self, segments: Sequence[str]) -> dict[str, str] | None:
        if len(segments) != len(self._segments):
            return None
        values: dict[str, str] = {}
        for expected, actual, names in zip(self._segments, segments, self._group_names, strict=True):
            if isinstance(expected, str):
                if expected != actual:
                    return None
                continue
            found = expected.fullmatch(actual)
            if found is None:
                return None
            values.update(zip(names, found.groups(), strict=True))
        return values


def compile_path(template: str) -> PathTemplate:
    segments: list[str | re.Pattern[str]] = []
    group_names: list[tuple[str, ...]] = []
    for part in split_path(template):
        names = tuple(_PARAMETER.findall(part))
        group_names.append(names)
        if not names:
            segments.append(part)
            continue
        pieces = _PARAMETER.split(part)  # literal, name, literal, name, ..., literal
        pattern = "".join(
            re.escape(piece) if i % 2 == 0 else ("(.+)" if len(names) == 1 else "(.+?)")
            for i, piece in enumerate(pieces)
        )
        segments.append(re.compile(pattern, re.DOTALL))
    return PathTemplate(
        template=template,
        names=tuple(name for names in group_names for name in names),
        _segments=tuple(segments),
        _group_names=tuple(group_names),
    )
