"""`validate --strict`: the official alpha2 JSON Schema, shipped as package data."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from naftiko_runtime.diagnostics import Diagnostic, Severity
from naftiko_runtime.spec.loader import LoadedDocument


@cache
def _validator() -> Draft202012Validator:
    schema: dict[str, Any] = json.loads(files("naftiko_runtime.spec").joinpath("naftiko-schema.json").read_text())
    return Draft202012Validator(schema)


def check_schema(loaded: LoadedDocument) -> list[Diagnostic]:
    """Every place the raw document departs from the official schema, as errors."""
    diagnostics = []
    for error in sorted(_validator().iter_errors(loaded.source.data), key=lambda e: list(map(str, e.absolute_path))):
        for leaf in _leaves(error):
            path = tuple(leaf.absolute_path)
            diagnostics.append(
                Diagnostic(
                    Severity.ERROR,
                    f"schema: {leaf.message[:300]}",
                    loaded.locate(path),
                    path,
                    code="schema",
                )
            )
    return diagnostics


def _leaves(error: ValidationError) -> list[ValidationError]:
    # oneOf/anyOf failures explain themselves best through their deepest sub-errors.
    if not error.context:
        return [error]
    deepest = max(len(sub.absolute_path) for sub in error.context)
    if deepest <= len(error.absolute_path):
        return [error]
    return [sub for sub in error.context if len(sub.absolute_path) == deepest][:3]
