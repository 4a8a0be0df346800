"""An expose's inbound `authentication` as an OpenAPI security scheme.

Only the kind and where the credential goes are said (bearer and basic as HTTP schemes, apikey
with its header or query name, oauth2 as client credentials with its token URL and scopes): a
credential value never appears. The token URL comes from `tokenEndpoint`; without one the
authorization server's URI stands in, with a warning, since the spec names no other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from naftiko_runtime.adapters.inbound_auth import InboundAuth
from naftiko_runtime.binds import Variables
from naftiko_runtime.consumer.operation import assign_dotted
from naftiko_runtime.spec.models import Authentication
from naftiko_runtime.templates import Template, TemplateError

_NO_SERVER = "https://authorization-server.invalid"


@dataclass(frozen=True, slots=True)
class SecurityScheme:
    kind: str  # bearer | basic | digest | apikey | oauth2
    scheme: dict[str, Any]
    scopes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=(), compare=False)


def security_scheme(
    auth: Authentication, inbound: InboundAuth | None, variables: Variables, where: str
) -> SecurityScheme:
    """The scheme callers of an expose with `auth` use; `where` names the expose in warnings."""
    kind = auth.type
    if kind in ("bearer", "basic", "digest"):
        return SecurityScheme(kind, {"type": "http", "scheme": kind, "description": f"HTTP {kind} authentication."})
    if kind == "apikey":
        name = inbound.key if inbound is not None and inbound.key else auth.key or "X-API-Key"
        placement = "query" if auth.placement == "query" else "header"
        description = f"An API key in the {name} {placement}{' parameter' if placement == 'query' else ''}."
        return SecurityScheme(kind, {"type": "apiKey", "name": name, "in": placement, "description": description})
    return _oauth2(auth, inbound, variables, where)


def _oauth2(auth: Authentication, inbound: InboundAuth | None, variables: Variables, where: str) -> SecurityScheme:
    fields = auth.model_dump(by_alias=True)  # the spec's names, declared or kept as extras
    oauth = inbound.oauth if inbound is not None else None
    scopes = (
        oauth.scopes if oauth is not None else tuple(_render(str(s), variables) for s in fields.get("scopes") or [])
    )
    warnings: list[str] = []
    token_url = _render(str(fields.get("tokenEndpoint") or ""), variables)
    if not token_url:
        issuer = (
            oauth.issuer if oauth is not None else _render(str(fields.get("authorizationServerUri") or ""), variables)
        )
        token_url = issuer or _NO_SERVER
        stand_in = "authorizationServerUri" if issuer else f"the placeholder {_NO_SERVER}"
        warnings.append(f"{where}: oauth2 authentication has no tokenEndpoint; the OpenAPI tokenUrl is {stand_in}")
    description = "OAuth 2 access tokens (JWT or introspected), sent as `Authorization: Bearer`."
    flows = {"clientCredentials": {"tokenUrl": token_url, "scopes": {scope: scope for scope in scopes}}}
    scheme = {"type": "oauth2", "description": description, "flows": flows}
    return SecurityScheme("oauth2", scheme, tuple(scopes), tuple(warnings))


def _render(text: str, variables: Variables) -> str:
    """A URL or scope with its `{{variables}}` filled in (these are never credentials)."""
    try:
        template = Template(text)
    except TemplateError:
        return text
    context: dict[str, Any] = {}
    for name in template.variables:
        value, _missing = variables.lookup(name)
        assign_dotted(context, name, value or "")
    return template.render(context).strip()
