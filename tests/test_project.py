"""Promises about the project itself: the seed is the published file, the runtime is generic."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED_SEED = ROOT.parent / "shared" / "corpus" / "kombo" / "capabilities" / "kombo-general.yaml"


def test_the_seed_capability_is_the_published_file_unedited() -> None:
    if not PUBLISHED_SEED.exists():
        pytest.skip(f"the published corpus is not beside the checkout ({PUBLISHED_SEED})")
    assert (ROOT / "capabilities" / "kombo.yaml").read_bytes() == PUBLISHED_SEED.read_bytes()


def test_no_runtime_source_names_a_particular_api() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "src").rglob("*")
        if path.is_file() and path.suffix in {".py", ".json", ".txt", ".md"} and "kombo" in path.read_text().lower()
    ]
    assert offenders == []
