"""What an inbound request tells the calls it makes: its request id and its trace context.

The adapters' edges (the REST middleware, the MCP server middleware in `inbound.py`) set it;
`Action.invoke` reads it once per call. Nothing here imports a library.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass

# Ids a caller sends are echoed into logs and headers: a conservative alphabet keeps them from
# breaking a log line or a header, and the bound keeps them from filling either.
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}")
REQUEST_ID_HEADER = "x-request-id"


@dataclass(slots=True)
class Inbound:
    """One inbound request: its id, and the trace headers it carried (None when tracing is off or none came)."""

    request_id: str
    carrier: Mapping[str, str] | None = None


INBOUND: ContextVar[Inbound | None] = ContextVar("naftiko_inbound", default=None)


# A random prefix per process and a counter: unique across workers and restarts, and cheaper than
# asking the kernel for random bytes on every call (that syscall showed in REST profiles).
_prefix = os.urandom(4).hex()
_counter = itertools.count(1)


def new_request_id() -> str:
    return f"{_prefix}{next(_counter):08x}"


def _reseed() -> None:
    # Forked workers must not repeat their parent's ids.
    global _prefix, _counter
    _prefix, _counter = os.urandom(4).hex(), itertools.count(1)


os.register_at_fork(after_in_child=_reseed)


def accepted_request_id(value: str | bytes | None) -> str | None:
    """The caller's `X-Request-Id` when it is a usable one, else None (a new id is made)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return value if _ACCEPTED_ID.fullmatch(value) else None
