"""`naftiko serve | validate | list | call | mock | import openapi | export openapi`.

Each command imports what it needs when it runs: `validate` and `list` must stay fast,
and `import mcp` alone costs over a second.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from naftiko_runtime.cli_upstream import FlagError, add_upstream_arguments, upstream_options
from naftiko_runtime.diagnostics import CapabilityError, Diagnostic, Severity
from naftiko_runtime.discovery import discover
from naftiko_runtime.env_config import Merged, VariableError, describe, merge, subcommand

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
MAX_WORKERS = 64


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    merged = _with_environment(parser, sys.argv[1:] if argv is None else list(argv))
    args = parser.parse_args(merged.argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper(), logging.INFO) if hasattr(args, "log_level") else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # The SDK's per-session INFO lines drown our own; they stay visible at debug.
    if getattr(args, "log_level", "info") != "debug":
        logging.getLogger("mcp").setLevel(logging.WARNING)
    if getattr(args, "log_format", "text") == "json":
        from naftiko_runtime.observability.logs import use_json_lines

        use_json_lines()
    try:
        return int(args.handler(args))
    except CapabilityError as exc:
        _print_diagnostics(exc.diagnostics)
        return EXIT_ERROR
    except UsageError as exc:
        print(f"naftiko: {exc}{merged.note(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_OK
    except Exception as exc:
        # Never a traceback to the user; the log at debug level keeps it for a bug report.
        logging.getLogger("naftiko").debug("internal error", exc_info=True)
        print(f"naftiko: internal error ({type(exc).__name__}): {exc}; rerun with --log-level debug", file=sys.stderr)
        return EXIT_ERROR


class UsageError(Exception):
    pass


def _with_environment(parser: argparse.ArgumentParser, argv: list[str]) -> Merged:
    """`serve` options also read from `NAFTIKO_*` variables (`env_config.py`); other commands as given."""
    serve = subcommand(parser, "serve")
    describe(serve)
    if argv[:1] != ["serve"]:
        return Merged(argv)
    try:
        merged = merge(serve, argv[1:], os.environ)
    except VariableError as exc:
        serve.error(str(exc))
    return Merged(["serve", *merged.argv], merged.sources)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="naftiko", description="Serve Naftiko capabilities as REST and MCP.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve capabilities: REST facades and MCP servers")
    serve.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    _runtime_arguments(serve)
    serve.add_argument("--host", help="listen address for every adapter (default: the spec's address, else 127.0.0.1)")
    serve.add_argument(
        "--port",
        action="append",
        default=[],
        metavar="KEY=PORT",
        help="move an adapter; KEY is its namespace or the port it declares (e.g. 9090=19090); 0 picks a free port",
    )
    serve.add_argument(
        "--prefix-tools", action="store_true", help="name every tool <file-stem>.<tool> (several files, one MCP port)"
    )
    serve.add_argument(
        "--prefix-routes", action="store_true", help="serve each file's routes under /<file-stem> (one REST port)"
    )
    serve.add_argument(
        "--auto-ports",
        action="store_true",
        help="an adapter whose port another type of adapter holds moves to a free port (warned) instead of failing",
    )
    _selection_arguments(serve)
    serve.add_argument("--stateless", action="store_true", help="MCP without session state (several workers)")
    serve.add_argument(
        "--workers",
        type=_worker_count,
        default=1,
        metavar="N",
        help="serve from N processes sharing the ports, restarted if they die (N > 1: MCP stateless); default 1",
    )
    serve.add_argument("--json-response", action="store_true", help="MCP answers as JSON instead of SSE streams")
    serve.add_argument(
        "--max-result-bytes",
        type=_byte_count,
        metavar="N",
        help="cut MCP tool results above N bytes, with a note saying how to get the rest "
        "(default 100000, about the 25,000 tokens common clients accept; 0: no limit)",
    )
    _mcp_transport_arguments(serve)
    serve.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a browser origin allowed to call the REST ports (e.g. https://app.example; * for any; repeatable)",
    )
    serve.add_argument(
        "--watch", action="store_true", help="reload when a served file (or one it reads) changes; sessions stay"
    )
    serve.add_argument(
        "--graceful-timeout",
        type=_seconds,
        default=10.0,
        metavar="SECONDS",
        help="on SIGTERM or a reload, how long calls in flight may finish (default 10)",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="info (the default) logs one line per call; warning and above leave call lines out",
    )
    _observability_arguments(serve)
    serve.set_defaults(handler=_serve)

    validate = commands.add_parser("validate", help="check capability files; exit 1 on errors")
    validate.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    validate.add_argument("--strict", action="store_true", help="also check against the official alpha2 JSON Schema")
    validate.add_argument("--format", choices=["text", "json"], default="text")
    validate.set_defaults(handler=_validate)

    listing = commands.add_parser("list", help="show routes, tools and consumed operations")
    listing.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    listing.add_argument("--format", choices=["text", "json"], default="text")
    listing.add_argument(
        "--openapi",
        action="append",
        default=[],
        metavar="NS=FILE",
        help="OpenAPI document typing the tools of consumes namespace NS (default: <capability>.openapi.yaml)",
    )
    _selection_arguments(listing)
    listing.set_defaults(handler=_list)

    call = commands.add_parser("call", help="call one tool once and print its result")
    call.add_argument("path", type=Path, metavar="PATH")
    call.add_argument("tool", metavar="TOOL")
    call.add_argument("--arg", action="append", default=[], metavar="K=V", help="a tool argument (repeatable)")
    call.add_argument("--json", dest="json_arguments", metavar="JSON", help="tool arguments as a JSON object")
    _runtime_arguments(call)
    call.set_defaults(handler=_call)

    mock = commands.add_parser("mock", help="serve an OpenAPI document's examples as a mock upstream")
    mock.add_argument("documents", nargs="+", type=Path, metavar="OPENAPI")
    mock.add_argument("--host", default="127.0.0.1")
    mock.add_argument("--port", type=int, default=8081)
    mock.set_defaults(handler=_mock)

    importing = commands.add_parser("import", help="write a capability from an API description")
    kinds = importing.add_subparsers(dest="kind", required=True, metavar="KIND", help="the description's format")
    openapi = kinds.add_parser("openapi", help="a capability (REST facade and MCP server) from an OpenAPI document")
    openapi.add_argument("document", type=Path, metavar="FILE", help="OpenAPI 3.x or Swagger 2.0, JSON or YAML")
    openapi.add_argument(
        "--tag", action="append", default=[], metavar="T", help="keep only operations tagged T (repeatable)"
    )
    openapi.add_argument("--namespace", metavar="NS", help="consumes namespace (default: from the document's title)")
    openapi.add_argument("--base-uri", metavar="URL", help="upstream base URI (default: the document's first server)")
    openapi.add_argument(
        "--output", type=Path, metavar="PATH", help="capability file to write (default: <document stem>.yaml here)"
    )
    openapi.add_argument("--force", action="store_true", help="overwrite the output and its companion")
    openapi.set_defaults(handler=_import_openapi)

    exporting = commands.add_parser("export", help="describe what capabilities serve, in another format")
    exports = exporting.add_subparsers(dest="kind", required=True, metavar="KIND", help="the format")
    described = exports.add_parser(
        "openapi", help="the OpenAPI 3.1 document of a REST port (what /openapi.json serves)"
    )
    described.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    described.add_argument("--adapter", metavar="NS", help="the REST adapter to describe (needed when several ports)")
    described.add_argument("--output", type=Path, metavar="FILE", help="write the document here (default: stdout)")
    described.add_argument("--format", choices=["json", "yaml"], default="json")
    described.add_argument(
        "--openapi",
        action="append",
        default=[],
        metavar="NS=FILE",
        help="OpenAPI document of consumes namespace NS (default: <capability>.openapi.yaml beside it)",
    )
    described.add_argument("--host", help="the listen address the servers URL names (as for serve)")
    described.add_argument("--port", action="append", default=[], metavar="KEY=PORT", help="as for serve")
    described.add_argument("--prefix-routes", action="store_true", help="as for serve: routes under /<file-stem>")
    described.add_argument("--auto-ports", action="store_true", help="as for serve")
    described.add_argument("--read-only", action="store_true", help="as for serve: only GET and HEAD routes")
    described.set_defaults(handler=_export_openapi)
    return parser


def _observability_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-format", choices=["text", "json"], default="text", help="log lines as text or as JSON objects"
    )
    parser.add_argument(
        "--metrics-port",
        type=_port,
        metavar="PORT",
        help="serve Prometheus metrics at http://HOST:PORT/metrics (a control adapter serves /metrics too); 0: free",
    )
    parser.add_argument(
        "--otel-exporter",
        choices=["otlp", "console", "none"],
        help="export OpenTelemetry traces: otlp (to OTEL_EXPORTER_OTLP_ENDPOINT, or the control adapter's "
        "exporters.otlp.endpoint), console (stderr), none (default, unless the spec names an OTLP endpoint)",
    )
    parser.add_argument(
        "--otel-sample-ratio",
        type=_ratio,
        metavar="RATIO",
        help="share of new traces recorded, 0 to 1 (default: the control adapter's traces.sampling, else 1); "
        "a caller's traceparent sampled flag is followed either way",
    )


def _telemetry(args: argparse.Namespace) -> Any:
    from naftiko_runtime.observability.telemetry import Telemetry, TelemetryOptions

    return Telemetry(
        TelemetryOptions(
            log_calls=logging.getLogger("naftiko.calls").isEnabledFor(logging.INFO),
            log_format=args.log_format,
            metrics_port=args.metrics_port,
            otel_exporter=args.otel_exporter,
            otel_sample_ratio=args.otel_sample_ratio,
        )
    )


def _ratio(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a ratio from 0 to 1, got {text!r}")
    return value


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, got {text!r}")
    return int(text)


def _runtime_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base-uri",
        action="append",
        default=[],
        metavar="NS=URL",
        help="replace the baseUri of consumes namespace NS",
    )
    parser.add_argument("--mock", action="store_true", help="answer upstream calls from OpenAPI examples (offline)")
    parser.add_argument(
        "--openapi",
        action="append",
        default=[],
        metavar="NS=FILE",
        help="OpenAPI document of consumes namespace NS (default: <capability>.openapi.yaml beside it)",
    )
    add_upstream_arguments(parser)
    parser.add_argument(
        "--ca-file",
        type=Path,
        metavar="FILE",
        help="PEM certificates of a private CA trusted for upstream TLS, besides the system's (or SSL_CERT_FILE)",
    )
    parser.add_argument(
        "--insecure-upstream",
        action="append",
        default=[],
        metavar="NS",
        help="do not verify the TLS certificate of consumes namespace NS (warned at start; repeatable)",
    )


def _mcp_transport_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stdio",
        action="store_true",
        help="serve every MCP adapter, merged, over stdin/stdout (for a desktop client); nothing over HTTP",
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="a Host MCP endpoints accept besides loopback and their address (HOST:* any port; * any host)",
    )
    parser.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a browser Origin MCP endpoints accept besides loopback and their address (e.g. https://app.example)",
    )


def _allowed(args: argparse.Namespace) -> tuple[tuple[str, ...], tuple[str, ...]]:
    from naftiko_runtime.adapters.host_check import PatternError, host_pattern, origin_pattern

    try:
        hosts = tuple(host_pattern(value) for value in getattr(args, "allowed_host", ()))
        origins = tuple(origin_pattern(value) for value in getattr(args, "allowed_origin", ()))
    except PatternError as exc:
        raise UsageError(str(exc)) from None
    return hosts, origins


def _selection_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--include-tools",
        action="append",
        default=[],
        metavar="GLOB",
        help="serve only the MCP tools whose name (or <file-stem>.<name>) matches a GLOB (repeatable)",
    )
    parser.add_argument(
        "--exclude-tools",
        action="append",
        default=[],
        metavar="GLOB",
        help="leave out the MCP tools whose name (or <file-stem>.<name>) matches a GLOB (repeatable)",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="serve only tools hinted read-only and GET/HEAD routes (forwards are left out)",
    )


def _selection(args: argparse.Namespace) -> Any:
    from naftiko_runtime.selection import Selection

    return Selection(
        include=tuple(getattr(args, "include_tools", ())),
        exclude=tuple(getattr(args, "exclude_tools", ())),
        read_only=getattr(args, "read_only", False),
    )


def _pairs(values: Sequence[str], flag: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key or not rest:
            raise UsageError(f"{flag} expects KEY=VALUE, got {value!r}")
        pairs[key] = rest
    return pairs


def _runtime_options(args: argparse.Namespace) -> Any:
    from naftiko_runtime.runtime import RuntimeOptions

    ports: dict[str, int] = {}
    for key, value in _pairs(getattr(args, "port", []), "--port").items():
        if not value.isdigit() or int(value) > 65535:
            raise UsageError(f"--port {key}={value}: the port must be a number from 0 to 65535")
        ports[key] = int(value)
    allowed_hosts, allowed_origins = _allowed(args)
    extra: dict[str, Any] = {}
    if getattr(args, "cors_origin", None):
        extra["cors_origins"] = _cors_origins(args.cors_origin)
    openapi = _openapi(args)
    if getattr(args, "max_result_bytes", None) is not None:
        extra["max_result_bytes"] = args.max_result_bytes
    extra.update(_lifecycle_options(args))
    try:
        timeouts, resilience = upstream_options(args)
    except FlagError as exc:
        raise UsageError(str(exc)) from None
    return RuntimeOptions(
        host=getattr(args, "host", None),
        ports=ports,
        base_uris=_pairs(args.base_uri, "--base-uri"),
        mock=args.mock,
        openapi=openapi,
        timeouts=timeouts,
        resilience=resilience,
        stateless=getattr(args, "stateless", False),
        json_response=getattr(args, "json_response", False),
        prefix_tools=getattr(args, "prefix_tools", False),
        prefix_routes=getattr(args, "prefix_routes", False),
        auto_ports=getattr(args, "auto_ports", False),
        selection=_selection(args),
        allowed_hosts=allowed_hosts,
        allowed_origins=allowed_origins,
        stdio=getattr(args, "stdio", False),
        **extra,
    )


def _lifecycle_options(args: argparse.Namespace) -> dict[str, Any]:
    """--watch, --graceful-timeout, --ca-file, --insecure-upstream."""
    options: dict[str, Any] = {
        "watch": getattr(args, "watch", False),
        "graceful_timeout": getattr(args, "graceful_timeout", 10.0),
        "insecure_upstreams": tuple(dict.fromkeys(getattr(args, "insecure_upstream", ()))),
    }
    ca_file = getattr(args, "ca_file", None)
    if ca_file is not None:
        if not ca_file.is_file():
            raise UsageError(f"--ca-file {ca_file}: no such file")
        options["ca_file"] = ca_file
    return options


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds (0 or more), got {text!r}")
    return value


def _cors_origins(values: Sequence[str]) -> tuple[str, ...]:
    from naftiko_runtime.adapters.cors import CorsOriginError, cors_origin

    try:
        return tuple(dict.fromkeys(cors_origin(value) for value in values))
    except CorsOriginError as exc:
        raise UsageError(str(exc)) from None


def _openapi(args: argparse.Namespace) -> dict[str, list[Path]]:
    openapi: dict[str, list[Path]] = {}
    for key, value in _pairs(args.openapi, "--openapi").items():
        openapi.setdefault(key, []).append(Path(value))
    return openapi


def _worker_count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"expected a number of processes from 1 to {MAX_WORKERS}, got {text!r}")
    return int(text)


def _byte_count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a number of bytes (0 or more), got {text!r}")
    return int(text)


def _serve(args: argparse.Namespace) -> int:
    from naftiko_runtime.workers import shared_metrics

    with shared_metrics(args.workers):
        return _serve_in_processes(args)


def _serve_in_processes(args: argparse.Namespace) -> int:
    from naftiko_runtime.runtime import build_runtime
    from naftiko_runtime.serve import ServeError, run
    from naftiko_runtime.watch import build_recorded
    from naftiko_runtime.workers import serve_workers

    telemetry = _telemetry(args)
    options = dataclasses.replace(_runtime_options(args), telemetry=telemetry)
    # Under --watch, what the build reads is recorded: those files are the ones watched.
    runtime, reads = build_recorded(lambda: build_runtime(args.paths, options), record=options.watch)
    _print_diagnostics(runtime.diagnostics)
    if not runtime.listeners and runtime.stdio is None:
        what = "no mcp exposes to serve over stdio" if options.stdio else "no rest or mcp exposes"
        print(f"naftiko: nothing to serve ({what})", file=sys.stderr)
        return EXIT_ERROR
    try:
        if args.workers > 1:
            return serve_workers(
                runtime, options, args.workers, paths=args.paths, reads=reads, on_worker_exit=telemetry.close
            )
        run(runtime, options, paths=args.paths, reads=reads)
    except ServeError as exc:
        print(f"naftiko: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        telemetry.close()
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    from naftiko_runtime.capability import LoadOptions, load_capability
    from naftiko_runtime.spec.lint import check_rules
    from naftiko_runtime.spec.schema import check_schema
    from naftiko_runtime.spec.source import SourceError, read_source

    found = discover(args.paths)
    results: list[dict[str, Any]] = [
        {"file": str(d.location.file), "valid": None, "skipped": True, "diagnostics": [d.as_dict()]}
        for d in found.skipped
    ]
    if args.format == "text":
        _print_diagnostics(found.skipped, stream=sys.stdout)
    failed = False
    progress = Progress(len(found.capabilities)) if args.format == "text" else None
    for path in found.capabilities:
        if progress is not None:
            progress.step(path)
        diagnostics: list[Diagnostic] = []
        try:
            options = LoadOptions(environ={}, companion_schemas=True)
            capability = load_capability(path, options, found.sources.pop(path, None))
            diagnostics.extend(d for d in capability.diagnostics if d.code != "missing-variable")
            if args.strict:
                diagnostics.extend(check_schema(capability.loaded))
                diagnostics.extend(check_rules(capability.loaded))
        except CapabilityError as exc:
            diagnostics.extend(exc.diagnostics)
            if args.strict:
                with contextlib.suppress(SourceError):
                    diagnostics.extend(check_rules(read_source(path)))
        has_errors = any(d.severity is Severity.ERROR for d in diagnostics)
        if args.strict and any(d.code == "unsupported-type" for d in diagnostics):
            has_errors = True
        failed = failed or has_errors
        results.append({"file": str(path), "valid": not has_errors, "diagnostics": [d.as_dict() for d in diagnostics]})
        if args.format == "text":
            _print_diagnostics(diagnostics, stream=sys.stdout)
            print(f"{path}: {'invalid' if has_errors else 'valid'}")
    if progress is not None:
        progress.done()
    if args.format == "json":
        print(json.dumps({"files": results, "valid": not failed}, indent=2))
    elif len(results) > 1:
        print(_summary(results))
    return EXIT_ERROR if failed else EXIT_OK


class Progress:
    """A one-line progress bar on a terminal's stderr, for directories of many files; silent otherwise."""

    def __init__(self, total: int) -> None:
        self._total = total
        self._count = 0
        self._on = sys.stderr.isatty() and total > 10

    def step(self, path: Path) -> None:
        self._count += 1
        if self._on:
            done = int(30 * self._count / self._total)
            print(
                f"\r[{'#' * done}{'.' * (30 - done)}] {self._count}/{self._total} {path.name[:40]:40}",
                end="",
                file=sys.stderr,
                flush=True,
            )

    def done(self) -> None:
        if self._on:
            print(file=sys.stderr)


