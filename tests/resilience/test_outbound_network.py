"""Upstream calls leave like the host's other programs: its proxies, its CAs (plus --ca-file), TLS always verified."""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcp import Client

from tests.e2e.server import NaftikoServer
from tests.resilience.network_fakes import PROXY_ANSWER, FakeProxy, PrivateCa, TlsUpstream, closed_port, make_ca
from tests.resilience.upstream import passthrough_capability

pytestmark = pytest.mark.anyio
PROXY_NAMES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


def _environment(**values: str) -> dict[str, str]:
    """The proxy variables exactly as given (the rest unset), in both spellings, plus anything else given."""
    environment = {name: "" for name in PROXY_NAMES} | {name.lower(): "" for name in PROXY_NAMES}
    for name, value in values.items():
        environment[name] = value
        if name in PROXY_NAMES:
            environment[name.lower()] = value
    return environment


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> PrivateCa:
    return make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def tls_upstream(ca: PrivateCa) -> Iterator[TlsUpstream]:
    with TlsUpstream(ca) as upstream:
        yield upstream


@pytest.fixture
def proxy() -> Iterator[FakeProxy]:
    with FakeProxy() as fake:
        yield fake


def _serve_once(
    served: Path, path: str, *, args: list[str] | None = None, env: dict[str, str]
) -> tuple[httpx.Response, str]:
    with NaftikoServer([served], args=args or [], env=env) as server:
        server.wait_ready()
        response = httpx.get(f"{server.rest_url}{path}", timeout=15)
        assert server.stop() == 0
    return response, server.output


def test_http_proxy_from_the_environment_carries_the_call(proxy: FakeProxy, tmp_path: Path) -> None:
    served = tmp_path / "things.yaml"
    served.write_text(passthrough_capability("http://upstream.invalid:8000"))
    response, _ = _serve_once(served, "/things/a", env=_environment(HTTP_PROXY=proxy.url))
    assert response.status_code == 200 and response.content == PROXY_ANSWER
    assert [line for line, _ in proxy.seen] == ["GET http://upstream.invalid:8000/things/a HTTP/1.1"]


def test_no_proxy_naming_the_host_sends_the_call_directly(proxy: FakeProxy, tmp_path: Path) -> None:
    served = tmp_path / "things.yaml"
    served.write_text(passthrough_capability(f"http://upstream.invalid:{closed_port()}"))
    env = _environment(HTTP_PROXY=proxy.url, NO_PROXY="example.org,.invalid")
    response, _ = _serve_once(served, "/things/a", env=env)
    assert response.status_code == 502  # tried directly: the name does not resolve
    assert proxy.seen == []


def test_a_loopback_upstream_is_never_proxied(
    proxy: FakeProxy, tls_upstream: TlsUpstream, ca: PrivateCa, tmp_path: Path
) -> None:
    served = tmp_path / "things.yaml"
    served.write_text(passthrough_capability(tls_upstream.url))
    env = _environment(HTTP_PROXY=proxy.url, HTTPS_PROXY=proxy.url)
    response, _ = _serve_once(served, "/things/a", args=["--ca-file", str(ca.ca_file)], env=env)
    assert response.status_code == 200 and response.json() == {"tls": True}
    assert proxy.seen == []


def test_an_https_upstream_is_tunnelled_through_the_proxy_with_its_credentials_kept_out_of_the_output(
    proxy: FakeProxy, tls_upstream: TlsUpstream, ca: PrivateCa, tmp_path: Path
) -> None:
    served = tmp_path / "things.yaml"
    # The certificate also names upstream.test, which does not resolve: the proxy tunnels it to loopback.
    served.write_text(passthrough_capability(f"https://upstream.test:{tls_upstream.port}"))
    secret = "pr0xy-s3cret"
    env = _environment(HTTPS_PROXY=proxy.url.replace("http://", f"http://naftiko:{secret}@"))
    response, output = _serve_once(served, "/things/a", args=["--ca-file", str(ca.ca_file)], env=env)
    assert response.status_code == 200, response.text
    assert response.json() == {"tls": True}
    ((line, authorization),) = proxy.seen
    assert line.startswith(f"CONNECT upstream.test:{tls_upstream.port} ")
    assert authorization == "Basic " + base64.b64encode(f"naftiko:{secret}".encode()).decode()
    assert secret not in output


