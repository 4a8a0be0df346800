"""Load-time findings with a place: file:line:column and the field path."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

FieldPath = tuple[str | int, ...]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Location:
    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


@dataclass(frozen=True, slots=True)
class Diagnostic:
    severity: Severity
    message: str
    location: Location
    field: FieldPath = ()
    code: str = ""

    @property
    def field_path(self) -> str:
        return format_field_path(self.field)

    def __str__(self) -> str:
        where = f" ({self.field_path})" if self.field else ""
        return f"{self.location}: {self.severity.value}: {self.message}{where}"

    def as_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity.value,
            "message": self.message,
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "field": self.field_path,
            "code": self.code,
        }


class CapabilityError(Exception):
    """A capability that cannot be used; carries every error found."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


def format_field_path(field: FieldPath) -> str:
    out = ""
    for part in field:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
