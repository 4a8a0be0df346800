"""Routes and tools typed from a companion OpenAPI document, and tools' output schemas.

An action calling a consumed operation the document describes gets, for each argument that
reaches one of the operation's parameters (by `with` or by name), the document's schema and
description; the argument feeding the whole JSON body gets the request body's schema; a tool
whose answer passes unchanged gets the 2xx answer's schema as its `outputSchema` when that is an
object. Without a document nothing changes, and a document that cannot be read is a warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from naftiko_runtime.arguments import Argument, Signature
from naftiko_runtime.companion_schemas import CompanionDocument, CompanionError, OperationSchemas, documents_for
from naftiko_runtime.consumer.operation import UpstreamOperation
from naftiko_runtime.diagnostics import Diagnostic, Location, Severity
from naftiko_runtime.engine import Action
from naftiko_runtime.output_schema import OutputSchema, schema_from_answer, schema_from_outputs
from naftiko_runtime.schema_check import InvalidSchema, strict_problems
from naftiko_runtime.spec.dialects import PathPlaceholder, param_key
from naftiko_runtime.spec.models import OutputParameter


def type_from_companions(
    capability_path: Path,
    actions: Sequence[Action],
    declared_base_uris: Mapping[str, str],
    given: Mapping[str, Sequence[Path]],
) -> list[Diagnostic]:
    """Type every action whose operation a document describes; the warnings this gives."""
    namespaces = sorted({action.target.namespace for action in actions if action.target is not None})
    if not namespaces:
        return []
    # Imported here: the mock package's own imports (its HTTP app) cost ~50 ms that `list` and
    # `validate` would pay for one file-name rule.
    from naftiko_runtime.mock.companion import find_companion

    chosen = documents_for(namespaces, given, find_companion(capability_path))
    diagnostics: list[Diagnostic] = []
    documents: dict[str, list[CompanionDocument]] = {}
    for namespace, paths in chosen.items():
        for path in paths:
            try:
                documents.setdefault(namespace, []).append(CompanionDocument.load(path))
            except CompanionError as exc:
                message = f"{exc.reason}; tools and routes of '{namespace}' are not typed from it"
                diagnostics.append(Diagnostic(Severity.WARNING, message, Location(str(path)), code="companion"))
    for action in actions:
        target = action.target
        if target is None or action.orchestration is not None or target.namespace not in documents:
            continue
        base_path = urlsplit(declared_base_uris.get(target.namespace, "")).path.rstrip("/")
        for document in documents[target.namespace]:
            schemas = document.schemas_for(target.method, base_path + target.path, target.path)
            if schemas is not None:
                for remark in type_action(action, target, schemas):
                    message = f"{action.kind} '{action.name}' typed from {schemas.source}: {remark}"
                    diagnostics.append(Diagnostic(Severity.WARNING, message, action.location, code="companion"))
                break
    return diagnostics


def type_action(action: Action, target: UpstreamOperation, schemas: OperationSchemas) -> list[str]:
    """Refine the action's arguments and output schema from `schemas`; remarks on what could not be used."""
    remarks = list(schemas.problems)
    signature = action.signature
    for argument in signature.arguments:
        found = _schema_for(argument, signature, target, schemas)
        if found is None:
            continue
        schema, description = found
        try:
            signature.refine(argument, schema, description, checked=True)
        except InvalidSchema as exc:
            remarks.append(f"argument '{argument.name}': {exc}; left as the capability declares it")
    if action.kind == "tool":
        answer = schema_from_answer(schemas.response) if action.output.is_identity else None
        if answer is not None:
            try:
                action.output_schema = OutputSchema(answer, schemas.source, checked=True)
            except InvalidSchema as exc:
                remarks.append(f"answer schema: {exc}; no outputSchema")
        problems = strict_problems(signature.input_schema(), meta=False)
        remarks.extend(f"input schema: {problem}" for problem in problems)
    if action.kind == "route" and action.output.is_identity and schemas.response is not None:
        action.answer_schema = schemas.response
    action.typed_from = schemas.source
    return remarks


def _schema_for(
    argument: Argument, signature: Signature, target: UpstreamOperation, schemas: OperationSchemas
) -> tuple[dict[str, Any], str | None] | None:
    placeholders = [part.key for part in target.path_parts if isinstance(part, PathPlaceholder)]
    for key in signature.fed_keys(argument):
        consumed = target.parameter(key)
        if consumed is not None and consumed.whole_body:
            if schemas.request_body:
                return schemas.request_body, schemas.request_body.get("description")
            continue
        if consumed is not None and consumed.location == "body":
            properties = (schemas.request_body or {}).get("properties") or {}
            child = next((value for name, value in properties.items() if param_key(name) == key), None)
            if isinstance(child, dict):
                return child, child.get("description")
            continue
        parameter = schemas.parameter(consumed.location, consumed.name) if consumed is not None else None
        if parameter is None and key in placeholders and (consumed is None or consumed.location == "path"):
            parameter = schemas.parameter("path", key) or schemas.path_parameter(placeholders.index(key))
        if parameter is not None:
            return parameter.schema, parameter.description
    return None


def outputs_schema(parameters: Sequence[OutputParameter], source: str) -> OutputSchema | None:
    """The outputSchema typed output parameters give a tool, if any (valid by construction)."""
    schema = schema_from_outputs(parameters)
    if schema is None:
        return None
    return OutputSchema(schema, source, checked=True)
