"""DNS-rebinding protection for MCP endpoints: which Host and Origin headers a request may carry.

A page whose name an attacker re-points at this machine reaches the server with the attacker's
name as Host, so a Host that is a name must be one the server answers to: a loopback name, the
address it is bound to, or one given with `--allowed-host`. An IP-literal Host involves no DNS and
is accepted; a browser reaching an IP directly is cross-origin, which the Origin check covers. A
request without Origin (not a browser) passes that check.

Patterns follow the SDK's allow-list syntax: `HOST`, `HOST:PORT`, `HOST:*` (any port, also none);
origins as `SCHEME://HOST[:PORT]` or `SCHEME://HOST:*`; `*` allows every value.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from naftiko_runtime.adapters.asgi import Scope, problem

logger = logging.getLogger("naftiko.mcp")

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
WILDCARD_ADDRESSES = frozenset({"0.0.0.0", "::", ""})
ANY = "*"
_SHOWN = 200  # a refused value is echoed back at most this long


class PatternError(ValueError):
    pass


def host_pattern(value: str) -> str:
    """An `--allowed-host` value checked and normalised; `PatternError` says what is wrong."""
    pattern = value.strip().lower()
    if pattern == ANY:
        return pattern
    if not pattern or "/" in pattern or "@" in pattern:
        raise PatternError(f"--allowed-host expects HOST, HOST:PORT or HOST:* (no scheme, no path), got {value!r}")
    name, port = split_port(pattern)
    if not name or (port and port != "*" and not port.isdigit()):
        raise PatternError(f"--allowed-host expects HOST, HOST:PORT or HOST:* (IPv6 in brackets), got {value!r}")
    return pattern


def origin_pattern(value: str) -> str:
    """An `--allowed-origin` value checked and normalised (`null` is the Origin of local files)."""
    pattern = value.strip().lower()
    if pattern in (ANY, "null"):
        return pattern
    scheme, sep, rest = pattern.partition("://")
    try:
        if scheme and sep and rest and "/" not in rest:
            host_pattern(rest)
            return pattern
    except PatternError:
        pass
    raise PatternError(f"--allowed-origin expects SCHEME://HOST[:PORT] or SCHEME://HOST:* (no path), got {value!r}")


def split_port(host: str) -> tuple[str, str]:
    """`name:port` into its parts (port empty when absent); IPv6 literals keep their brackets."""
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            return "", ""
        name, rest = host[: end + 1], host[end + 1 :]
        return (name, rest[1:]) if rest.startswith(":") else (name, "" if not rest else "?")
    if host.count(":") > 1:
        return "", ""
    name, _, port = host.partition(":")
    return name, port


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name[1:-1] if name.startswith("[") else name)
    except ValueError:
        return False
    return True


def _url_name(address: str) -> str:
    return f"[{address}]" if ":" in address and not address.startswith("[") else address


class _AllowList:
    """Exact values and `base:*` prefixes, compared lowercased."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.any = False
        self.exact: set[str] = set()
        self.bases: set[str] = set()
        for pattern in patterns:
            if pattern == ANY:
                self.any = True
            elif pattern.endswith(":*"):
                self.bases.add(pattern[:-2])
            else:
                self.exact.add(pattern)

    def admits(self, value: str) -> bool:
        if self.any or value in self.exact:
            return True
        base, _, port = value.rpartition(":")
        return (port.isdigit() and base in self.bases) or value in self.bases


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """The Host names and Origins one MCP listener answers to."""

    hosts: _AllowList
    origins: _AllowList

    @classmethod
    def for_address(cls, address: str, hosts: Sequence[str] = (), origins: Sequence[str] = ()) -> HostPolicy:
        """Loopback names and the bound address (any port) besides what the options add."""
        names = list(LOOPBACK_NAMES)
        if address not in WILDCARD_ADDRESSES and _url_name(address) not in names:
            names.append(_url_name(address).lower())
        allowed_hosts = [f"{name}:*" for name in names] + [host_pattern(host) for host in hosts]
        allowed_origins = [f"{scheme}://{name}:*" for name in names for scheme in ("http", "https")]
        allowed_origins += [origin_pattern(origin) for origin in origins]
        return cls(_AllowList(allowed_hosts), _AllowList(allowed_origins))

    def refusal(self, scope: Scope) -> dict[str, Any] | None:
        """The problem to answer instead of serving this request, or None when it may pass."""
        host = origin = None
        for name, value in scope.get("headers", ()):
            if name == b"host":
                host = value.decode("latin-1").strip().lower()
            elif name == b"origin":
                origin = value.decode("latin-1").strip().lower()
        if host is not None and not self._admits_host(host):
            shown = host[:_SHOWN]
            name, port = split_port(shown)
            wider = f" (or {name}:* for any port)" if port and name else ""
            logger.warning("refused an MCP request for Host %r (not an allowed host)", shown)
            return problem(
                421,
                "Misdirected Request",
                f"Host {shown!r} is not a name this MCP server answers to (DNS-rebinding protection); "
                f"allow it with --allowed-host {shown}{wider}",
            )
        if origin is not None and not self.origins.admits(origin):
            shown = origin[:_SHOWN]
            logger.warning("refused an MCP request from Origin %r (not an allowed origin)", shown)
            return problem(
                403,
                "Forbidden",
                f"Origin {shown!r} may not call this MCP server (DNS-rebinding protection); "
                f"allow it with --allowed-origin {shown}",
            )
        return None

    def _admits_host(self, host: str) -> bool:
        if self.hosts.admits(host):
            return True
        name, _ = split_port(host)
        return bool(name) and _is_ip(name)
