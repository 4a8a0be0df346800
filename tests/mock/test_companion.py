"""`find_companion`: the OpenAPI document that sits beside a capability."""

from __future__ import annotations

from pathlib import Path

import pytest

from naftiko_runtime.mock import find_companion
from tests.mock.support import KOMBO


@pytest.mark.parametrize("suffix", [".openapi.yaml", ".openapi.yml", ".openapi.json"])
def test_find_companion_finds_the_openapi_document_beside_the_capability(tmp_path: Path, suffix: str) -> None:
    capability = tmp_path / "shipyard.yml"
    capability.write_text("naftiko: 1.0.0-alpha2\n")
    companion = tmp_path / f"shipyard{suffix}"
    companion.write_text("openapi: 3.1.0\n")

    assert find_companion(capability) == companion


def test_find_companion_prefers_yaml_when_several_exist(tmp_path: Path) -> None:
    for suffix in (".openapi.json", ".openapi.yaml"):
        (tmp_path / f"api{suffix}").write_text("{}")

    assert find_companion(tmp_path / "api.yaml") == tmp_path / "api.openapi.yaml"


def test_find_companion_returns_none_without_a_companion(tmp_path: Path) -> None:
    (tmp_path / "other.openapi.yaml").write_text("{}")
    (tmp_path / "lonely.openapi.yaml").mkdir()

    assert find_companion(tmp_path / "lonely.yaml") is None


def test_the_seed_capability_has_the_kombo_document_as_companion() -> None:
    assert find_companion(KOMBO.parent / "kombo.yaml") == KOMBO
