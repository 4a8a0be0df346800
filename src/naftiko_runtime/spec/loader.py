"""Capability file -> `Document` model, with every finding placed at file:line:column."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from naftiko_runtime.diagnostics import CapabilityError, Diagnostic, FieldPath, Location, Severity
from naftiko_runtime.spec.imports import resolve_imports
from naftiko_runtime.spec.models import Document
from naftiko_runtime.spec.source import Source, SourceError, read_source

KNOWN_EXPOSES = frozenset({"rest", "mcp", "skill", "control"})
KNOWN_CONSUMES = frozenset({"http"})


@dataclass(slots=True)
class LoadedDocument:
    source: Source
    document: Document
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # Where entries of a list were skipped, the original index of each kept entry.
    kept_indices: dict[FieldPath, list[int]] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.source.path

    def locate(self, field_path: FieldPath) -> Location:
        return self.source.locate(self.original(field_path))

    def original(self, field_path: FieldPath) -> FieldPath:
        """The path in the file of a path in the model (skipped entries shift list indices)."""
        return _original(field_path, self.kept_indices)


class NotACapability(CapabilityError):
    """A YAML file that is not a Naftiko capability at all."""


def load_document(path: Path, source: Source | None = None) -> LoadedDocument:
    """Read (unless `source` is the file already read) and validate one capability file.

    Raises `CapabilityError` with every error found.
    """
    try:
        source = source if source is not None else read_source(path)
    except SourceError as exc:
        raise CapabilityError([Diagnostic(Severity.ERROR, str(exc).split(": ", 1)[-1], exc.location)]) from None
    data = source.data
    if not isinstance(data, dict) or "naftiko" not in data:
        found = "an empty document" if data is None else _describe_top(data)
        raise NotACapability(
            [
                Diagnostic(
                    Severity.ERROR,
                    f"not a Naftiko capability: expected a top-level 'naftiko' key, found {found}",
                    source.locate(()),
                    code="not-a-capability",
                )
            ]
        )
    diagnostics: list[Diagnostic] = [
        Diagnostic(
            Severity.WARNING,
            f"key '{path[-1]}' appears twice in one mapping; the last one is used",
            source.locate(path),
            path,
            code="duplicate-key",
        )
        for path in source.duplicate_keys
    ]
    kept_indices: dict[FieldPath, list[int]] = {}
    cleaned = _drop_unknown_types(resolve_imports(data, source, diagnostics), source, diagnostics, kept_indices)
    if any(d.severity is Severity.ERROR for d in diagnostics):
        raise CapabilityError(diagnostics)
    try:
        document = Document.model_validate(cleaned)
    except ValidationError as exc:
        raise CapabilityError(diagnostics + _validation_diagnostics(exc, source, kept_indices)) from None
    diagnostics.extend(
        Diagnostic(
            Severity.NOTE,
            f"unknown field '{path[-1]}' ignored",
            source.locate(_original(path, kept_indices)),
            _original(path, kept_indices),
            code="ignored-field",
        )
        for path in _ignored_fields(document, ())
    )
    if document.capability is None:
        diagnostics.append(
            Diagnostic(
                Severity.WARNING,
                "document has no 'capability' (a shared consumes file?): nothing to serve",
                source.locate(("naftiko",)),
            )
        )
    return LoadedDocument(source=source, document=document, diagnostics=diagnostics, kept_indices=kept_indices)


def _ignored_fields(value: Any, path: FieldPath) -> list[FieldPath]:
    """Paths of the fields no model declares (kept, not used)."""
    found: list[FieldPath] = []
    if isinstance(value, BaseModel):
        found.extend((*path, str(name)) for name in value.model_extra or {})
        for name, info in type(value).model_fields.items():
            found.extend(_ignored_fields(getattr(value, name), (*path, info.alias or name)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_ignored_fields(item, (*path, index)))
    elif isinstance(value, dict):
        for key, item in value.items():
            found.extend(_ignored_fields(item, (*path, str(key))))
    return found


def _describe_top(data: Any) -> str:
    if isinstance(data, dict):
        keys = ", ".join(repr(str(key)) for key in list(data)[:3])
        return f"a mapping starting with {keys}"
    return f"a {type(data).__name__}"


def _drop_unknown_types(
    data: dict[str, Any], source: Source, diagnostics: list[Diagnostic], kept_indices: dict[FieldPath, list[int]]
) -> dict[str, Any]:
    """Skip adapters and consumes of types this runtime does not know, with a warning."""
    capability = data.get("capability")
    if not isinstance(capability, dict):
        return data
    capability = dict(capability)
    for key, known in (("exposes", KNOWN_EXPOSES), ("consumes", KNOWN_CONSUMES)):
        entries = capability.get(key)
        if not isinstance(entries, list):
            continue
        kept = []
        for index, entry in enumerate(entries):
            kind = entry.get("type", "http" if key == "consumes" else None) if isinstance(entry, dict) else None
            # A type that is not even text is left to validation, which says what it should be.
            if isinstance(entry, dict) and isinstance(kind, str) and kind not in known:
                diagnostics.append(
                    Diagnostic(
                        Severity.WARNING,
                        f"{key} entry of type '{kind}' is not supported; skipped",
                        source.locate(("capability", key, index, "type")),
                        field=("capability", key, index, "type"),
                        code="unsupported-type",
                    )
                )
                continue
            kept.append(entry)
            kept_indices.setdefault(("capability", key), []).append(index)
        capability[key] = kept
    return {**data, "capability": capability}


def _original(field_path: FieldPath, kept_indices: dict[FieldPath, list[int]]) -> FieldPath:
    for prefix, indices in kept_indices.items():
        size = len(prefix)
        if field_path[:size] == prefix and len(field_path) > size:
            index = field_path[size]
            if isinstance(index, int) and index < len(indices):
                return (*prefix, indices[index], *field_path[size + 1 :])
    return field_path


def _validation_diagnostics(
    exc: ValidationError, source: Source, kept_indices: dict[FieldPath, list[int]]
) -> list[Diagnostic]:
    diagnostics = []
    seen: set[tuple[FieldPath, str]] = set()
    for error in exc.errors():
        # Union branches and discriminator tags add non-field parts to `loc`.
        model_path = tuple(part for part in error["loc"] if isinstance(part, int) or not _is_model_tag(part))
        field_path = _original(model_path, kept_indices)
        message = _friendly(error)
        if (field_path, message) in seen:
            continue
        seen.add((field_path, message))
        diagnostics.append(
            Diagnostic(Severity.ERROR, message, source.locate(field_path), field=field_path, code="invalid-field")
        )
    return diagnostics


def _is_model_tag(part: str) -> bool:
    return part in {"rest", "mcp", "skill", "control", "http"} or part[:1].isupper()


def _friendly(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"invalid value {error.get('input')!r}: expected {expected}"
    if kind == "union_tag_invalid":
        return f"unknown type {error.get('ctx', {}).get('tag')!r}"
    return f"{error['msg']} (got {_short(error.get('input'))})"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
