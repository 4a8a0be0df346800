"""MCP tool names: what the protocol allows (SEP-986) and what clients accept.

A name the rule refuses is served sanitised (each other character becomes `_`, cut at 128) with
a warning saying the served name, rather than failing the whole file: the REST routes and the
other tools of the file keep working, and the warning says what to rename.
"""

from __future__ import annotations

import re

VALID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_OTHER = re.compile(r"[^A-Za-z0-9._-]")
MAX_LENGTH = 128
# Several clients refuse or cut longer names (tool names are often prefixed by the server's name).
CLIENT_LENGTH = 64


def served_name(name: str) -> tuple[str, list[str]]:
    """The name to serve and the remarks (warnings) about it."""
    remarks: list[str] = []
    served = name
    if not VALID.match(name):
        served = _OTHER.sub("_", name)[:MAX_LENGTH] or "_"
        remarks.append(f"tool name '{name}' breaks the MCP rule ^[A-Za-z0-9._-]{{1,128}}$; it is served as '{served}'")
    if len(served) > CLIENT_LENGTH:
        remarks.append(f"tool name '{served}' is {len(served)} characters; several clients accept at most 64")
    return served, remarks
