"""Where a capability keeps the OpenAPI document its mock answers from."""

from __future__ import annotations

from pathlib import Path

COMPANION_SUFFIXES = (".openapi.yaml", ".openapi.yml", ".openapi.json")


def find_companion(capability_path: Path) -> Path | None:
    """`<stem>.openapi.yaml|yml|json` beside the capability file (`crm.yaml` -> `crm.openapi.yaml`)."""
    for suffix in COMPANION_SUFFIXES:
        candidate = capability_path.with_name(capability_path.stem + suffix)
        if candidate.is_file():
            return candidate
    return None
