"""How upstream connections leave the host: like its other programs do.

Proxies come from `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` (lower-case names first, as curl
reads them) and `NO_PROXY`; loopback upstreams are always reached directly. TLS certificates are
verified against the system's CAs (OpenSSL honours `SSL_CERT_FILE` and `SSL_CERT_DIR`) plus
`--ca-file`. Verification is off only for the consumes namespaces `--insecure-upstream` names, with
a warning at start.

Each namespace has one base URI, so its route (proxy or not, which TLS settings) is decided once,
when its client is made: nothing is looked up per call (aiohttp's `trust_env` would look the
proxy up, in a thread, on every request, and send `~/.netrc` credentials it finds).
"""

from __future__ import annotations

import ipaddress
import ssl
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from naftiko_runtime.diagnostics import CapabilityError, Diagnostic, Location, Severity


@dataclass(frozen=True, slots=True)
class Route:
    """How one namespace's connections are made."""

    proxy: str | None = None  # http://host:port, credentials apart
    proxy_user: str = ""
    proxy_password: str = field(default="", repr=False)
    # None: the default verified context; False: not verified (--insecure-upstream).
    tls: ssl.SSLContext | bool | None = None


DIRECT = Route()


@dataclass(slots=True)
class Outbound:
    """The host's ways out, read once per build: proxies, trusted CAs, unverified namespaces."""

    proxies: dict[str, str] = field(default_factory=dict)
    tls: ssl.SSLContext | None = None
    insecure: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls, ca_file: Path | None = None, insecure: Iterable[str] = (), environ: Mapping[str, str] | None = None
    ) -> Outbound:
        proxies = _proxies(environ) if environ is not None else urllib.request.getproxies_environment()
        return cls(proxies, _tls_context(ca_file) if ca_file is not None else None, frozenset(insecure))

    def route(self, namespace: str, base_uri: str) -> Route:
        tls: ssl.SSLContext | bool | None = False if namespace in self.insecure else self.tls
        proxy = self._proxy(base_uri)
        if proxy is None:
            return Route(tls=tls)
        parts = urlsplit(proxy)
        netloc = parts.hostname or ""
        if ":" in netloc:
            netloc = f"[{netloc}]"
        if parts.port is not None:
            netloc = f"{netloc}:{parts.port}"
        bare = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
        return Route(bare, parts.username or "", parts.password or "", tls)

    def _proxy(self, base_uri: str) -> str | None:
        parts = urlsplit(base_uri)
        host = parts.hostname
        if not host or not self.proxies or _is_loopback(host):
            return None
        if bypassed(host, parts.port, self.proxies.get("no", "")):
            return None
        proxy = self.proxies.get(parts.scheme) or self.proxies.get("all")
        if not proxy:
            return None
        return proxy if "://" in proxy else f"http://{proxy}"

    def remarks(self, namespaces: Iterable[str]) -> list[Diagnostic]:
        """Warnings for the start: unverified namespaces, and names that match none."""
        known = set(namespaces)
        remarks = []
        for namespace in sorted(self.insecure):
            if namespace in known:
                message = (
                    f"TLS certificates of consumes namespace '{namespace}' are not verified (--insecure-upstream): "
                    "anyone on the network path can read and change its traffic, credentials included"
                )
            else:
                message = f"--insecure-upstream {namespace} names no consumes namespace; ignored"
            remarks.append(Diagnostic(Severity.WARNING, message, Location("command line"), code="insecure-upstream"))
        for scheme, proxy in sorted(self.proxies.items()):
            if scheme in ("http", "https", "all") and urlsplit(_with_scheme(proxy)).scheme not in ("http", ""):
                remarks.append(
                    Diagnostic(
                        Severity.WARNING,
                        f"the {scheme} proxy is reached over {urlsplit(proxy).scheme}, which is not supported; "
                        "give the proxy as http://HOST:PORT (HTTPS upstreams still travel encrypted through it)",
                        Location("environment"),
                        code="proxy",
                    )
                )
        return remarks


def bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    """Whether NO_PROXY exempts `host` (curl's reading: `*`, names and their subdomains, IPs and CIDR blocks)."""
    host = host.lower().strip("[]")
    for entry in (part.strip().lower() for part in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        name, wanted_port = entry, None
        if entry.count(":") == 1 or entry.startswith("["):
            name, _, tail = entry.rpartition(":") if not entry.endswith("]") else (entry, "", "")
            wanted_port = int(tail) if tail.isdigit() else None
        name = name.strip("[]").lstrip(".")
        if wanted_port is not None and port is not None and wanted_port != port:
            continue
        if host == name or host.endswith("." + name) or _in_block(host, name):
            return True
    return False


def _is_loopback(host: str) -> bool:
    # As Go's ProxyFromEnvironment: this machine is never reached through a proxy, which would
    # reach its own loopback instead.
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _in_block(host: str, entry: str) -> bool:
    if "/" not in entry:
        return False
    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False


def _with_scheme(proxy: str) -> str:
    return proxy if "://" in proxy else f"http://{proxy}"


def _proxies(environ: Mapping[str, str]) -> dict[str, str]:
    """`urllib.request.getproxies_environment` on a given environment (lower-case names win)."""
    proxies: dict[str, str] = {}
    for name, value in environ.items():
        if value and name.lower().endswith("_proxy") and name.upper() == name:
            proxies[name[:-6].lower()] = value
    for name, value in environ.items():
        if value and name.lower().endswith("_proxy") and name.lower() == name:
            proxies[name[:-6]] = value
    if "REQUEST_METHOD" in environ:
        # Under CGI, HTTP_PROXY is a request header anyone can send ("httpoxy").
        proxies.pop("http", None)
    return proxies


def _tls_context(ca_file: Path) -> ssl.SSLContext:
    context = ssl.create_default_context()
    try:
        context.load_verify_locations(cafile=str(ca_file))
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or type(exc).__name__
        message = f"--ca-file {ca_file}: cannot be read as PEM certificates ({reason})"
        raise CapabilityError([Diagnostic(Severity.ERROR, message, Location("command line"))]) from None
    context.set_alpn_protocols(["http/1.1"])
    return context
