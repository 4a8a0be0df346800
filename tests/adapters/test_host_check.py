"""adapters/host_check.py: which Host and Origin headers an MCP listener answers to."""

from __future__ import annotations

from typing import Any

import pytest

from naftiko_runtime.adapters.host_check import HostPolicy, PatternError, host_pattern, origin_pattern


def scope(host: str | None = None, origin: str | None = None) -> dict[str, Any]:
    headers = [(b"host", host.encode())] if host is not None else []
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return {"type": "http", "path": "/mcp", "headers": headers}


def refused(policy: HostPolicy, host: str | None = None, origin: str | None = None) -> int | None:
    answer = policy.refusal(scope(host, origin))
    return None if answer is None else int(answer["status"])


@pytest.mark.parametrize("host", ["127.0.0.1:9090", "localhost:9090", "LOCALHOST", "[::1]:9090", "[::1]"])
def test_a_loopback_listener_answers_to_loopback_names_on_any_port(host: str) -> None:
    assert refused(HostPolicy.for_address("127.0.0.1"), host) is None


@pytest.mark.parametrize("host", ["10.1.2.3:9090", "192.168.0.7", "[2001:db8::1]:9090"])
def test_an_ip_literal_host_is_never_a_rebinding_and_passes(host: str) -> None:
    assert refused(HostPolicy.for_address("127.0.0.1"), host) is None


def test_a_foreign_name_is_refused_with_421_naming_the_option_and_the_value() -> None:
    answer = HostPolicy.for_address("127.0.0.1").refusal(scope("evil.example:9090"))
    assert answer is not None
    assert answer["status"] == 421
    assert "--allowed-host evil.example:9090" in answer["detail"]
    assert "evil.example:* for any port" in answer["detail"]


def test_allowed_host_patterns_follow_the_sdk_syntax() -> None:
    policy = HostPolicy.for_address("127.0.0.1", hosts=["exact.example", "fixed.example:8443", "any.example:*"])
    assert refused(policy, "exact.example") is None
    assert refused(policy, "exact.example:9090") == 421
    assert refused(policy, "fixed.example:8443") is None
    assert refused(policy, "fixed.example:8444") == 421
    assert refused(policy, "any.example:1") is None
    assert refused(policy, "any.example") is None
    assert refused(policy, "sub.any.example:1") == 421


def test_a_star_allows_every_host() -> None:
    assert refused(HostPolicy.for_address("127.0.0.1", hosts=["*"]), "whatever.example:1") is None


def test_a_named_bound_address_is_allowed_on_any_port_and_as_an_origin() -> None:
    policy = HostPolicy.for_address("mcp.internal")
    assert refused(policy, "mcp.internal:9090") is None
    assert refused(policy, "mcp.internal:9090", origin="https://mcp.internal:3000") is None
    assert refused(policy, "other.internal:9090") == 421


def test_a_wildcard_listener_answers_to_loopback_and_ip_hosts_only_unless_told_more() -> None:
    policy = HostPolicy.for_address("0.0.0.0")
    assert refused(policy, "localhost:9090") is None
    assert refused(policy, "172.17.0.2:9090") is None
    assert refused(policy, "mcp.example.com") == 421
    assert refused(HostPolicy.for_address("0.0.0.0", hosts=["mcp.example.com"]), "mcp.example.com") is None


def test_origins_are_checked_only_when_sent() -> None:
    policy = HostPolicy.for_address("127.0.0.1", origins=["https://app.example"])
    assert refused(policy, "localhost:9090") is None
    assert refused(policy, "localhost:9090", origin="http://localhost:6274") is None
    assert refused(policy, "localhost:9090", origin="https://app.example") is None
    assert refused(policy, "localhost:9090", origin="https://app.example:8443") == 403
    answer = policy.refusal(scope("localhost:9090", "https://evil.example"))
    assert answer is not None and "--allowed-origin https://evil.example" in answer["detail"]


def test_a_request_without_host_is_not_a_browser_and_passes() -> None:
    assert refused(HostPolicy.for_address("127.0.0.1")) is None


def test_a_refused_value_is_echoed_shortened() -> None:
    answer = HostPolicy.for_address("127.0.0.1").refusal(scope("x" * 5000))
    assert answer is not None and len(answer["detail"]) < 700


@pytest.mark.parametrize("value", ["http://host.example", "host.example/mcp", "", "[::1", "host:port", "a:b:c"])
def test_a_malformed_allowed_host_is_a_usage_error_naming_the_option(value: str) -> None:
    with pytest.raises(PatternError, match="--allowed-host"):
        host_pattern(value)


@pytest.mark.parametrize("value", ["app.example", "https://app.example/path", "https://", "https://a:b:c"])
def test_a_malformed_allowed_origin_is_a_usage_error_naming_the_option(value: str) -> None:
    with pytest.raises(PatternError, match="--allowed-origin"):
        origin_pattern(value)


def test_patterns_are_normalised_to_lower_case() -> None:
    assert host_pattern("MCP.Example.com:*") == "mcp.example.com:*"
    assert origin_pattern("HTTPS://App.Example") == "https://app.example"
    assert origin_pattern("null") == "null"
