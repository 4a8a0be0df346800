"""`naftiko import openapi`: a capability (consumes, REST facade, MCP server) from an OpenAPI document."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naftiko_runtime.importer.capability import MCP_PORT, REST_PORT, Namespaces, build_capability
from naftiko_runtime.importer.document import ImportFailure, OpenApiDocument, read_document, text_of
from naftiko_runtime.importer.naming import kebab_case, variable_prefix
from naftiko_runtime.importer.operations import document_tags, read_operations
from naftiko_runtime.importer.output import companion_path, render_yaml, write_files
from naftiko_runtime.importer.security import credentials
from naftiko_runtime.importer.servers import BaseUri, base_uri

__all__ = ["ImportFailure", "ImportOptions", "Imported", "companion_path", "import_openapi", "write_files"]

_NAMESPACE = re.compile(r"^[A-Za-z0-9-]+$")
_WARNINGS_SHOWN = 25


@dataclass(frozen=True)
class ImportOptions:
    tags: tuple[str, ...] = ()
    namespace: str | None = None
    base_uri: str | None = None


@dataclass(frozen=True)
class Imported:
    document: OpenApiDocument
    options: ImportOptions
    capability: dict[str, Any]
    namespaces: Namespaces
    operations: int
    routes: list[tuple[str, str]]
    tools: list[str]
    variables: list[str]
    base: BaseUri
    warnings: list[str] = field(default_factory=list)

    def to_yaml(self) -> str:
        selection = f", operations tagged {', '.join(self.options.tags)}" if self.options.tags else ""
        header = [
            f"Imported by `naftiko import openapi` from {self.document.path.name} ({self.document.label}){selection}.",
        ]
        if self.variables:
            header.append(f"Credentials come from the environment: {', '.join(self.variables)}.")
        return render_yaml(self.capability, header)

    @property
    def has_companion(self) -> bool:
        """Whether the document is worth keeping beside the capability (the mock reads OpenAPI 3.x only)."""
        return self.document.kind == "OpenAPI"

    def summary(self, output: Path, companion: Path | None) -> str:
        lines = [
            f"naftiko: wrote {output} from {self.document.path.name} ({self.document.label})",
            f"  {self.operations} operations: {len(self.routes)} REST routes on :{REST_PORT} ({self.namespaces.rest}), "
            f"{len(self.tools)} MCP tools on :{MCP_PORT} ({self.namespaces.mcp})",
        ]
        if companion is not None:
            lines.append(f"  companion: {companion} (the OpenAPI document; `naftiko serve --mock` answers from it)")
        else:
            lines.append(f"  no companion: `naftiko serve --mock` reads OpenAPI 3.x, not {self.document.label}")
        if self.variables:
            lines.append(f"  set before serving: {', '.join(self.variables)}")
        if self.base.placeholder_reason:
            lines.append(
                f"  base URI: a placeholder ({self.base.placeholder_reason}); "
                f"serve with --base-uri {self.namespaces.consumes}=URL, or import again with --base-uri URL"
            )
        lines.extend(f"  warning: {warning}" for warning in self.warnings[:_WARNINGS_SHOWN])
        if len(self.warnings) > _WARNINGS_SHOWN:
            lines.append(f"  ... and {len(self.warnings) - _WARNINGS_SHOWN} more warnings")
        return "\n".join(lines)


def import_openapi(path: Path, options: ImportOptions) -> Imported:
    document = read_document(path)
    namespaces = Namespaces(_namespace(document, options.namespace))
    warnings: list[str] = []
    operations = read_operations(document, options.tags, warnings)
    if not operations:
        if options.tags:
            known = ", ".join(document_tags(document)) or "none"
            raise ImportFailure(
                f"{path}: no operation carries the tag(s) {', '.join(options.tags)}; the document's tags: {known}"
            )
        raise ImportFailure(f"{path}: no operations to import (GET, POST, PUT, PATCH or DELETE under 'paths')")
    base = base_uri(document.data, options.base_uri)
    secrets = credentials(document, variable_prefix(namespaces.consumes))
    built = build_capability(document, operations, namespaces, base, secrets)
    return Imported(
        document=document,
        options=options,
        capability=built.capability,
        namespaces=namespaces,
        operations=len(operations),
        routes=built.routes,
        tools=built.tools,
        variables=secrets.variables,
        base=base,
        warnings=[*secrets.warnings, *warnings],
    )


def _namespace(document: OpenApiDocument, wanted: str | None) -> str:
    if wanted is not None:
        if not _NAMESPACE.match(wanted):
            raise ImportFailure(f"--namespace {wanted!r}: a namespace is letters, digits and '-'")
        return wanted
    info = document.data.get("info") or {}
    return kebab_case(text_of(info.get("title")) or "") or kebab_case(document.path.stem) or "api"
