"""An upstream's failures, with the credentials we sent it taken out.

Error answers often repeat the request: `invalid key for /v1/x?api_key=...`, a `WWW-Authenticate`
quoting the token, a redirect whose `Location` carries the query. Such answers are passed on to
callers (REST) or quoted to models (MCP), so in every answer that is not a success, and in a
success's `Location`, each credential of the namespace is replaced, in the forms it travels in
(as is, percent-encoded, form-encoded). Successful bodies are the API's data and are not scanned:
a namespace without credentials, or a successful call, pays nothing more than one look at `Location`.
Each operation's guard (`consumer/guard.py`) scrubs the answer it returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from urllib.parse import quote, quote_plus

from multidict import CIMultiDict

from naftiko_runtime.consumer.client import UpstreamResponse

REDACTED = "[redacted]"
MIN_SECRET = 4  # shorter values would blank out ordinary text; they are not credentials worth the name


class Redaction:
    """`secrets` scrubbed from the answers that may quote them (`scrub`)."""

    __slots__ = ("_bytes", "_texts")

    def __init__(self, secrets: Iterable[str]) -> None:
        forms = {form for secret in secrets if len(secret) >= MIN_SECRET for form in _forms(secret)}
        # Longest first: a form containing another is replaced whole.
        self._texts = sorted(forms, key=len, reverse=True)
        self._bytes = [(text.encode(), REDACTED.encode()) for text in self._texts]

    def scrub(self, response: UpstreamResponse) -> UpstreamResponse:
        """A failure without the secrets in its headers and body; a success without them in its `Location`."""
        if 200 <= response.status < 300:
            location = response.headers.get("location") or response.headers.get("Location")
            if not location or not self._contains(location):
                return response
            return replace(response, headers=self._headers(response.headers))
        return replace(response, headers=self._headers(response.headers), body=self._body(response.body))

    def _contains(self, text: str) -> bool:
        return any(secret in text for secret in self._texts)

    def _body(self, body: bytes) -> bytes:
        for secret, mask in self._bytes:
            if secret in body:
                body = body.replace(secret, mask)
        return body

    def _headers(self, headers: Mapping[str, str]) -> CIMultiDict[str]:
        scrubbed: CIMultiDict[str] = CIMultiDict()
        for name, value in headers.items():
            for secret in self._texts:
                if secret in value:
                    value = value.replace(secret, REDACTED)
            scrubbed.add(name, value)
        return scrubbed


def _forms(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}


def secrets_of(values: Iterable[Iterable[str]]) -> list[str]:
    """The distinct credentials of a namespace's operations (each operation's `AuthPlan.secrets`)."""
    return list(dict.fromkeys(secret for secrets in values for secret in secrets if secret))
