"""The consumed base URI: `servers[0]` with its variables at their defaults, or a placeholder."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from naftiko_runtime.importer.document import ImportFailure

# The official schema's baseUri pattern, without its leniency for braces in the host.
_BASE_URI = re.compile(r"^https?://[^/{}]+(/[^{]*)?$")
_VARIABLE = re.compile(r"\{([^{}]+)\}")
# RFC 2606 reserves `.invalid`: a placeholder host that can never be reached by accident.
PLACEHOLDER_HOST = "https://base-uri.invalid"


@dataclass(frozen=True)
class BaseUri:
    uri: str
    # Why the URI is a placeholder, None when it is the real one.
    placeholder_reason: str | None = None

    @property
    def path(self) -> str:
        """The URI's path, which the REST routes keep so a caller only changes the host."""
        return urlsplit(self.uri).path.rstrip("/")


def base_uri(document: Mapping[str, Any], override: str | None) -> BaseUri:
    if override is not None:
        uri = override.rstrip("/")
        if not _BASE_URI.match(uri):
            raise ImportFailure(f"--base-uri {override!r}: expected an absolute http(s) URL without placeholders")
        return BaseUri(uri)
    servers = document.get("servers")
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], Mapping):
        return BaseUri(PLACEHOLDER_HOST, "the document names no server")
    url = _substitute(str(servers[0].get("url") or ""), servers[0].get("variables"))
    if _BASE_URI.match(url):
        return BaseUri(url.rstrip("/"))
    if "://" not in url:
        path = "/" + url.strip("/") if url.strip("/") and "{" not in url else ""
        return BaseUri(PLACEHOLDER_HOST + path, f"the server URL {url or '/'!r} is relative")
    return BaseUri(PLACEHOLDER_HOST, f"the server URL {url!r} is not an http(s) URL")


def _substitute(url: str, variables: Any) -> str:
    def value(match: re.Match[str]) -> str:
        variable = variables.get(match.group(1)) if isinstance(variables, Mapping) else None
        if isinstance(variable, Mapping):
            if variable.get("default") is not None:
                return str(variable["default"])
            if isinstance(variable.get("enum"), list) and variable["enum"]:
                return str(variable["enum"][0])
        return match.group(0)

    return _VARIABLE.sub(value, url)
