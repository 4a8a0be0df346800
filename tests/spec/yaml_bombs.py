"""A YAML alias bomb: a few lines that expand to a million nodes."""

from __future__ import annotations

ALIAS_BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}' if previous else '0'] * 10)}]\n"
    for previous, name in zip(["", "a", "b", "c", "d", "e"], ["a", "b", "c", "d", "e", "f"], strict=True)
)
