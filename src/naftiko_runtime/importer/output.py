"""Writing the imported capability: deterministic block-style YAML, and its OpenAPI companion beside it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from naftiko_runtime.importer.document import ImportFailure


class _Dumper(yaml.SafeDumper):
    """Block style throughout; multi-line text as literal blocks; no anchors for repeated values."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_text)


def render_yaml(capability: dict[str, Any], header: list[str]) -> str:
    body = yaml.dump(
        capability, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=120
    )
    return "".join(f"# {line}\n" for line in header) + body


def companion_path(output: Path, document: Path) -> Path:
    """Where the runtime looks for the capability's OpenAPI document (`mock/companion.py`)."""
    suffix = ".json" if document.suffix.lower() == ".json" else ".yaml"
    return output.with_name(f"{output.stem}.openapi{suffix}")


def write_files(text: str, output: Path, document: Path, *, force: bool, companion: bool = True) -> Path | None:
    """Write the capability and (unless told not to) copy the document beside it; the companion's path."""
    if output.resolve() == document.resolve():
        raise ImportFailure(f"{output}: this is the OpenAPI document being imported; choose another --output")
    target = companion_path(output, document) if companion else None
    copy = target is not None and not (target.exists() and target.resolve() == document.resolve())
    if not force:
        for path in (output, target if copy else None):
            if path is not None and path.exists():
                raise ImportFailure(f"{path}: already exists; pass --force to overwrite it")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        if copy and target is not None:
            shutil.copyfile(document, target)
    except OSError as exc:
        raise ImportFailure(f"{exc.filename or output}: cannot write: {exc.strerror or exc}") from None
    return target
