"""Reading the OpenAPI document to import: JSON or YAML, OpenAPI 3.x or Swagger 2.0."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from naftiko_runtime.importer.swagger2 import from_swagger2
from naftiko_runtime.mock.document import MockDocumentError, Resolver, load_file


class ImportFailure(Exception):
    """The document cannot be imported; the message names the file and the reason."""


@dataclass(frozen=True)
class OpenApiDocument:
    path: Path
    # OpenAPI 3.x shaped (a Swagger 2.0 document is converted on reading).
    data: Mapping[str, Any]
    resolver: Resolver
    version: str
    # "OpenAPI" or "Swagger" (2.0): the runtime's mock reads only OpenAPI 3.x documents.
    kind: str = "OpenAPI"

    @property
    def label(self) -> str:
        return f"{self.kind} {self.version}"

    @property
    def source(self) -> str:
        return str(self.path)

    def deref(self, node: Any) -> Any:
        """`node` with its `$ref`s followed; a broken reference is an `ImportFailure`."""
        try:
            return self.resolver.deref(node)
        except MockDocumentError as exc:
            raise ImportFailure(str(exc)) from None


def text_of(value: Any) -> str | None:
    """A document's text field, stripped; None when absent or blank."""
    if value is None:
        return None
    return str(value).strip() or None


def read_document(path: Path) -> OpenApiDocument:
    try:
        raw = load_file(path)
    except MockDocumentError as exc:
        raise ImportFailure(str(exc)) from None
    # An unquoted `swagger: 2.0` or `openapi: 3.0` is a YAML number.
    swagger, openapi = str(raw.get("swagger", "")), str(raw.get("openapi", ""))
    try:
        if swagger.startswith("2."):
            version, data, kind = swagger, from_swagger2(raw, str(path)), "Swagger"
        elif openapi.startswith("3."):
            version, data, kind = openapi, raw, "OpenAPI"
        else:
            raise ImportFailure(
                f"{path}: not an OpenAPI document ('openapi: 3.x' or 'swagger: \"2.0\"' missing at the top)"
            )
    except MockDocumentError as exc:
        raise ImportFailure(str(exc)) from None
    if not isinstance(data.get("paths", {}), Mapping):
        raise ImportFailure(f"{path}: 'paths' must be a mapping")
    if data.get("info") is not None and not isinstance(data["info"], Mapping):
        raise ImportFailure(f"{path}: 'info' must be a mapping")
    return OpenApiDocument(path, data, Resolver(data, str(path)), version, kind)
