"""The responses of one served route, as an OpenAPI responses object.

A route answers its upstream's 2xx (typed where the capability or a companion document types
it), relays the upstream's other answers as they came, and makes some answers itself as
`application/problem+json`: 400 (arguments), 413 (body too large), 401/403 (inbound
authentication), 501 (nothing to call), 502/503/504 (the upstream could not be used). A status
both sides can give lists both media types, so every answer the route can give is documented.
"""

from __future__ import annotations

from typing import Any

from naftiko_runtime.engine import Action
from naftiko_runtime.openapi_schema import typed

PROBLEM = "Problem"
PROBLEM_MEDIA = "application/problem+json"
PROBLEM_REF = {"$ref": f"#/components/schemas/{PROBLEM}"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An error the runtime answers itself (RFC 9457); never quotes a credential.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "operation": {"type": "string", "description": "The upstream operation the error concerns."},
        "errors": {
            "type": "array",
            "description": "Each problem with the arguments: where (`query.page_size`, `body.name`) and why.",
            "items": {
                "type": "object",
                "required": ["location", "message"],
                "properties": {"location": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
_RELAYED = "The upstream's answer, relayed as it came (status, content type and body)."
_RUNTIME = {
    400: "The arguments are invalid: `errors` names each problem.",
    401: "The caller did not present the authentication this route asks for.",
    403: "The access token lacks a required scope.",
    413: "The request body is larger than the runtime accepts.",
    502: "The upstream could not be reached or gave an answer the runtime cannot use.",
    503: "The route cannot call its upstream now (a variable or base URI is missing, or tokens cannot be checked).",
    504: "The upstream did not answer in time.",
}


def route_responses(action: Action) -> dict[str, Any]:
    """Every answer `action` can give, keyed by status (or `2XX`, `default`)."""
    upstream = action.target is not None or action.orchestration is not None
    statuses: dict[int, str] = {}
    if action.unresolved is not None:
        statuses[action.unresolved.status] = action.unresolved.detail
    if action.signature.arguments:
        statuses[400] = _RUNTIME[400]
    if any(argument.source in ("body", "body_field") for argument in action.signature.arguments):
        statuses[413] = _RUNTIME[413]
    auth = action.inbound_auth
    if auth is not None:
        statuses[401] = _RUNTIME[401]
        if auth.kind == "oauth2":
            statuses.update({403: _RUNTIME[403], 503: _RUNTIME[503]})
    if upstream and action.unresolved is None:
        statuses.update({status: _RUNTIME[status] for status in (502, 503, 504)})
    responses: dict[str, Any] = {}
    if action.unresolved is None:
        responses["200" if action.target is None else "2XX"] = _success(action)
    for status in sorted(statuses):
        content: dict[str, Any] = {PROBLEM_MEDIA: {"schema": PROBLEM_REF}}
        if upstream:
            content["*/*"] = {"schema": {}}
        description = statuses[status] + (f" Or the upstream's own {status} answer, relayed." if upstream else "")
        responses[str(status)] = {"description": description, "content": content}
    if upstream and action.unresolved is None:
        responses["default"] = {"description": _RELAYED, "content": {"*/*": {"schema": {}}}}
    return responses


def _success(action: Action) -> dict[str, Any]:
    schema = action.answer_schema
    description = "The answer" + (" (typed from the capability's outputParameters)" if schema else "")
    if action.target is not None:
        description = "The upstream's answer" + (", mapped by the route's outputParameters" if schema else "")
        if action.typed_from and action.output.is_identity:
            description = f"The upstream's answer, as {action.typed_from} describes it"
    return {"description": description + ".", "content": {"application/json": {"schema": typed(schema or {})}}}


def forward_responses(*, authenticated: bool) -> dict[str, Any]:
    """A forward relays every upstream answer; the runtime answers 401, 413, 502, 503 and 504 itself."""
    relayed = {"description": _RELAYED, "content": {"*/*": {"schema": {}}}}
    responses: dict[str, Any] = {"2XX": relayed}
    for status in (401, 413, 502, 503, 504) if authenticated else (413, 502, 503, 504):
        content = {PROBLEM_MEDIA: {"schema": PROBLEM_REF}, "*/*": {"schema": {}}}
        description = f"{_RUNTIME[status]} Or the upstream's own {status} answer, relayed."
        responses[str(status)] = {"description": description, "content": content}
    responses["default"] = relayed
    return responses
