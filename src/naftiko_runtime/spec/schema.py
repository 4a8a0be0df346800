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
                    f"schema: {_message(leaf)}",
                    loaded.locate(path),
                    path,
                    code="schema",
                )
            )
    return diagnostics


def _leaves(error: ValidationError, depth: int = 0) -> list[ValidationError]:
    """The errors that explain a failure: inside oneOf/anyOf, the branch the document meant.

    A branch whose `type` tag or required fields do not fit is not what the author meant; of
    the others, the one whose explanation reaches furthest into the document is.
    """
    if not error.context or depth > 8:
        return [error]
    branches: dict[object, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    fitting = [subs for subs in branches.values() if not any(_misfit(sub, error) for sub in subs)]
    tagged = [subs for subs in branches.values() if not any(_wrong_tag(sub, error) for sub in subs)]
    candidates = fitting or tagged or list(branches.values())
    explained = [[leaf for sub in subs for leaf in _leaves(sub, depth + 1)] for subs in candidates]
    best = max(explained, key=lambda leaves: max(len(leaf.absolute_path) for leaf in leaves))
    deepest = max(len(leaf.absolute_path) for leaf in best)
    return [leaf for leaf in best if len(leaf.absolute_path) == deepest][:3]


def _misfit(sub: ValidationError, parent: ValidationError) -> bool:
    """A branch the author did not mean: its `type` tag or its required fields do not fit."""
    missing = sub.validator == "required" and len(sub.absolute_path) == len(parent.absolute_path)
    return missing or _wrong_tag(sub, parent)


def _wrong_tag(sub: ValidationError, parent: ValidationError) -> bool:
    path = list(sub.absolute_path)
    return sub.validator in ("const", "enum") and len(path) == len(parent.absolute_path) + 1 and path[-1] == "type"


def _message(error: ValidationError) -> str:
    # Messages that repeat the whole instance are cut to what a reader needs.
    if error.validator in ("additionalProperties", "unevaluatedProperties", "required", "const", "enum", "type"):
        return error.message[:300]
    return f"does not match the {error.validator} rule of the official schema: {error.message[:200]}"
