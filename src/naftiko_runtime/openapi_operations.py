"""One served route (or forward) as an OpenAPI operation: parameters, request body, responses.

The arguments are the route's `Signature`, read where `RestApp` reads them: a route placeholder
from the path, other arguments from the query, a header, a cookie, the whole JSON body or one of
its fields. Objects (and arrays outside the query) travel as JSON text, so they are described
with `content: application/json`; arrays in the query are repeated parameters. Paths that
differ only in placeholder names are one OpenAPI path (the router treats them as one shape), so
each operation's path parameters take the names of the first route of that shape.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from naftiko_runtime.arguments import Argument
from naftiko_runtime.engine import Action
from naftiko_runtime.forward import Forward
from naftiko_runtime.openapi_responses import forward_responses, route_responses
from naftiko_runtime.openapi_schema import typed
from naftiko_runtime.spec.dialects import PathLiteral, split_path

_SCALARS = frozenset({"string", "number", "integer", "boolean"})
FORWARD_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")


@dataclass(frozen=True, slots=True)
class PathTemplate:
    """A served path as OpenAPI writes it, and its placeholder names in order."""

    template: str
    names: tuple[str, ...]

    @property
    def shape(self) -> str:
        text = self.template
        for name in self.names:
            text = text.replace("{" + name + "}", "{}", 1)
        return text


def path_template(path: str) -> PathTemplate:
    """`/a/{{x}}/b/` as `/a/{x}/b`: single braces, no trailing slash, a leading one."""
    normalised = path[:-1] if len(path) > 1 and path.endswith("/") else path
    pieces: list[str] = []
    names: list[str] = []
    for part in split_path(normalised):
        if isinstance(part, PathLiteral):
            pieces.append(part.text)
        else:
            pieces.append("{" + part.name + "}")
            names.append(part.name)
    text = "".join(pieces)
    return PathTemplate(text if text.startswith("/") else "/" + text, tuple(names))


def route_operation(action: Action, names: Sequence[str]) -> dict[str, Any]:
    """The operation object of a route; `names` are its path parameters' names in the document."""
    operation: dict[str, Any] = {}
    summary, description = _texts(action.description)
    if summary:
        operation["summary"] = summary
    if description:
        operation["description"] = description
    own = path_template(action.path).names
    renamed = dict(zip(own, names, strict=False))
    parameters = [
        parameter for argument in action.signature.arguments if (parameter := _parameter(argument, renamed)) is not None
    ]
    declared = {parameter["name"] for parameter in parameters if parameter["in"] == "path"}
    # A placeholder no argument reads (the generated dialect allows it) is still part of the path.
    parameters.extend(_bare_path_parameter(name) for name in names if name not in declared)
    if parameters:
        operation["parameters"] = parameters
    body = _request_body(action.signature.arguments)
    if body is not None:
        operation["requestBody"] = body
    operation["responses"] = route_responses(action)
    return operation


def forward_operations(forward: Forward, template: PathTemplate, *, authenticated: bool) -> dict[str, Any]:
    """A forward's path item: every method relayed, the last placeholder taking the rest of the path."""
    tail = template.names[-1]
    description = (
        f"Relayed as it is to consumes namespace '{forward.target.namespace}'; `{tail}` is the rest of "
        "the path (it may hold `/`), the query string is passed on."
    )
    parameters = [_bare_path_parameter(name) for name in template.names]
    item: dict[str, Any] = {}
    for method in FORWARD_METHODS:
        item[method] = {
            "summary": f"Forward to {forward.target.namespace}",
            "description": description,
            "parameters": copy.deepcopy(parameters),
            "responses": forward_responses(authenticated=authenticated),
        }
        if method == "head":
            item[method]["responses"] = headers_only(item[method]["responses"])
        if method in ("put", "post", "patch"):
            item[method]["requestBody"] = {"content": {"*/*": {"schema": {}}}, "description": "Relayed as it is."}
    return item


def headers_only(responses: dict[str, Any]) -> dict[str, Any]:
    """The responses of a HEAD request: a GET's statuses, no body."""
    return {status: {"description": response["description"]} for status, response in responses.items()}


def forward_template(forward: Forward) -> PathTemplate:
    """The OpenAPI path of a forward: its path, with `{path}` added when it has no placeholder."""
    template = path_template(forward.path)
    if template.names:
        return template
    base = template.template.rstrip("/")
    return PathTemplate(f"{base}/{{path}}", ("path",))


def _texts(description: str | None) -> tuple[str | None, str | None]:
    """A one-line summary (the first line, when short) and the whole description."""
    if not description or not description.strip():
        return None, None
    text = description.strip()
    first = text.splitlines()[0].strip()
    summary = first if len(first) <= 120 else None
    return summary, text if text != summary else None


def _parameter(argument: Argument, renamed: dict[str, str]) -> dict[str, Any] | None:
    source = argument.source
    if source in ("body", "body_field"):
        return None
    if source == "path" and argument.route_name is not None:
        location, name = "path", renamed.get(argument.route_name, argument.route_name)
    else:
        # A consumed path parameter without a route placeholder is read from the query.
        location, name = ("query" if source == "path" else source), argument.name
    schema = typed(argument.json_schema())
    description = schema.pop("description", None)
    parameter: dict[str, Any] = {"name": name, "in": location}
    if description:
        parameter["description"] = description
    if argument.required or location == "path":
        parameter["required"] = True
    kinds = set(_types(schema))
    if (kinds and kinds <= _SCALARS) or (location == "query" and kinds == {"array"}):
        parameter["schema"] = schema
    else:
        parameter["content"] = {"application/json": {"schema": schema}}
    return parameter


def _bare_path_parameter(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _request_body(arguments: Sequence[Argument]) -> dict[str, Any] | None:
    whole = next((argument for argument in arguments if argument.source == "body"), None)
    fields = [argument for argument in arguments if argument.source == "body_field"]
    if whole is None and not fields:
        return None
    description: str | None = None
    schema: dict[str, Any]
    if fields:
        properties = {argument.name: typed(argument.json_schema()) for argument in fields}
        schema = {"type": "object", "properties": properties}
        required = [argument.name for argument in fields if argument.required]
        if required:
            schema["required"] = required
    if whole is not None:
        whole_schema = typed(whole.json_schema())
        description = whole_schema.get("description")
        schema = {"allOf": [whole_schema, schema]} if fields else whole_schema
    body: dict[str, Any] = {"content": {"application/json": {"schema": schema}}}
    if description:
        body["description"] = description
    if (whole is not None and whole.required) or any(argument.required for argument in fields):
        body["required"] = True
    return body


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [item for item in kind if isinstance(item, str) and item != "null"]
    return []
