"""Which files to serve: capability files given as paths, or found in directories.

A directory is searched recursively for YAML files whose top level has `naftiko` and a
`capability`. Shared consumes files, bind files and OpenAPI documents found there are used where
capabilities reference them and are never reported; any other YAML file is skipped with a
warning that names it (and never quotes its contents).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from naftiko_runtime.diagnostics import Diagnostic, Location, Severity
from naftiko_runtime.spec.source import Source, SourceError, read_source

_YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(slots=True)
class Discovery:
    capabilities: list[Path] = field(default_factory=list)
    skipped: list[Diagnostic] = field(default_factory=list)
    # Found by searching a directory (not named): one that fails to load is skipped, not fatal.
    found_in_directories: set[Path] = field(default_factory=set)
    # Files found in directories were read to recognise them; loading reuses what was read.
    sources: dict[Path, Source] = field(default_factory=dict)


def discover(paths: Sequence[Path]) -> Discovery:
    found = Discovery()
    for path in paths:
        if not path.is_dir():
            found.capabilities.append(path)
            continue
        candidates: dict[Path, Source] = {}
        unreadable: list[Path] = []
        files = (p for p in path.rglob("*") if p.suffix in _YAML_SUFFIXES and _visible(p, path) and p.is_file())
        for file in sorted(files):
            try:
                candidates[file] = read_source(file)
            except SourceError:
                unreadable.append(file)
        referenced = {ref for s in candidates.values() if _is_capability(s.data) for ref in _references(s.data)}
        for file, source in candidates.items():
            data = source.data
            if _is_capability(data):
                found.capabilities.append(file)
                found.found_in_directories.add(file)
                found.sources[file] = source
            elif not _is_companion(data) and not _is_referenced(file, referenced):
                why = "not a Naftiko capability (no top-level 'naftiko' and 'capability')"
                found.skipped.append(_skipped(file, why))
        found.skipped.extend(_skipped(file, "not readable YAML") for file in unreadable)
    return found


def _visible(file: Path, root: Path) -> bool:
    """Hidden entries below the root are skipped: a Kubernetes ConfigMap volume holds each file twice,
    once more under `..<timestamp>/`."""
    return not any(part.startswith(".") for part in file.relative_to(root).parts)


def _is_capability(data: Any) -> bool:
    return isinstance(data, dict) and "naftiko" in data and "capability" in data


def _is_companion(data: Any) -> bool:
    """Shared consumes files and OpenAPI documents: used where referenced, never listed."""
    return isinstance(data, dict) and ("naftiko" in data or "openapi" in data or "swagger" in data)


def _references(data: dict[str, Any]) -> list[str]:
    capability: dict[str, Any] = data["capability"] if isinstance(data.get("capability"), dict) else {}
    binds = [*(data.get("binds") or []), *(capability.get("binds") or [])]
    imports = capability.get("consumes") or []
    return [
        str(entry["location"])
        for entry in [*binds, *imports]
        if isinstance(entry, dict) and isinstance(entry.get("location"), str)
    ]


def _is_referenced(file: Path, references: set[str]) -> bool:
    # A reference is relative to the capability that makes it, which may sit anywhere in the tree;
    # the referenced file's name with its parent directory is enough to recognise a bind file.
    for reference in references:
        raw = unquote(urlsplit(reference).path) if "://" in reference else reference
        parts = [part for part in Path(raw).parts if part not in ("/", ".", "..")]
        if parts and file.as_posix().endswith("/" + "/".join(parts[-2:])):
            return True
    return False


def _skipped(file: Path, why: str) -> Diagnostic:
    return Diagnostic(Severity.WARNING, f"{why}; skipped", Location(str(file)), code="not-a-capability")
