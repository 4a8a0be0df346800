"""The reference engine's 51 example capabilities: 50 pass `validate --strict`, one is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from naftiko_runtime.cli import main
from tests.spec.official import OFFICIAL_FILES

EXAMPLES = OFFICIAL_FILES
INVALID_REF = "aggregate-invalid-ref.yaml"


@pytest.mark.parametrize("path", [p for p in EXAMPLES if p.name != INVALID_REF], ids=lambda p: p.name)
def test_an_official_example_loads_and_passes_strict_validation(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", "--strict", str(path)])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err


def test_an_unresolved_aggregate_ref_is_refused_by_plain_and_strict_validation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = next(p for p in EXAMPLES if p.name == INVALID_REF)
    for args in (["validate", str(path)], ["validate", "--strict", str(path)]):
        assert main(args) == 1
        assert "ref 'unknown.nonexistent'" in capsys.readouterr().out
