"""Outgoing authentication, resolved once from the capability's variables."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass

from naftiko_runtime.spec.dialects import apikey_entries
from naftiko_runtime.spec.models import Authentication

Render = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class AuthPlan:
    """Headers and query pairs every request of a namespace carries. Empty values are never sent."""

    headers: tuple[tuple[str, str], ...] = ()
    query: tuple[tuple[str, str], ...] = ()
    secrets: tuple[str, ...] = ()
    # Digest needs a challenge first: the client answers it (consumer/digest.py).
    digest: tuple[str, str] | None = None


class UnsupportedAuthentication(Exception):
    pass


def plan_auth(auth: Authentication | None, render: Render) -> AuthPlan:
    """`render` turns a field's template into its value (variables resolved)."""
    if auth is None:
        return AuthPlan()
    if auth.type == "bearer":
        token = render(auth.token or "")
        return AuthPlan(headers=(("Authorization", f"Bearer {token}"),), secrets=(token,)) if token else AuthPlan()
    if auth.type in ("basic", "digest"):
        username, password = render(auth.username or ""), render(auth.password or "")
        if not username and not password:
            return AuthPlan()
        if auth.type == "digest":
            return AuthPlan(digest=(username, password), secrets=(password,))
        encoded = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        return AuthPlan(headers=(("Authorization", f"Basic {encoded}"),), secrets=(password, encoded))
    if auth.type == "apikey":
        headers: list[tuple[str, str]] = []
        query: list[tuple[str, str]] = []
        for placement, key, template in apikey_entries(auth.model_dump(by_alias=True, exclude_none=True)):
            value = render(template)
            if key and value:
                (query if placement == "query" else headers).append((key, value))
        return AuthPlan(headers=tuple(headers), query=tuple(query), secrets=tuple(v for _, v in [*headers, *query]))
    raise UnsupportedAuthentication(f"outgoing '{auth.type}' authentication is not supported (it is for exposes)")
