"""The real-world capability files under `tests/corpus/data/`, and what their raw YAML says.

Expectations are computed from the YAML itself (routes, tools, consumes namespaces, base URIs,
outgoing authentication, variables), independently of the runtime; what the runtime reports is
read from `naftiko list --format json`, run in-process.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from naftiko_runtime.cli import main as naftiko

DATA = Path(__file__).resolve().parent / "data"
NOT_A_CAPABILITY = DATA / "kombo" / "capabilities" / "kombo-capability-edges.yml"
COUNTED_ADAPTERS = ("rest", "mcp")

_TEMPLATE = re.compile(r"\{\{\s*([^{}\s]+?)\s*\}\}")
_ENV_LIKE = re.compile(r"^[A-Z][A-Z0-9_]*$")
PLACEHOLDER = re.compile(r"\{\{\s*([^{}\s]+?)\s*\}\}|\{([^{}\s/]+)\}")


@cache
def load_yaml(path: Path) -> Any:
    """The file's YAML (parsed once; callers must not modify it)."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


def is_capability(document: Any) -> bool:
    return isinstance(document, dict) and "naftiko" in document and "capability" in document


@cache
def capability_files() -> tuple[Path, ...]:
    """Every YAML file below `data/` whose top level has `naftiko` and `capability`."""
    files = sorted(path for path in DATA.rglob("*") if path.suffix in (".yaml", ".yml"))
    return tuple(path for path in files if is_capability(load_yaml(path)))


def corpus_id(path: Path) -> str:
    return path.relative_to(DATA).as_posix()


def param_key(name: str) -> str:
    """Parameter identity in the generated dialect: case and `-`/`_` do not matter."""
    return name.lower().replace("-", "_")


def run_cli(*argv: str) -> tuple[int, str, str]:
    """`naftiko ARGV...` in-process, for collection time (tests use capsys instead)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = naftiko(list(argv))
    return code, out.getvalue(), err.getvalue()


@cache
def listing(path: Path) -> dict[str, Any]:
    code, out, err = run_cli("list", str(path), "--format", "json")
    if code != 0:
        raise AssertionError(f"naftiko list {path} exited {code}:\n{out}{err}")
    result: dict[str, Any] = json.loads(out)
    return result


# -- what the YAML declares


def declared_exposes(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [expose for expose in document["capability"].get("exposes") or [] if isinstance(expose, dict)]


def declared_routes(expose: dict[str, Any]) -> list[tuple[str, str]]:
    """(METHOD, path) of every `resources[].operations[]` of a rest expose, in order."""
    return [
        (str(operation.get("method", "")).upper(), str(resource.get("path", "")))
        for resource in expose.get("resources") or []
        for operation in resource.get("operations") or []
    ]


def declared_tools(expose: dict[str, Any]) -> list[str]:
    return [str(tool.get("name")) for tool in expose.get("tools") or []]


def declared_rest_operation(document: dict[str, Any], namespace: str, method: str, path: str) -> dict[str, Any]:
    for expose in declared_exposes(document):
        if expose.get("type") == "rest" and expose.get("namespace") == namespace:
            for resource in expose.get("resources") or []:
                for operation in resource.get("operations") or []:
                    if resource.get("path") == path and str(operation.get("method", "")).upper() == method:
                        return dict(operation)
    raise LookupError(f"no rest operation {method} {path} in {namespace}")


def declared_tool(document: dict[str, Any], namespace: str, name: str) -> dict[str, Any]:
    for expose in declared_exposes(document):
        if expose.get("type") == "mcp" and expose.get("namespace") == namespace:
            for tool in expose.get("tools") or []:
                if tool.get("name") == name:
                    return dict(tool)
    raise LookupError(f"no tool {name} in {namespace}")


def consumes_entries(path: Path) -> dict[str, dict[str, Any]]:
    """Consumes namespaces, imports from shared consumes files resolved; the first of a name wins."""
    document = load_yaml(path)
    entries: dict[str, dict[str, Any]] = {}
    for entry in document["capability"].get("consumes") or []:
        if "import" in entry and "location" in entry:
            shared = load_yaml((path.parent / str(entry["location"])).resolve())
            for candidate in shared.get("consumes") or []:
                if candidate.get("namespace") == entry["import"]:
                    entries.setdefault(str(entry.get("as") or entry["import"]), candidate)
        elif "namespace" in entry:
            entries.setdefault(str(entry["namespace"]), entry)
    return entries


def base_path(path: Path, namespace: str) -> str:
    """The path part of a consumes namespace's `baseUri` (kept when pointing it at a fake upstream)."""
    base_uri = str(consumes_entries(path).get(namespace, {}).get("baseUri") or "")
    return urlsplit(base_uri).path.rstrip("/") if "://" in base_uri else ""


