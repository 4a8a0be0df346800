"""Generate a large capability in the generated dialect, shaped like capabilities/kombo.yaml.

Operations come in groups of five over one record type (list with query parameters, create
with a header and a body, get and delete by path parameter, patch of a nested path with two
path parameters and a body). Every operation gets one REST route (hyphenated placeholders,
`rest.X` references) and one MCP tool (`tools.X` references, hints), as generated files do.

Usage: python benchmarks/gen_capability.py [--operations 300] [--out FILE]  (stdout without --out)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

NAMESPACE = "bench-general"
OUTPUT = [{"name": "result", "type": "object", "value": "$."}]
EXPOSED_OUTPUT = [{"type": "object", "mapping": "$."}]


def _param(name: str, where: str, description: str, *, required: bool = False, kind: str = "string") -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": where, "type": kind, "description": description}
    if required:
        param["required"] = True
    return param


def _body() -> dict[str, Any]:
    return _param("body", "body", "Request body (JSON).", kind="object")


def _group(k: int) -> list[dict[str, Any]]:
    """The five operations of record type k: consumed path, method, parameters, tool name, hints."""
    base = f"/group-{k}/records"
    record = _param("record_id", "path", f"ID of the group-{k} record.", required=True)
    field = _param("field_id", "path", "ID of the field.", required=True)
    integration = _param("X-Integration-Id", "header", "ID of the integration.", required=True)
    paging = [
        _param("cursor", "query", "An optional cursor string used for pagination."),
        _param("page_size", "query", "The number of results to return per page. Maximum is 250."),
    ]
    read = {"readOnly": True, "destructive": False, "idempotent": True}
    write = {"readOnly": False, "destructive": False, "idempotent": False}
    return [
        {"path": base, "method": "GET", "params": paging, "tool": f"list-group-{k}-records", "hints": read},
        {"path": base, "method": "POST", "params": [integration, _body()], "tool": f"create-group-{k}-record",
         "hints": write},
        {"path": f"{base}/{{record_id}}", "method": "GET", "params": [record], "tool": f"get-group-{k}-record",
         "hints": read},
        {"path": f"{base}/{{record_id}}", "method": "DELETE", "params": [record, _body()],
         "tool": f"delete-group-{k}-record", "hints": {**write, "destructive": True, "idempotent": True}},
        {"path": f"{base}/{{record_id}}/fields/{{field_id}}", "method": "PATCH", "params": [record, field, _body()],
         "tool": f"update-group-{k}-record-field", "hints": {**write, "idempotent": True}},
    ]  # fmt: skip


def _operation_name(method: str, path: str) -> str:
    return (method + path).lower().replace("/", "").replace("{", "").replace("}", "").replace("-", "").replace("_", "")


def _resource_name(path: str) -> str:
    return path.strip("/").replace("/", "-").replace("{", "").replace("}", "")


def _rest_path(path: str) -> str:
    return "/v1" + path.replace("_", "-")


def generate(operations: int) -> dict[str, Any]:
    specs = [spec for k in range(operations // 5 + 1) for spec in _group(k)][:operations]
    resources: dict[str, dict[str, Any]] = {}
    routes: dict[str, dict[str, Any]] = {}
    tools: list[dict[str, Any]] = []
    for spec in specs:
        path, method, params = spec["path"], spec["method"], spec["params"]
        name = _operation_name(method, path)
        description = f"{method.title()} {_resource_name(path)}"
        resource = resources.setdefault(path, {"name": _resource_name(path), "path": path, "operations": []})
        operation: dict[str, Any] = {
            "name": name,
            "method": method,
            "description": description,
            "outputRawFormat": "json",
            "outputParameters": OUTPUT,
        }
        if params:
            operation["inputParameters"] = params
        resource["operations"].append(operation)
        route = routes.setdefault(
            path,
            {
                "path": _rest_path(path),
                "name": _resource_name(path).replace("_", "-"),
                "description": f"REST surface for {_resource_name(path)}.",
                "operations": [],
            },
        )
        exposed: dict[str, Any] = {
            "method": method,
            "name": name,
            "description": description,
            "call": f"{NAMESPACE}.{name}",
        }
        if params:
            exposed["with"] = {p["name"]: f"rest.{p['name']}" for p in params}
        exposed["outputParameters"] = EXPOSED_OUTPUT
        route["operations"].append(exposed)
        tool: dict[str, Any] = {
            "name": spec["tool"],
            "description": description,
            "hints": spec["hints"],
            "call": f"{NAMESPACE}.{name}",
        }
        if params:
            tool["with"] = {p["name"]: f"tools.{p['name']}" for p in params}
        tool["outputParameters"] = EXPOSED_OUTPUT
        tools.append(tool)
    return {
        "naftiko": "1.0.0-alpha2",
        "info": {
            "label": "Bench API",
            "description": f"Generated capability. {len(specs)} operations.",
            "tags": ["Bench"],
        },
        "binds": [{"namespace": "env", "keys": {"BENCH_API_KEY": "BENCH_API_KEY"}}],
        "capability": {
            "consumes": [
                {
                    "type": "http",
                    "namespace": NAMESPACE,
                    "baseUri": "https://api.example.com/v1",
                    "description": "Generated upstream.",
                    "resources": list(resources.values()),
                    "authentication": {"type": "bearer", "token": "{{env.BENCH_API_KEY}}"},
                }
            ],
            "exposes": [
                {
                    "type": "rest",
                    "namespace": f"{NAMESPACE}-rest",
                    "port": 8080,
                    "description": "REST adapter: one resource per consumed operation, prefixed with /v1.",
                    "resources": list(routes.values()),
                },
                {
                    "type": "mcp",
                    "namespace": f"{NAMESPACE}-mcp",
                    "port": 9090,
                    "transport": "http",
                    "description": "MCP adapter: one tool per consumed operation.",
                    "tools": tools,
                },
            ],
        },
    }


class _PlainDumper(yaml.SafeDumper):
    """No anchors or aliases: generated files in the wild repeat every block in full."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render(operations: int) -> str:
    return yaml.dump(generate(operations), Dumper=_PlainDumper, sort_keys=False, width=120)


def write(operations: int, out: Path) -> Path:
    out.write_text(render(operations))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--operations", type=int, default=300)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.out:
        write(args.operations, args.out)
    else:
        sys.stdout.write(render(args.operations))


if __name__ == "__main__":
    main()
