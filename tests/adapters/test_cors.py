"""adapters/cors.py: `--cors-origin` values and the headers a policy adds."""

from __future__ import annotations

from typing import Any

import pytest

from naftiko_runtime.adapters.asgi import Message
from naftiko_runtime.adapters.cors import CorsOriginError, CorsPolicy, cors_origin

pytestmark = pytest.mark.anyio


def scope_with(method: str = "GET", **headers: str) -> dict[str, Any]:
    pairs = [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    return {"type": "http", "method": method, "headers": pairs}


async def response_headers(
    policy: CorsPolicy, scope: dict[str, Any], sent: list[tuple[bytes, bytes]]
) -> dict[str, str]:
    messages: list[Message] = []

    async def send(message: Message) -> None:
        messages.append(message)

    wrapped = policy.wrap(scope, send)
    await wrapped({"type": "http.response.start", "status": 200, "headers": sent})
    await wrapped({"type": "http.response.body", "body": b"{}"})
    assert messages[1] == {"type": "http.response.body", "body": b"{}"}
    return {name.decode(): value.decode() for name, value in messages[0]["headers"]}


def test_an_origin_is_normalised_to_what_browsers_send() -> None:
    assert cors_origin(" HTTPS://App.Example:8443 ") == "https://app.example:8443"
    assert cors_origin("*") == "*"


@pytest.mark.parametrize("value", ["app.example", "https://app.example/", "https://app.example/x", "ftp://a", "null"])
def test_an_origin_with_a_path_or_without_a_web_scheme_is_refused_naming_the_option(value: str) -> None:
    with pytest.raises(CorsOriginError, match="--cors-origin expects"):
        cors_origin(value)


def test_no_origin_configured_means_no_policy() -> None:
    assert CorsPolicy.of(()) is None


async def test_an_allowed_origin_is_echoed_with_vary_and_the_non_safelisted_headers_exposed() -> None:
    policy = CorsPolicy.of(["https://app.example"])
    assert policy is not None
    sent = [(b"content-type", b"application/json"), (b"retry-after", b"5"), (b"x-ratelimit-remaining", b"0")]

    headers = await response_headers(policy, scope_with(origin="https://app.example"), sent)

    assert headers["access-control-allow-origin"] == "https://app.example"
    assert headers["vary"] == "Origin"
    assert headers["access-control-expose-headers"] == "retry-after, x-ratelimit-remaining"
    assert "access-control-allow-credentials" not in headers


async def test_another_origin_gets_no_allow_origin_but_still_vary() -> None:
    policy = CorsPolicy.of(["https://app.example"])
    assert policy is not None

    headers = await response_headers(policy, scope_with(origin="https://evil.example"), [])

    assert "access-control-allow-origin" not in headers
    assert headers["vary"] == "Origin"


async def test_any_origin_answers_a_star_and_leaves_requests_without_origin_untouched() -> None:
    policy = CorsPolicy.of(["*"])
    assert policy is not None

    with_origin = await response_headers(policy, scope_with(origin="https://anywhere.example"), [])
    without = await response_headers(policy, scope_with(), [])

    assert with_origin["access-control-allow-origin"] == "*"
    assert without == {}


def test_a_preflight_from_an_allowed_origin_gets_the_methods_and_the_requested_headers() -> None:
    policy = CorsPolicy.of(["https://app.example"])
    assert policy is not None
    scope = scope_with(
        "OPTIONS",
        origin="https://app.example",
        access_control_request_method="PUT",
        access_control_request_headers="authorization, content-type",
    )

    headers = dict(policy.preflight(scope, b"GET, PUT, OPTIONS") or [])

    assert headers[b"access-control-allow-methods"] == b"GET, PUT, OPTIONS"
    assert headers[b"access-control-allow-headers"] == b"authorization, content-type"
    assert headers[b"access-control-max-age"] == b"600"


def test_a_preflight_from_another_origin_gets_nothing_and_a_plain_options_is_no_preflight() -> None:
    policy = CorsPolicy.of(["https://app.example"])
    assert policy is not None
    foreign = scope_with("OPTIONS", origin="https://evil.example", access_control_request_method="PUT")

    assert policy.preflight(foreign, b"GET") == []
    assert policy.preflight(scope_with("OPTIONS", origin="https://app.example"), b"GET") is None