# -- variables: fake values for the environment, and how templates render with them


def fake_secret(name: str) -> str:
    return f"test-secret-{name}"


def _raw_variables(path: Path) -> set[str]:
    names = set()
    for name in _TEMPLATE.findall(path.read_text(encoding="utf-8")):
        if name.startswith("env.") and name.count(".") == 1:
            names.add(name.removeprefix("env."))
        elif _ENV_LIKE.match(name):
            names.add(name)
    return names


def _binds(path: Path) -> list[dict[str, Any]]:
    return [bind for bind in load_yaml(path).get("binds") or [] if isinstance(bind, dict)]


def environment(path: Path) -> dict[str, str]:
    """A recognizable fake value for every variable the file's binds and templates read from the environment."""
    names = _raw_variables(path)
    for bind in _binds(path):
        if not bind.get("location"):
            for key, variable in (bind.get("keys") or {}).items():
                names.update({str(key), str(variable)})
    return {name: fake_secret(name) for name in sorted(names)}


def variable_value(path: Path, name: str) -> str:
    """What `{{name}}` / `{{env.name}}` renders to once `environment(path)` is set."""
    head, dot, rest = name.partition(".")
    for bind in _binds(path):
        keys = bind.get("keys") or {}
        key = rest if dot and head == bind.get("namespace") else name
        if key not in keys:
            continue
        location = bind.get("location")
        if location:
            relative = str(location).removeprefix("file://").removeprefix("/")
            return str(load_yaml((path.parent / relative).resolve())[keys[key]])
        return fake_secret(str(keys[key]))
    return fake_secret(rest if head == "env" and dot else name)


def render(path: Path, template: str) -> str:
    return _TEMPLATE.sub(lambda match: variable_value(path, match.group(1)), template)


def expected_auth(path: Path, namespace: str) -> list[tuple[str, str, str]]:
    """(where, name, value) the upstream must receive for a consumes namespace's outgoing authentication."""
    auth = consumes_entries(path).get(namespace, {}).get("authentication")
    if not isinstance(auth, dict):
        return []
    kind = auth.get("type")
    if kind == "bearer":
        return [("header", "authorization", f"Bearer {render(path, str(auth.get('token', '')))}")]
    if kind == "basic":
        pair = f"{render(path, str(auth.get('username', '')))}:{render(path, str(auth.get('password', '')))}"
        return [("header", "authorization", "Basic " + base64.b64encode(pair.encode()).decode())]
    if kind == "apikey":
        entries = [("header", str(key), render(path, str(value))) for key, value in (auth.get("headers") or {}).items()]
        key = auth.get("key") or auth.get("name")
        if key and auth.get("value") is not None:
            where = "query" if (auth.get("placement") or auth.get("in")) == "query" else "header"
            entries.append((where, str(key), render(path, str(auth["value"]))))
        return entries
    raise AssertionError(f"{corpus_id(path)}: outgoing authentication {kind!r} not covered by these tests")


def expected_inbound_headers(path: Path, expose_type: str) -> dict[str, str]:
    """The credential a caller of this file's `expose_type` adapter must present."""
    for expose in declared_exposes(load_yaml(path)):
        auth = expose.get("authentication")
        if expose.get("type") != expose_type or not isinstance(auth, dict):
            continue
        if auth.get("type") == "bearer":
            return {"Authorization": f"Bearer {render(path, str(auth.get('token', '')))}"}
        if auth.get("type") == "apikey" and auth.get("key"):
            return {str(auth["key"]): render(path, str(auth.get("value", "")))}
        if auth.get("type") == "basic":
            pair = f"{render(path, str(auth.get('username', '')))}:{render(path, str(auth.get('password', '')))}"
            return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
    return {}
