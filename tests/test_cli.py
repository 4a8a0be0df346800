"""cli.py: `naftiko validate`, `naftiko list` and `naftiko call` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from naftiko_runtime.cli import main
from tests.fakes import FakeServer

DATA = Path(__file__).parent / "data"
KOMBO = Path(__file__).parents[1] / "capabilities" / "kombo.yaml"

BROKEN_YAML = "naftiko: 1.0.0-alpha2\ncapability:\n  exposes: [\n    - a\n"


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN_YAML)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- validate


def test_validate_accepts_the_seed_capability_with_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", str(KOMBO))

    assert code == 0
    assert out.strip().splitlines()[-1] == f"{KOMBO}: valid"
    # An unset credential is a deployment matter, not a defect of the file.
    assert "KOMBO_API_KEY" not in out


def test_validate_reports_malformed_yaml_at_file_line_column_with_exit_1_and_no_traceback(
    capsys: pytest.CaptureFixture[str], broken: Path
) -> None:
    code, out, err = run(capsys, "validate", str(broken))

    assert code == 1
    assert f"{broken}:4:5: error: invalid YAML" in out
    assert f"{broken}: invalid" in out
    assert "Traceback" not in out + err


def test_validate_reports_a_model_error_with_its_field_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(KOMBO.read_text().replace("method: GET", "method: FETCH", 1))

    code, out, _ = run(capsys, "validate", str(path))

    assert code == 1
    assert "error: invalid value 'FETCH'" in out
    assert "(capability.consumes[0].resources[0].operations[0].method)" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("registry-bearer-token: x\n", "not a Naftiko capability"),
        (None, "cannot read file"),
    ],
)
def test_validate_refuses_what_is_not_a_readable_capability_with_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "secrets.yaml"
    if content is not None:
        path.write_text(content)

    code, out, err = run(capsys, "validate", str(path))

    assert code == 1
    assert message in out
    assert "Traceback" not in out + err


def test_validate_exits_1_when_any_of_several_files_is_invalid(
    capsys: pytest.CaptureFixture[str], broken: Path
) -> None:
    code, out, _ = run(capsys, "validate", str(KOMBO), str(broken))

    assert code == 1
    assert f"{KOMBO}: valid" in out
    assert f"{broken}: invalid" in out


def test_validate_json_format_lists_each_file_and_its_diagnostics(
    capsys: pytest.CaptureFixture[str], broken: Path
) -> None:
    code, out, _ = run(capsys, "validate", "--format", "json", str(DATA / "library.yaml"), str(broken))

    report = json.loads(out)
    assert code == 1
    assert report["valid"] is False
    good, bad = report["files"]
    assert (good["valid"], good["diagnostics"]) == (True, [])
    assert bad["valid"] is False
    [diagnostic] = bad["diagnostics"]
    assert (diagnostic["severity"], diagnostic["line"], diagnostic["column"]) == ("error", 4, 5)


def test_validate_strict_fails_the_generated_dialect_with_schema_findings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", "--strict", str(KOMBO))

    assert code == 1
    assert f"{KOMBO}:" in out and ": error: schema: " in out
    assert out.strip().splitlines()[-1] == f"{KOMBO}: invalid"


def test_validate_strict_passes_official_examples(capsys: pytest.CaptureFixture[str]) -> None:
    files = [
        DATA / "library.yaml",
        DATA / "official" / "mcp-capability.yaml",
        DATA / "official" / "step-1-shipyard-mock.yml",
    ]

    code, out, _ = run(capsys, "validate", "--strict", *map(str, files))

    assert code == 0, out
    assert all(f"{path}: valid" in out for path in files)


def test_validate_strict_fails_a_file_whose_adapters_were_skipped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "workers.yaml"
    path.write_text(
        "naftiko: 1.0.0-alpha2\ncapability:\n  exposes:\n  - type: workers-kv\n    namespace: s\n    port: 3003\n"
    )

    lenient, _, _ = run(capsys, "validate", str(path))
    strict, out, _ = run(capsys, "validate", "--strict", str(path))

    assert (lenient, strict) == (0, 1)
    assert "'workers-kv' is not supported" in out


def test_validate_reports_a_malformed_template_at_its_place_without_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "naftiko: 1.0.0-alpha2\n"
        "capability:\n"
        "  consumes:\n"
        "  - type: http\n"
        "    namespace: up\n"
        "    baseUri: http://up.invalid\n"
        "    resources:\n"
        "    - name: items\n"
        "      path: /items/{{id}}\n"
        "      operations:\n"
        "      - name: get\n"
        "  exposes:\n"
        "  - type: mcp\n"
        "    namespace: m\n"
        "    tools:\n"
        "    - name: get\n"
        "      description: d\n"
        "      call: up.get\n"
        "      with:\n"
        '        id: "{{/id}}"\n'
    )

    try:
        code, out, err = run(capsys, "validate", str(path))
    except Exception as exc:  # the bug: the exception escapes main()
        pytest.fail(f"naftiko validate raised {type(exc).__name__}: {exc}")

    assert code == 1
    assert f"{path}:" in out
    assert "Traceback" not in out + err


# -- list


def test_list_json_shows_kombos_thirteen_routes_and_thirteen_tools_with_annotations(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "list", "--format", "json", str(KOMBO))

    report = json.loads(out)
    assert code == 0
    rest, mcp = report["adapters"]
    assert len(rest["routes"]) == 13
    assert len(mcp["tools"]) == 13
    for tool in mcp["tools"]:
        assert set(tool["annotations"]) == {"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}
    read_only = sorted(tool["name"] for tool in mcp["tools"] if tool["annotations"]["readOnlyHint"])
    assert read_only == [
        "check-api-key",
        "get-custom-fields-current-mappings",
        "get-integration-details",
        "get-integration-fields",
        "get-tools",
    ]


def test_list_json_of_several_files_is_a_list_of_reports(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", "--format", "json", str(KOMBO), str(DATA / "zoo.yaml"))

    assert code == 0
    assert [report["label"] for report in json.loads(out)] == ["Kombo API", "Zoo API"]


def test_list_text_names_routes_tools_and_operations(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", str(DATA / "zoo.yaml"))

    assert code == 0
    assert "  REST zoo-rest :8081 (3 routes)" in out
    assert "  MCP  zoo-mcp :9091 (4 tools)" in out
    assert "GET    http://zoo.invalid/api/Zoos/{Zoo_Id}/animals/{animal-id}  (zoo.getanimal)" in out


def test_list_of_an_invalid_file_exits_1_with_its_diagnostics(capsys: pytest.CaptureFixture[str], broken: Path) -> None:
    code, out, err = run(capsys, "list", str(broken))

    assert code == 1
    assert out == ""
    assert f"{broken}:4:5: error" in err


# -- call and usage


async def _echo(request: Request) -> JSONResponse:
    return JSONResponse({"animal": request.path_params["rest"], "key": request.headers.get("x-zoo-key")})


@pytest.fixture
def zoo_upstream() -> Iterator[FakeServer]:
    with FakeServer(Starlette(routes=[Route("/{rest:path}", _echo)])) as server:
        yield server


def test_call_runs_one_tool_against_the_upstream_and_prints_its_result(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, zoo_upstream: FakeServer
) -> None:
    monkeypatch.setenv("ZOO_TOKEN", "zoo-key")

    code, out, _ = run(
        capsys,
        "call",
        str(DATA / "zoo.yaml"),
        "get-animal",
        "--arg",
        "zoo_id=berlin",
        "--json",
        '{"Animal-Id": "lion", "Include-Details": true}',
        "--base-uri",
        f"zoo={zoo_upstream.url}/api",
        "--read-timeout",
        "5",
    )

    assert code == 0
    assert json.loads(out) == {"animal": "api/Zoos/berlin/animals/lion", "key": "zoo-key"}
    assert zoo_upstream.last.raw_path == "/api/Zoos/berlin/animals/lion"
    assert zoo_upstream.last.query == [("Include-Details", "true")]


def test_call_of_an_unknown_tool_exits_1_listing_the_tools(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "call", str(DATA / "zoo.yaml"), "feed-animal")

    assert code == 1
    assert out.startswith("unknown tool 'feed-animal'; tools: add-animal, get-animal, list-keepers, remove-animal")


def test_call_with_a_bad_argument_exits_1_with_the_problem(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "call", str(DATA / "zoo.yaml"), "list-keepers", "--arg", "page_size=many", "--arg", "shift=day"
    )

    assert code == 1
    problem = json.loads(out)
    assert problem["status"] == 400
    assert problem["errors"] == [{"location": "page_size", "message": "expected integer, got string"}]


@pytest.mark.parametrize(
    "argv",
    [
        ["call", "x.yaml", "tool", "--arg", "novalue"],
        ["call", "x.yaml", "tool", "--json", "[1, 2]"],
        ["call", "x.yaml", "tool", "--base-uri", "no-equals-sign"],
    ],
)
def test_malformed_command_line_values_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, _, err = run(capsys, *argv)

    assert code == 2
    assert err.startswith("naftiko: ")


def test_the_installed_command_validates_as_a_subprocess(broken: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "naftiko_runtime", "validate", str(broken), str(KOMBO)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 1
    assert f"{broken}:4:5: error: invalid YAML" in done.stdout
    assert f"{KOMBO}: valid" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
