"""Names in a generated capability: kebab-case identifiers, unique and stable, and variable names."""

from __future__ import annotations

import re
import unicodedata

# Where a camelCase or PascalCase word ends: `getHTTPResponse` -> get|HTTP|Response.
_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_KEBAB = re.compile(r"[^a-z0-9]+")
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_-]+")
_NOT_VARIABLE = re.compile(r"[^A-Z0-9]+")
IDENTIFIER = re.compile(r"^[A-Za-z0-9_*-]+$")
# Many MCP clients refuse longer tool names.
TOOL_NAME_LIMIT = 64


def kebab_case(text: str) -> str:
    """`GetCheckApiKey` -> `get-check-api-key`; accents dropped, anything else a separator."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_KEBAB.sub("-", _WORD_BOUNDARY.sub("-", ascii_text).lower()).strip("-")


def identifier(name: str) -> str:
    """A parameter name usable as an official identifier (`user.id` -> `user_id`)."""
    return _NOT_IDENTIFIER.sub("_", name).strip("_") or "value"


def shorten(name: str, limit: int) -> str:
    """`name` cut to `limit` characters at a word boundary when it is longer."""
    if len(name) <= limit:
        return name
    cut = name[:limit]
    return cut[: cut.rfind("-")] if "-" in cut[1:] else cut


def variable_prefix(namespace: str) -> str:
    """`pet-store` -> `PET_STORE`; an environment variable name must start with a letter."""
    prefix = _NOT_VARIABLE.sub("_", namespace.upper()).strip("_")
    return prefix if prefix[:1].isalpha() else f"API_{prefix}".rstrip("_")


class UniqueNames:
    """Hands out names once: a repeated wish gets `-2`, `-3`... in the order asked (so stable)."""

    def __init__(self, limit: int | None = None) -> None:
        self._taken: set[str] = set()
        self._limit = limit

    def claim(self, wanted: str) -> str:
        base = shorten(wanted, self._limit) if self._limit else wanted
        name, number = base, 1
        while name in self._taken:
            number += 1
            suffix = f"-{number}"
            stem = shorten(base, self._limit - len(suffix)) if self._limit else base
            name = stem + suffix
        self._taken.add(name)
        return name
