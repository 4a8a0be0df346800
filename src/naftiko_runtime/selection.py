"""Choosing what is served: `--include-tools`, `--exclude-tools` and `--read-only` cut a catalogue.

A merged catalogue can hold more tools than a client takes, so the cut happens once, at load,
before ports are grouped: what is left out is never listed, never callable and never counted.
A tool is named by a glob (fnmatch, case-sensitive) through its own name or its prefixed name
`<file-stem>.<name>`, with or without `--prefix-tools`. `--read-only` keeps the tools hinted
read-only and the GET and HEAD routes; forwards relay every method, so it drops them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import translate

from naftiko_runtime.capability import Adapter, CompiledCapability
from naftiko_runtime.diagnostics import Diagnostic, Location, Severity
from naftiko_runtime.engine import Action

READ_METHODS = frozenset({"GET", "HEAD"})
COMMAND_LINE = Location("command line")


@dataclass(frozen=True, slots=True)
class Selection:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    read_only: bool = False

    @property
    def active(self) -> bool:
        return bool(self.include or self.exclude or self.read_only)


@dataclass(frozen=True, slots=True)
class _Glob:
    flag: str
    text: str
    pattern: re.Pattern[str]

    def matches(self, names: tuple[str, ...]) -> bool:
        return any(self.pattern.match(name) for name in names)


def apply_selection(capabilities: Sequence[CompiledCapability], selection: Selection) -> list[Diagnostic]:
    """Drop from each adapter what `selection` leaves out; warnings for globs that match no tool."""
    if not selection.active:
        return []
    include = [_glob("--include-tools", text) for text in selection.include]
    exclude = [_glob("--exclude-tools", text) for text in selection.exclude]
    unmatched = {glob: None for glob in [*include, *exclude]}
    diagnostics: list[Diagnostic] = []
    tools_before = tools_after = 0
    for capability in capabilities:
        stem = capability.path.stem
        for adapter in capability.adapters:
            if adapter.type == "mcp":
                tools_before += len(adapter.actions)
                kept = []
                for action in adapter.actions:
                    names = (action.name, f"{stem}.{action.name}")
                    hits = [glob for glob in [*include, *exclude] if glob.matches(names)]
                    for glob in hits:
                        unmatched.pop(glob, None)
                    if _keeps_tool(action, hits, bool(include), selection.read_only):
                        kept.append(action)
                adapter.actions = kept
                tools_after += len(kept)
            elif adapter.type == "rest" and selection.read_only:
                adapter.actions = [action for action in adapter.actions if action.method in READ_METHODS]
                diagnostics.extend(_drop_forwards(adapter))
    diagnostics.extend(
        Diagnostic(Severity.WARNING, f"{glob.flag} '{glob.text}' matches no tool", COMMAND_LINE, code="unmatched-glob")
        for glob in unmatched
    )
    if tools_before and not tools_after:
        diagnostics.append(
            Diagnostic(
                Severity.WARNING,
                f"the tool selection leaves none of the {tools_before} tools",
                COMMAND_LINE,
                code="no-tools",
            )
        )
    return diagnostics


def _keeps_tool(action: Action, hits: list[_Glob], filtered: bool, read_only: bool) -> bool:
    if read_only and not action.hints.read_only:
        return False
    if filtered and not any(glob.flag == "--include-tools" for glob in hits):
        return False
    return not any(glob.flag == "--exclude-tools" for glob in hits)


def _drop_forwards(adapter: Adapter) -> list[Diagnostic]:
    dropped = [
        Diagnostic(
            Severity.WARNING,
            f"forward {forward.path} of REST adapter '{adapter.namespace}' relays every method; "
            "not served with --read-only",
            COMMAND_LINE,
            code="read-only-forward",
        )
        for forward in adapter.forwards
    ]
    adapter.forwards = []
    return dropped


def _glob(flag: str, text: str) -> _Glob:
    return _Glob(flag, text, re.compile(translate(text)))
