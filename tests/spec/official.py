"""The reference engine's 51 example capabilities, copied under tests/data/lint/official."""

from __future__ import annotations

from pathlib import Path

OFFICIAL = Path(__file__).resolve().parents[1] / "data" / "lint" / "official"
# secrets.yaml is the bind file the tutorial capabilities read, not a capability.
OFFICIAL_FILES = sorted(
    path for path in OFFICIAL.rglob("*") if path.suffix in (".yaml", ".yml") and path.name != "secrets.yaml"
)
