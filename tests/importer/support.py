"""Shared by the importer tests: the test documents, and the runtime's own verdicts on an imported file."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import re
from pathlib import Path
from typing import Any

from naftiko_runtime.cli import main

DATA = Path(__file__).resolve().parents[1] / "data" / "import"
KOMBO_GZ = DATA / "kombo-openapi.json.gz"
PETSTORE = DATA / "petstore.yaml"
SWAGGER2 = DATA / "swagger2.json"
SEED = Path(__file__).resolve().parents[2] / "capabilities" / "kombo.yaml"
_PLACEHOLDER = re.compile(r"\{\{[^{}]+\}\}|\{[^{}]+\}")


def unpack_kombo(directory: Path) -> Path:
    """Kombo's whole OpenAPI document (stored gzipped) written to `directory`."""
    path = directory / "kombo-openapi.json"
    path.write_bytes(gzip.decompress(KOMBO_GZ.read_bytes()))
    return path


def write_document(directory: Path, document: dict[str, Any], name: str = "api.json") -> Path:
    path = directory / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def openapi(paths: dict[str, Any], **top: Any) -> dict[str, Any]:
    """A minimal OpenAPI 3.1 document around `paths`."""
    return {"openapi": "3.1.0", "info": {"title": "Test API", "version": "1.0"}, "paths": paths, **top}


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def strict_verdict(path: Path) -> tuple[bool, list[dict[str, Any]]]:
    """`naftiko validate --strict` on `path`: (valid, every diagnostic)."""
    code, out, err = cli("validate", "--strict", "--format", "json", str(path))
    report = json.loads(out)
    assert code in (0, 1), err
    return report["valid"], [d for file in report["files"] for d in file["diagnostics"]]


def listing(path: Path) -> dict[str, Any]:
    code, out, err = cli("list", "--format", "json", str(path))
    assert code == 0, err
    result: dict[str, Any] = json.loads(out)
    return result


def adapter(report: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(entry for entry in report["adapters"] if entry["type"] == kind)


def route_shape(method: str, path: str) -> tuple[str, str]:
    """A route with its placeholders' names forgotten: `/a/{{x}}` and `/a/{y}` are the same route."""
    return method, _PLACEHOLDER.sub("{}", path)
