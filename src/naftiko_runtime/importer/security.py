"""Outgoing authentication from the document's security schemes, its secrets bound to environment variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from naftiko_runtime.importer.document import OpenApiDocument
from naftiko_runtime.importer.naming import IDENTIFIER


@dataclass(frozen=True)
class Credentials:
    # The consumes `authentication`, or None.
    authentication: dict[str, str] | None = None
    # Consumes-level input parameters that carry a secret (an API key in a cookie).
    parameters: list[dict[str, str]] = field(default_factory=list)
    # Environment variables the capability reads, in order.
    variables: list[str] = field(default_factory=list)
    scheme: str | None = None
    warnings: list[str] = field(default_factory=list)


def credentials(document: OpenApiDocument, prefix: str) -> Credentials:
    """The global `security` requirement's first usable scheme, else the first declared scheme."""
    components = document.data.get("components")
    declared = components.get("securitySchemes") if isinstance(components, Mapping) else None
    schemes = {str(name): document.deref(scheme) for name, scheme in (declared or {}).items()}
    requirement = document.data.get("security")
    if isinstance(requirement, list):
        candidates = [str(name) for entry in requirement if isinstance(entry, Mapping) for name in entry]
    else:
        candidates = list(schemes)
    warnings: list[str] = []
    for name in dict.fromkeys(candidates):
        scheme = schemes.get(name)
        if not isinstance(scheme, Mapping):
            warnings.append(f"security scheme '{name}' is not declared in components.securitySchemes")
            continue
        found = _convert(name, scheme, prefix)
        if isinstance(found, str):
            warnings.append(found)
            continue
        return Credentials(
            found.authentication, found.parameters, found.variables, found.scheme, [*warnings, *found.warnings]
        )
    return Credentials(warnings=warnings)


def _convert(name: str, scheme: Mapping[str, Any], prefix: str) -> Credentials | str:
    """The credentials `scheme` asks for, or why it cannot be used."""
    kind = str(scheme.get("type", "")).lower()
    http_scheme = str(scheme.get("scheme", "")).lower()
    token, api_key = f"{prefix}_TOKEN", f"{prefix}_API_KEY"
    username, password = f"{prefix}_USERNAME", f"{prefix}_PASSWORD"
    if kind == "http" and http_scheme == "bearer":
        return Credentials({"type": "bearer", "token": _var(token)}, variables=[token], scheme=name)
    if kind == "http" and http_scheme in ("basic", "digest"):
        auth = {"type": http_scheme, "username": _var(username), "password": _var(password)}
        return Credentials(auth, variables=[username, password], scheme=name)
    if kind == "apikey":
        key, placement = str(scheme.get("name") or ""), str(scheme.get("in") or "header")
        if not key:
            return f"security scheme '{name}' (apiKey) has no 'name'"
        if placement in ("header", "query"):
            auth = {"type": "apikey", "key": key, "value": _var(api_key), "placement": placement}
            return Credentials(auth, variables=[api_key], scheme=name)
        if placement == "cookie" and IDENTIFIER.match(key):
            cookie = {"name": key, "in": "cookie", "value": _var(api_key)}
            return Credentials(parameters=[cookie], variables=[api_key], scheme=name)
        return f"security scheme '{name}': an API key in {placement} '{key}' cannot be expressed"
    if kind in ("oauth2", "openidconnect"):
        # An access token is sent as a bearer token; obtaining one is left to the operator.
        note = f"security scheme '{name}' ({kind}): set {token} to an access token (no OAuth flow is run)"
        auth = {"type": "bearer", "token": _var(token)}
        return Credentials(auth, variables=[token], scheme=name, warnings=[note])
    return f"security scheme '{name}' ({kind or 'no type'}{' ' + http_scheme if http_scheme else ''}) is not supported"


def _var(name: str) -> str:
    return "{{" + name + "}}"
