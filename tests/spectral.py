"""Spectral's `spectral:oas` ruleset over generated OpenAPI documents, in one invocation.

Spectral comes from npm (`tools/install-test-tools.sh` puts it in `.tools/`); a test that needs it
skips, saying why, when it is neither there nor on PATH. Spectral takes about a second to start, so
callers lint many documents at once.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTALLED = ROOT / ".tools" / "node_modules" / ".bin" / "spectral"
RULESET = 'extends: ["spectral:oas"]\n'
TIMEOUT = 300.0
ERROR = 0  # Spectral's severity numbers: 0 error, 1 warning, 2 information, 3 hint


def spectral() -> str:
    """The Spectral executable, or the test is skipped."""
    if INSTALLED.is_file():
        return str(INSTALLED)
    found = shutil.which("spectral")
    if found is None:
        pytest.skip("Spectral is not installed: run tools/install-test-tools.sh (needs npm)")
    return found


def spectral_errors(documents: Mapping[str, dict[str, Any]], workdir: Path) -> list[str]:
    """Each error Spectral reports on `documents` (by name), as `name: code: message at path`."""
    executable = spectral()
    workdir.mkdir(parents=True, exist_ok=True)
    ruleset = workdir / ".spectral.yaml"
    ruleset.write_text(RULESET, encoding="utf-8")
    names: dict[str, str] = {}
    for index, (name, document) in enumerate(documents.items()):
        path = workdir / f"{index:04d}.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        names[str(path.resolve())] = name
    completed = subprocess.run(
        [executable, "lint", "--ruleset", str(ruleset), "--format", "json", "--quiet", *names],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=workdir,
        check=False,
    )
    try:
        results = json.loads(completed.stdout or "[]")
    except ValueError:
        raise AssertionError(
            f"Spectral did not answer JSON (exit {completed.returncode}):\n{completed.stderr}"
        ) from None
    return [
        f"{names.get(str(Path(result['source']).resolve()), result['source'])}: {result['code']}: "
        f"{result['message']} at {'.'.join(map(str, result['path']))}"
        for result in results
        if result.get("severity") == ERROR
    ]
