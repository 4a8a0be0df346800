"""Outgoing authentication, resolved once from the capability's variables."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from naftiko_runtime.spec.models import Authentication


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


def plan_auth(auth: Authentication | None, render: dict[str, str]) -> AuthPlan:
    """`render` holds the rendered text of each auth field (token, username, password, key, value)."""
    if auth is None:
        return AuthPlan()
    if auth.type == "bearer":
        token = render.get("token", "")
        return AuthPlan(headers=(("Authorization", f"Bearer {token}"),), secrets=(token,)) if token else AuthPlan()
    if auth.type == "basic":
        username, password = render.get("username", ""), render.get("password", "")
        if not username and not password:
            return AuthPlan()
        encoded = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        return AuthPlan(headers=(("Authorization", f"Basic {encoded}"),), secrets=(password, encoded))
    if auth.type == "apikey":
        key, value = render.get("key", ""), render.get("value", "")
        if not key or not value:
            return AuthPlan()
        if auth.placement == "query":
            return AuthPlan(query=((key, value),), secrets=(value,))
        return AuthPlan(headers=((key, value),), secrets=(value,))
    if auth.type == "digest":
        username, password = render.get("username", ""), render.get("password", "")
        return AuthPlan(digest=(username, password), secrets=(password,)) if username or password else AuthPlan()
    raise UnsupportedAuthentication(f"outgoing '{auth.type}' authentication is not supported (it is for exposes)")


AUTH_TEMPLATE_FIELDS = ("token", "username", "password", "key", "value")
