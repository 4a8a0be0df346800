"""Every real capability file with a rest expose yields an OpenAPI 3.1 document both validators accept.

The files are the in-repo copies (`tests/corpus/data`, the official examples) and, when the shared
corpus sits beside the checkout, all four of its folders. Each REST adapter's document is checked
with openapi-spec-validator; Spectral (`spectral:oas`, slow to start) lints them all in one run.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from naftiko_runtime.capability import LoadOptions, load_capability
from naftiko_runtime.diagnostics import CapabilityError
from naftiko_runtime.openapi_export import openapi_document
from tests.spectral import spectral_errors

TESTS = Path(__file__).resolve().parents[1]
SHARED = TESTS.parents[1] / "shared" / "corpus"
FOLDERS = ("api-evangelist", "kombo", "naftiko-alpha2", "naftiko-sandbox")
IN_REPO = (TESTS / "corpus" / "data", TESTS / "data" / "lint" / "official")
SERVER = "http://127.0.0.1:8080"


class _Environment(dict[str, str]):
    """Every environment variable set, to a value no document could contain by chance."""

    def __missing__(self, name: str) -> str:
        return f"bound-{name}-value"

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return self[name]


FAKE_ENVIRONMENT = _Environment()


def rest_capability_files() -> list[Path]:
    roots = [*IN_REPO, *(SHARED / folder for folder in FOLDERS if (SHARED / folder).is_dir())]
    files = sorted(path for root in roots for path in root.rglob("*") if path.suffix in (".yaml", ".yml"))
    return [path for path in files if _has_rest_expose(path)]


def _has_rest_expose(path: Path) -> bool:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return False
    if not (isinstance(document, dict) and "naftiko" in document and isinstance(document.get("capability"), dict)):
        return False
    exposes = document["capability"].get("exposes")
    return isinstance(exposes, list) and any(isinstance(e, dict) and e.get("type") == "rest" for e in exposes)


FILES = rest_capability_files()


@cache
def documents(path: Path) -> dict[str, dict[str, Any]]:
    """The document of each REST adapter of a file, by namespace (none when the file does not load)."""
    try:
        capability = load_capability(path, LoadOptions(environ={}, companion_schemas=True))
    except CapabilityError:
        return {}
    adapters = [adapter for adapter in capability.adapters if adapter.type == "rest"]
    return {adapter.namespace: openapi_document([adapter], SERVER).document for adapter in adapters}


def test_the_four_shared_folders_are_covered_when_the_corpus_is_beside_the_checkout() -> None:
    if not SHARED.is_dir():
        pytest.skip("the shared corpus is not beside the checkout; only the in-repo copies are checked")
    covered = {folder for folder in FOLDERS for path in FILES if f"/corpus/{folder}/" in path.as_posix()}
    assert covered == set(FOLDERS)


@pytest.mark.parametrize("path", [pytest.param(path, id=str(path.relative_to(path.parents[2]))) for path in FILES])
def test_every_rest_adapter_gets_a_valid_openapi_31_document_describing_each_of_its_routes(path: Path) -> None:
    described = documents(path)
    if not described:
        pytest.skip("does not load (its errors are the validate tests' business)")
    for namespace, document in described.items():
        validate(document)
        assert document["openapi"] == "3.1.0"
        operation_ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
        assert len(operation_ids) == len(set(operation_ids)), namespace
        for template, item in document["paths"].items():
            assert template.startswith("/") and "options" in item, (namespace, template)


def test_spectral_reports_no_error_on_any_corpus_document(tmp_path: Path) -> None:
    every = {
        f"{path.relative_to(path.parents[2])} {namespace}": document
        for path in FILES
        for namespace, document in documents(path).items()
    }
    assert len(every) >= 50
    errors = spectral_errors(every, tmp_path)
    assert errors == [], "\n".join(errors[:50])


def test_no_document_carries_a_value_the_files_bind() -> None:
    """Credentials come from binds (environment, secrets files); a document never says one."""
    checked = 0
    for path in FILES:
        try:
            capability = load_capability(path, LoadOptions(environ=FAKE_ENVIRONMENT))
        except CapabilityError:
            continue
        values = [value for value in capability.variables.values.values() if len(value) >= 6]
        adapters = [adapter for adapter in capability.adapters if adapter.type == "rest"]
        text = json.dumps([openapi_document([adapter], SERVER).document for adapter in adapters])
        checked += len(values)
        assert not [value for value in values if value in text], path
    assert checked > 0
