"""selection.py: --include-tools, --exclude-tools and --read-only cut what is served."""

from __future__ import annotations

from pathlib import Path

from naftiko_runtime.diagnostics import Severity
from naftiko_runtime.engine import Action
from naftiko_runtime.runtime import Listener, Runtime, RuntimeOptions, build_runtime
from naftiko_runtime.selection import Selection

CAPABILITY = """\
naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: {stem}
    baseUri: http://{stem}.invalid
    resources:
    - name: things
      path: /things
      operations:
      - {{name: list, method: GET}}
      - {{name: add, method: POST}}
  exposes:
  - type: rest
    namespace: {stem}-rest
    port: 8080
    resources:
    - path: /{stem}/things
      operations:
      - {{method: GET, call: {stem}.list}}
      - {{method: POST, call: {stem}.add}}
    - path: /{stem}/relay/{{{{path}}}}
      forward: {{targetNamespace: {stem}}}
  - type: mcp
    namespace: {stem}-mcp
    port: 9090
    tools:
    - {{name: list-things, description: d, hints: {{readOnly: true}}, call: {stem}.list}}
    - {{name: add-thing, description: d, call: {stem}.add}}
"""

EVERYTHING = Selection()


def _serve(tmp_path: Path, selection: Selection = EVERYTHING, *, prefix_tools: bool = False) -> Runtime:
    paths = []
    for stem in ("alpha", "beta"):
        path = tmp_path / f"{stem}.yaml"
        path.write_text(CAPABILITY.format(stem=stem))
        paths.append(path)
    return build_runtime(paths, RuntimeOptions(environ={}, prefix_tools=prefix_tools, selection=selection))


def _tools(runtime: Runtime) -> list[str]:
    return [action.name for listener in runtime.listeners if listener.type == "mcp" for action in _actions(listener)]


def _routes(runtime: Runtime) -> list[str]:
    return [action.name for listener in runtime.listeners if listener.type == "rest" for action in _actions(listener)]


def _actions(listener: Listener) -> list[Action]:
    return [action for adapter in listener.adapters for action in adapter.actions]


def _warnings(runtime: Runtime) -> list[str]:
    return [
        d.message for d in runtime.diagnostics if d.severity is Severity.WARNING and d.location.file == "command line"
    ]


def test_without_a_selection_every_tool_and_route_is_served(tmp_path: Path) -> None:
    runtime = _serve(tmp_path, prefix_tools=True)
    assert len(_tools(runtime)) == 4
    assert len(_routes(runtime)) == 4
    assert _warnings(runtime) == []


def test_include_globs_keep_only_the_tools_they_match_by_plain_or_prefixed_name(tmp_path: Path) -> None:
    runtime = _serve(tmp_path, Selection(include=("alpha.*", "add-*")), prefix_tools=True)
    assert sorted(_tools(runtime)) == ["alpha.add-thing", "alpha.list-things", "beta.add-thing"]


def test_a_prefixed_glob_selects_a_file_even_without_prefix_tools(tmp_path: Path) -> None:
    runtime = _serve(tmp_path, Selection(include=("beta.*",), exclude=("alpha.*",)))
    tools = [action for listener in runtime.listeners if listener.type == "mcp" for action in _actions(listener)]
    assert sorted((action.name, action.adapter) for action in tools) == [
        ("add-thing", "beta-mcp"),
        ("list-things", "beta-mcp"),
    ]


def test_exclude_globs_win_over_include_globs(tmp_path: Path) -> None:
    runtime = _serve(tmp_path, Selection(include=("*",), exclude=("*.add-*",)), prefix_tools=True)
    assert sorted(_tools(runtime)) == ["alpha.list-things", "beta.list-things"]


def test_tool_globs_leave_rest_routes_alone(tmp_path: Path) -> None:
    runtime = _serve(tmp_path, Selection(exclude=("*",)), prefix_tools=True)
    assert _tools(runtime) == []
    assert len(_routes(runtime)) == 4


def test_read_only_keeps_read_only_tools_and_get_routes_and_drops_forwards(tmp_path: Path) -> None:
    runtime = _serve(tmp_path, Selection(read_only=True), prefix_tools=True)
    assert sorted(_tools(runtime)) == ["alpha.list-things", "beta.list-things"]
    assert sorted(_routes(runtime)) == ["GET /alpha/things", "GET /beta/things"]
    rest = [adapter for listener in runtime.listeners if listener.type == "rest" for adapter in listener.adapters]
    assert all(adapter.forwards == [] for adapter in rest)
    assert sum("relays every method; not served with --read-only" in w for w in _warnings(runtime)) == 2


def test_the_banner_counts_what_is_left(tmp_path: Path) -> None:
    runtime = _serve(tmp_path, Selection(include=("alpha.*",), read_only=True), prefix_tools=True)
    counts = {listener.type: listener.action_count for listener in runtime.listeners}
    assert counts == {"rest": 2, "mcp": 1}


def test_a_glob_that_matches_no_tool_is_a_warning(tmp_path: Path) -> None:
    runtime = _serve(tmp_path, Selection(include=("alpha.*", "gamma.*"), exclude=("delete-*",)))
    assert sorted(_warnings(runtime)) == [
        "--exclude-tools 'delete-*' matches no tool",
        "--include-tools 'gamma.*' matches no tool",
    ]


def test_a_selection_that_leaves_no_tool_says_so(tmp_path: Path) -> None:
    runtime = _serve(tmp_path, Selection(include=("add-*",), read_only=True))
    assert _tools(runtime) == []
    assert "the tool selection leaves none of the 4 tools" in _warnings(runtime)


def test_tools_left_out_cannot_clash_as_duplicates(tmp_path: Path) -> None:
    runtime = _serve(tmp_path, Selection(include=("alpha.*",)))
    assert sorted(_tools(runtime)) == ["add-thing", "list-things"]
