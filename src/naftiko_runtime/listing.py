"""`naftiko list`: what a capability serves and what it consumes."""

from __future__ import annotations

from typing import Any

from naftiko_runtime.capability import CompiledCapability


def describe(capability: CompiledCapability) -> dict[str, Any]:
    adapters = []
    for adapter in capability.adapters:
        entry: dict[str, Any] = {
            "type": adapter.type,
            "namespace": adapter.namespace,
            "port": adapter.declared_port,
        }
        if adapter.type == "rest":
            entry["routes"] = [
                {
                    "method": action.method,
                    "path": action.path,
                    "call": action.target.ref if action.target else None,
                    "arguments": [_argument(argument) for argument in action.signature.arguments],
                    "typedFrom": action.typed_from,
                }
                for action in adapter.actions
            ]
        elif adapter.type == "control":
            entry["management"] = adapter.management.model_dump(by_alias=True) if adapter.management else {}
        elif adapter.type == "skill":
            entry["skills"] = [
                {"name": skill["name"], "tools": [tool["name"] for tool in skill.get("tools", [])]}
                for skill in adapter.skills
            ]
        else:
            entry["tools"] = [
                {
                    "name": action.name,
                    "title": action.title,
                    "call": action.target.ref if action.target else None,
                    "annotations": {
                        "readOnlyHint": action.hints.read_only,
                        "destructiveHint": action.hints.destructive,
                        "idempotentHint": action.hints.idempotent,
                        "openWorldHint": action.hints.open_world,
                    },
                    "arguments": [_argument(argument) for argument in action.signature.arguments],
                    "typedFrom": action.typed_from,
                    "outputSchema": action.output_schema.source if action.output_schema else None,
                }
                for action in adapter.actions
            ]
        adapters.append(entry)
    return {
        "file": str(capability.path),
        "label": capability.label,
        "adapters": adapters,
        "operations": [
            {"ref": op.ref, "method": op.method, "url": op.base_uri + op.path} for op in capability.operations.values()
        ],
    }


def _argument(argument: Any) -> dict[str, Any]:
    return {
        "name": argument.name,
        "type": argument.type,
        "required": argument.required,
        "in": argument.source,
    }


def render_text(reports: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for report in reports:
        lines.append(f"{report['file']}: {report['label']}")
        for adapter in report["adapters"]:
            if adapter["type"] == "control":
                enabled = [name for name, on in adapter["management"].items() if on is True]
                lines.append(f"  CONTROL :{adapter['port']} ({', '.join(enabled) or 'nothing enabled'})")
            elif adapter["type"] == "skill":
                lines.append(f"  SKILL {adapter['namespace']} :{adapter['port']} ({len(adapter['skills'])} skills)")
                for skill in adapter["skills"]:
                    lines.append(f"    {skill['name']}  tools: {', '.join(skill['tools']) or '(none)'}")
            elif adapter["type"] == "rest":
                lines.append(f"  REST {adapter['namespace']} :{adapter['port']} ({len(adapter['routes'])} routes)")
                for route in adapter["routes"]:
                    call = route["call"] or "(unresolved)"
                    lines.append(f"    {route['method']:6} {route['path']}  -> {call}{_typed(route)}")
            else:
                lines.append(f"  MCP  {adapter['namespace']} :{adapter['port']} ({len(adapter['tools'])} tools)")
                for tool in adapter["tools"]:
                    hints = [name for name, on in _hint_names(tool["annotations"]) if on]
                    lines.append(
                        f"    {tool['name']}  [{', '.join(hints) or 'no hints'}]  -> {tool['call'] or '(unresolved)'}"
                        f"{_typed(tool)}"
                    )
        lines.append(f"  consumes {len(report['operations'])} operations")
        for operation in report["operations"]:
            lines.append(f"    {operation['method']:6} {operation['url']}  ({operation['ref']})")
    return "\n".join(lines)


def _typed(entry: dict[str, Any]) -> str:
    """`  {typed: <document>, outputSchema}`: where the schemas come from (the JSON says which operation)."""
    marks = [f"typed: {entry['typedFrom'].split(' ', 1)[0]}"] if entry.get("typedFrom") else []
    if entry.get("outputSchema"):
        marks.append("outputSchema")
    return f"  {{{', '.join(marks)}}}" if marks else ""


def _hint_names(annotations: dict[str, bool]) -> list[tuple[str, bool]]:
    return [
        ("read-only", annotations["readOnlyHint"]),
        ("destructive", annotations["destructiveHint"]),
        ("idempotent", annotations["idempotentHint"]),
        ("open-world", annotations["openWorldHint"]),
    ]
