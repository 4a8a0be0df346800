"""Consumes imported from shared files: `{location, import, as}` entries, resolved at load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from naftiko_runtime.diagnostics import Diagnostic, Severity
from naftiko_runtime.spec.source import Source, SourceError, read_source


def resolve_imports(data: dict[str, Any], source: Source, diagnostics: list[Diagnostic]) -> dict[str, Any]:
    """Replace each import entry of `capability.consumes` by the consumes it names."""
    capability = data.get("capability")
    if not isinstance(capability, dict) or not isinstance(capability.get("consumes"), list):
        return data
    shared: dict[Path, Source] = {}
    resolved = []
    for index, entry in enumerate(capability["consumes"]):
        if isinstance(entry, dict) and "import" in entry:
            imported = _import(entry, source, shared, diagnostics, ("capability", "consumes", index))
            resolved.append(imported if imported is not None else entry)
        else:
            resolved.append(entry)
    return {**data, "capability": {**capability, "consumes": resolved}}


def _import(
    entry: dict[str, Any],
    source: Source,
    shared: dict[Path, Source],
    diagnostics: list[Diagnostic],
    where: tuple[str | int, ...],
) -> dict[str, Any] | None:
    def fail(message: str, field: str) -> None:
        path = (*where, field)
        diagnostics.append(Diagnostic(Severity.ERROR, message, source.locate(path), path, code="unresolved-import"))

    namespace, location = entry.get("import"), entry.get("location")
    if not isinstance(location, str) or not location:
        fail(f"import of '{namespace}' needs a 'location' (a shared consumes file)", "location")
        return None
    path = (source.path.parent / location.removeprefix("file://")).resolve()
    if path not in shared:
        try:
            shared[path] = read_source(path)
        except SourceError as exc:
            fail(f"cannot import '{namespace}': {exc}", "location")
            return None
    consumes = shared[path].data.get("consumes") if isinstance(shared[path].data, dict) else None
    found = next(
        (item for item in consumes or [] if isinstance(item, dict) and item.get("namespace") == namespace), None
    )
    if found is None:
        known = ", ".join(str(item.get("namespace")) for item in consumes or [] if isinstance(item, dict))
        fail(f"'{location}' has no consumes namespace '{namespace}' (it has: {known or 'none'})", "import")
        return None
    alias = entry.get("as")
    return {**found, "namespace": alias} if isinstance(alias, str) and alias else dict(found)