def _summary(results: list[dict[str, Any]]) -> str:
    def count(status: object) -> int:
        return sum(1 for result in results if result["valid"] is status)

    warnings = sum(1 for r in results for d in r["diagnostics"] if d["severity"] == "warning")
    rows = [("valid", count(True)), ("invalid", count(False)), ("skipped", count(None)), ("warnings", warnings)]
    width = max(len(name) for name, _ in rows)
    return "\n".join([f"{len(results)} file(s):", *(f"  {name:{width}}  {number}" for name, number in rows)])


def _list(args: argparse.Namespace) -> int:
    from naftiko_runtime.capability import LoadOptions, load_capability
    from naftiko_runtime.listing import describe, render_text
    from naftiko_runtime.selection import apply_selection

    found = discover(args.paths)
    _print_diagnostics(found.skipped)
    options = LoadOptions(environ={}, companion_schemas=True, openapi=_openapi(args))
    capabilities = [load_capability(path, options, found.sources.pop(path, None)) for path in found.capabilities]
    _print_diagnostics(apply_selection(capabilities, _selection(args)))
    report = [describe(capability) for capability in capabilities]
    if args.format == "json":
        print(json.dumps(report if len(report) > 1 else report[0], indent=2))
    else:
        print(render_text(report))
    return EXIT_OK