def test_an_https_upstream_of_a_private_ca_works_with_ca_file(
    tls_upstream: TlsUpstream, ca: PrivateCa, tmp_path: Path
) -> None:
    served = tmp_path / "things.yaml"
    served.write_text(passthrough_capability(tls_upstream.url))
    response, _ = _serve_once(served, "/things/a", args=["--ca-file", str(ca.ca_file)], env=_environment())
    assert response.status_code == 200 and response.json() == {"tls": True}


def test_ssl_cert_file_trusts_a_private_ca_as_the_host_would(
    tls_upstream: TlsUpstream, ca: PrivateCa, tmp_path: Path
) -> None:
    served = tmp_path / "things.yaml"
    served.write_text(passthrough_capability(tls_upstream.url))
    response, _ = _serve_once(served, "/things/a", env=_environment(SSL_CERT_FILE=str(ca.ca_file)))
    assert response.status_code == 200 and response.json() == {"tls": True}


async def test_an_untrusted_certificate_is_a_502_naming_tls_verification_on_both_adapters(
    tls_upstream: TlsUpstream, tmp_path: Path
) -> None:
    served = tmp_path / "things.yaml"
    served.write_text(passthrough_capability(tls_upstream.url))
    with NaftikoServer([served], env=_environment()) as server:
        server.wait_ready()
        rest = httpx.get(f"{server.rest_url}/things/a", timeout=15)
        async with Client(server.mcp_url) as client:
            tool = await client.call_tool("get-thing", {"id": "a"})
        assert server.stop() == 0
    assert rest.status_code == 502
    detail = rest.json()["detail"]
    assert "TLS verification" in detail and f"localhost:{tls_upstream.port}" in detail and "--ca-file" in detail
    assert tool.is_error and "TLS verification" in tool.content[0].text  # type: ignore[union-attr]
    assert tls_upstream.requests == 0


def test_insecure_upstream_skips_verification_for_that_namespace_only_and_is_warned_at_start(
    tls_upstream: TlsUpstream, tmp_path: Path
) -> None:
    served = tmp_path / "things.yaml"
    served.write_text(passthrough_capability(tls_upstream.url))
    response, output = _serve_once(served, "/things/a", args=["--insecure-upstream", "up"], env=_environment())
    assert response.status_code == 200 and response.json() == {"tls": True}
    assert "TLS certificates of consumes namespace 'up' are not verified (--insecure-upstream)" in output


def test_a_ca_file_that_is_not_certificates_is_a_clear_error(tmp_path: Path) -> None:
    served = tmp_path / "things.yaml"
    served.write_text(passthrough_capability("https://localhost:1"))
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate\n")
    result = subprocess.run(
        [sys.executable, "-m", "naftiko_runtime", "serve", str(served), "--ca-file", str(bogus)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"--ca-file {bogus}: cannot be read as PEM certificates" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("host", "port", "no_proxy", "bypassed"),
    [
        ("api.example.com", 443, "example.com", True),
        ("example.com", 443, ".example.com", True),
        ("badexample.com", 443, "example.com", False),
        ("api.example.com", 443, "*", True),
        ("10.1.2.3", 80, "10.0.0.0/8", True),
        ("11.1.2.3", 80, "10.0.0.0/8", False),
        ("api.example.com", 8443, "api.example.com:443", False),
        ("api.example.com", 443, " other.org , API.EXAMPLE.COM ", True),
        ("::1", 80, "[::1]:80", True),
    ],
)
def test_no_proxy_is_read_as_curl_reads_it(host: str, port: int, no_proxy: str, bypassed: bool) -> None:
    from naftiko_runtime.consumer import network

    assert network.bypassed(host, port, no_proxy) is bypassed


def test_proxy_variables_lower_case_first_credentials_apart_and_no_http_proxy_under_cgi() -> None:
    from naftiko_runtime.consumer.network import Outbound

    environ = {"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://u:p%40ss@lower:3128", "NO_PROXY": "skip.me"}
    outbound = Outbound.of(environ=environ)
    route = outbound.route("ns", "https://api.example.com/v1")
    assert (route.proxy, route.proxy_user, route.proxy_password) == ("http://lower:3128", "u", "p%40ss")
    assert outbound.route("ns", "https://skip.me/v1").proxy is None
    assert outbound.route("ns", "http://localhost:8080").proxy is None
    cgi = Outbound.of(environ={"HTTP_PROXY": "http://attacker:1", "REQUEST_METHOD": "GET"})
    assert cgi.route("ns", "http://api.example.com").proxy is None
