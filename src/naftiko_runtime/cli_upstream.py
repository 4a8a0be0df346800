"""The command-line flags of upstream calls: timeouts, retries, backpressure, answer size.

alpha2 has no timeout fields on `consumes` or its operations, so the timeouts of one
namespace or operation are given here: `--read-timeout billing=60`, `--upstream-timeout
billing.export-report=300`; a bare value is everyone's default. Nothing heavy is imported
until `serve` or `call` asks for the options.
"""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from naftiko_runtime.consumer.client import Timeouts
    from naftiko_runtime.consumer.guard import Resilience

_TIMEOUTS = {"connect_timeout": "connect", "read_timeout": "read", "upstream_timeout": "total"}
_FLAGS = {
    "connect_timeout": "--connect-timeout",
    "read_timeout": "--read-timeout",
    "upstream_timeout": "--upstream-timeout",
}
_TIMEOUT_HELP = {
    "connect_timeout": "longest wait for a connection to the upstream (default 5)",
    "read_timeout": "longest wait for the next bytes of an answer (default 30)",
    "upstream_timeout": "longest time for one attempt of an upstream call, answer included (default 60)",
}


class FlagError(ValueError):
    pass


def add_upstream_arguments(parser: argparse.ArgumentParser) -> None:
    keyed = "; KEY=SECONDS for one consumes namespace or NAMESPACE.OPERATION (repeatable); 0: no limit"
    for attribute, what in _TIMEOUT_HELP.items():
        parser.add_argument(
            _FLAGS[attribute], action="append", default=[], metavar="[KEY=]SECONDS", help=f"{what}{keyed}"
        )
    parser.add_argument(
        "--retries",
        type=_count,
        default=None,
        metavar="N",
        help="attempts after the first for calls safe to repeat (default 2; 0: never retry)",
    )
    parser.add_argument(
        "--max-upstream-concurrency",
        type=_count,
        default=None,
        metavar="N",
        help="calls in flight per consumes namespace (default 100, the connection pool's size; 0: no limit)",
    )
    parser.add_argument(
        "--max-upstream-queue",
        type=_count,
        default=None,
        metavar="N",
        help="calls waiting per namespace beyond that; more are answered 503 with Retry-After (default 100)",
    )
    parser.add_argument(
        "--max-upstream-body-bytes",
        type=_count,
        default=None,
        metavar="N",
        help="largest upstream answer accepted; larger ones are 502 (default 16777216, 16 MiB; 0: no limit)",
    )


def upstream_options(args: argparse.Namespace) -> tuple[Timeouts, Resilience]:
    """The default timeouts and everything else the flags say; `FlagError` names a bad value."""
    from dataclasses import replace

    from naftiko_runtime.consumer.client import Timeouts
    from naftiko_runtime.consumer.guard import Resilience, TimeoutOverride
    from naftiko_runtime.consumer.retry import RetryPolicy

    defaults = Timeouts()
    overrides: dict[str, TimeoutOverride] = {}
    for attribute, field_name in _TIMEOUTS.items():
        for value in getattr(args, attribute, None) or ():
            key, seconds = _timeout(value, _FLAGS[attribute])
            if key is None:
                defaults = replace(defaults, **{field_name: seconds or None})
            else:
                overrides[key] = replace(overrides.get(key, TimeoutOverride()), **{field_name: seconds})
    resilience = Resilience(timeouts=overrides)
    if getattr(args, "retries", None) is not None:
        resilience = replace(resilience, retry=RetryPolicy(retries=args.retries))
    if getattr(args, "max_upstream_concurrency", None) is not None:
        resilience = replace(resilience, max_concurrency=args.max_upstream_concurrency)
    if getattr(args, "max_upstream_queue", None) is not None:
        resilience = replace(resilience, max_queue=args.max_upstream_queue)
    if getattr(args, "max_upstream_body_bytes", None) is not None:
        resilience = replace(resilience, max_body_bytes=args.max_upstream_body_bytes or None)
    return defaults, resilience


def _timeout(value: str, flag: str) -> tuple[str | None, float]:
    key, sep, text = value.rpartition("=")
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not math.isfinite(seconds) or seconds < 0 or (sep and not key):
        raise FlagError(f"{flag} expects SECONDS or KEY=SECONDS (0 or more), got {value!r}")
    return (key or None), seconds


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number (0 or more), got {text!r}")
    return int(text)