def _call(args: argparse.Namespace) -> int:
    import asyncio

    from naftiko_runtime.invoke import call_tool_once

    arguments: dict[str, Any] = {}
    if args.json_arguments:
        try:
            parsed = json.loads(args.json_arguments)
        except ValueError as exc:
            raise UsageError(f"--json is not valid JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise UsageError("--json must be a JSON object")
        arguments.update(parsed)
    arguments.update(_pairs(args.arg, "--arg"))
    ok, output = asyncio.run(call_tool_once(args.path, args.tool, arguments, _runtime_options(args)))
    print(output)
    return EXIT_OK if ok else EXIT_ERROR


def _mock(args: argparse.Namespace) -> int:
    import uvicorn

    from naftiko_runtime.mock import MockApi, MockDocumentError, mock_app
    from naftiko_runtime.serve import bind_socket

    try:
        apis = [MockApi.from_file(path) for path in args.documents]
    except MockDocumentError as exc:
        print(f"naftiko: {exc}", file=sys.stderr)
        return EXIT_ERROR
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        print(f"naftiko: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return EXIT_ERROR
    port = sock.getsockname()[1]
    print(f"naftiko: mock upstream at http://{args.host}:{port} ({len(apis)} documents)", file=sys.stderr, flush=True)
    config = uvicorn.Config(mock_app(apis), log_level="warning", access_log=False, log_config=None)
    uvicorn.Server(config).run(sockets=[sock])
    return EXIT_OK


def _export_openapi(args: argparse.Namespace) -> int:
    from naftiko_runtime.openapi_export import listener_document
    from naftiko_runtime.runtime import RuntimeOptions, build_runtime

    ports = {key: _port_number(key, value) for key, value in _pairs(args.port, "--port").items()}
    options = RuntimeOptions(
        host=args.host,
        ports=ports,
        openapi=_openapi(args),
        prefix_routes=args.prefix_routes,
        # The document describes routes only: MCP tool names must not clash for it to be written.
        prefix_tools=True,
        auto_ports=args.auto_ports,
        selection=_selection(args),
    )
    listeners = [listener for listener in build_runtime(args.paths, options).listeners if listener.type == "rest"]
    served = ", ".join("+".join(listener.namespaces) for listener in listeners)
    if args.adapter:
        listeners = [listener for listener in listeners if args.adapter in listener.namespaces]
        if not listeners:
            raise UsageError(f"--adapter {args.adapter} names no REST adapter; REST adapters: {served or 'none'}")
    if not listeners:
        print("naftiko: nothing to export (no rest exposes)", file=sys.stderr)
        return EXIT_ERROR
    if len(listeners) > 1:
        raise UsageError(f"the files serve {len(listeners)} REST ports ({served}); choose one with --adapter NS")
    exported = listener_document(listeners[0])
    for warning in exported.warnings:
        print(f"naftiko: warning: {warning}", file=sys.stderr)
    text = exported.render(args.format)
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"naftiko: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return EXIT_ERROR
    operations = sum(len(item) for item in exported.document["paths"].values())
    print(
        f"naftiko: wrote {args.output} ({len(exported.document['paths'])} paths, {operations} operations)",
        file=sys.stderr,
    )
    return EXIT_OK


def _port_number(key: str, value: str) -> int:
    if not value.isdigit() or int(value) > 65535:
        raise UsageError(f"--port {key}={value}: the port must be a number from 0 to 65535")
    return int(value)


def _import_openapi(args: argparse.Namespace) -> int:
    from naftiko_runtime.importer import ImportFailure, ImportOptions, import_openapi, write_files

    options = ImportOptions(tags=tuple(args.tag), namespace=args.namespace, base_uri=args.base_uri)
    output: Path = args.output or Path(args.document.stem + ".yaml")
    try:
        imported = import_openapi(args.document, options)
        companion = write_files(
            imported.to_yaml(), output, args.document, force=args.force, companion=imported.has_companion
        )
    except ImportFailure as exc:
        print(f"naftiko: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(imported.summary(output, companion), file=sys.stderr)
    return EXIT_OK


def _print_diagnostics(diagnostics: Sequence[Diagnostic], stream: Any = None) -> None:
    for diagnostic in diagnostics:
        print(str(diagnostic), file=stream or sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
