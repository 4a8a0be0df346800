"""consumer/digest.py: answering a Digest challenge (RFC 7616) around any client."""

from __future__ import annotations

import hashlib

import pytest

from naftiko_runtime.consumer.client import UpstreamRequest, UpstreamResponse
from naftiko_runtime.consumer.digest import DigestClient, parse_challenge

pytestmark = pytest.mark.anyio
CHALLENGE = 'Digest realm="api@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf", opaque="FQhe"'


class Guarded:
    """Refuses any request without a Digest answer it can verify."""

    def __init__(self) -> None:
        self.seen: list[UpstreamRequest] = []
        self.closed = False

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        self.seen.append(request)
        authorization = dict(request.headers).get("Authorization", "")
        if not authorization.startswith("Digest ") or not self._valid(request, authorization):
            return UpstreamResponse(401, {"www-authenticate": CHALLENGE}, b"")
        return UpstreamResponse(200, {"content-type": "application/json"}, b"{}")

    def _valid(self, request: UpstreamRequest, header: str) -> bool:
        fields = dict(part.strip().split("=", 1) for part in header.removeprefix("Digest ").split(", "))
        values = {key: value.strip('"') for key, value in fields.items()}

        def h(text: str) -> str:
            return hashlib.sha256(text.encode()).hexdigest()

        ha1 = h("Mufasa:api@example.org:Circle of Life")
        ha2 = h(f"{request.method}:{values['uri']}")
        expected = h(f"{ha1}:7ypf:{values['nc']}:{values['cnonce']}:auth:{ha2}")
        return values["response"] == expected and values["opaque"] == "FQhe"

    async def close(self) -> None:
        self.closed = True


async def test_a_challenge_is_answered_once_and_reused_for_later_requests() -> None:
    upstream = Guarded()
    client = DigestClient(upstream, "Mufasa", "Circle of Life")
    request = UpstreamRequest("GET", "http://api.example.org/dir/index.html?x=1", (("Accept", "*/*"),))
    first = await client.send(request)
    second = await client.send(request)
    await client.close()
    assert (first.status, second.status) == (200, 200)
    assert len(upstream.seen) == 3  # bare, answered, then signed up front
    assert upstream.closed


async def test_wrong_credentials_end_with_the_upstream_401() -> None:
    client = DigestClient(Guarded(), "Mufasa", "wrong")
    response = await client.send(UpstreamRequest("GET", "http://api.example.org/x"))
    assert response.status == 401


def test_a_challenge_is_parsed_with_quoted_and_bare_values() -> None:
    challenge = parse_challenge(CHALLENGE)
    assert challenge is not None
    assert (challenge.realm, challenge.nonce, challenge.qop, challenge.algorithm, challenge.opaque) == (
        "api@example.org",
        "7ypf",
        "auth",
        "SHA-256",
        "FQhe",
    )
    assert parse_challenge('Basic realm="x"') is None
