"""`naftiko serve | validate | list | call | mock | import openapi`.

Each command imports what it needs when it runs: `validate` and `list` must stay fast,
and `import mcp` alone costs over a second.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from naftiko_runtime.diagnostics import CapabilityError, Diagnostic, Severity
from naftiko_runtime.discovery import discover

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper(), logging.INFO) if hasattr(args, "log_level") else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # The SDK's per-session INFO lines drown our own; they stay visible at debug.
    if getattr(args, "log_level", "info") != "debug":
        logging.getLogger("mcp").setLevel(logging.WARNING)
    try:
        return int(args.handler(args))
    except CapabilityError as exc:
        _print_diagnostics(exc.diagnostics)
        return EXIT_ERROR
    except UsageError as exc:
        print(f"naftiko: {exc}", file=sys.stderr)
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
    serve.add_argument("--json-response", action="store_true", help="MCP answers as JSON instead of SSE streams")
    serve.add_argument(
        "--max-result-bytes",
        type=_byte_count,
        metavar="N",
        help="cut MCP tool results above N bytes, with a note saying how to get the rest "
        "(default 100000, about the 25,000 tokens common clients accept; 0: no limit)",
    )
    _mcp_transport_arguments(serve)
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
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
    return parser


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
    parser.add_argument("--connect-timeout", type=float, default=5.0, metavar="SECONDS")
    parser.add_argument("--read-timeout", type=float, default=30.0, metavar="SECONDS")


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
    from naftiko_runtime.consumer.client import Timeouts
    from naftiko_runtime.runtime import RuntimeOptions

    ports: dict[str, int] = {}
    for key, value in _pairs(getattr(args, "port", []), "--port").items():
        if not value.isdigit() or int(value) > 65535:
            raise UsageError(f"--port {key}={value}: the port must be a number from 0 to 65535")
        ports[key] = int(value)
    allowed_hosts, allowed_origins = _allowed(args)
    extra: dict[str, Any] = {}
    openapi = _openapi(args)
    if getattr(args, "max_result_bytes", None) is not None:
        extra["max_result_bytes"] = args.max_result_bytes
    return RuntimeOptions(
        host=getattr(args, "host", None),
        ports=ports,
        base_uris=_pairs(args.base_uri, "--base-uri"),
        mock=args.mock,
        openapi=openapi,
        timeouts=Timeouts(connect=args.connect_timeout, read=args.read_timeout),
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


def _openapi(args: argparse.Namespace) -> dict[str, list[Path]]:
    openapi: dict[str, list[Path]] = {}
    for key, value in _pairs(args.openapi, "--openapi").items():
        openapi.setdefault(key, []).append(Path(value))
    return openapi


def _byte_count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a number of bytes (0 or more), got {text!r}")
    return int(text)


def _serve(args: argparse.Namespace) -> int:
    from naftiko_runtime.runtime import build_runtime
    from naftiko_runtime.serve import ServeError, run

    options = _runtime_options(args)
    runtime = build_runtime(args.paths, options)
    _print_diagnostics(runtime.diagnostics)
    if not runtime.listeners and runtime.stdio is None:
        what = "no mcp exposes to serve over stdio" if options.stdio else "no rest or mcp exposes"
        print(f"naftiko: nothing to serve ({what})", file=sys.stderr)
        return EXIT_ERROR
    try:
        run(runtime, options, paths=args.paths)
    except ServeError as exc:
        print(f"naftiko: {exc}", file=sys.stderr)
        return EXIT_ERROR
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
