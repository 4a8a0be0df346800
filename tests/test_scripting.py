"""scripting.py: `script` steps in JavaScript and Python, run sandboxed in a child process per call."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
import yaml

from naftiko_runtime.scripting import (
    DEFAULT_STATEMENT_LIMIT,
    DEFAULT_TIMEOUT_MS,
    ScriptError,
    ScriptSettings,
    ScriptStep,
    _Watch,
    compile_script_step,
)
from naftiko_runtime.spec.models import Step

SCRIPTS = Path(__file__).parent / "data" / "scripts"
EXAMPLE = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "naftiko-alpha2" / "src" / "main" / "resources"
EXAMPLE = EXAMPLE / "schemas" / "examples" / "script-step.yml"

MEMBERS = [
    {"login": "alice", "id": 1, "type": "User"},
    {"login": "bot-ci", "id": 2, "type": "Bot"},
    {"login": "bob", "id": 3, "type": "User"},
]
READINGS = [{"temperature": 20.0}, {"temperature": 25.0}, {"temperature": 30.0}]
ITEMS = [{"name": "Widget", "stock": 5}, {"name": "Gadget", "stock": 15}, {"name": "Gizmo", "stock": 3}]


def script_step(file: str, language: str | None = None, directory: Path = SCRIPTS, **fields: Any) -> Step:
    data: dict[str, Any] = {"type": "script", "name": fields.pop("name", "transform"), "file": file}
    if language is not None:
        data["language"] = language
    data.setdefault("location", directory.resolve().as_uri())
    if "with_values" in fields:
        data["with"] = fields.pop("with_values")
    data.update(fields)
    if data["location"] is None:
        del data["location"]
    return Step.model_validate(data)


def compiled(
    file: str, language: str | None = None, settings: ScriptSettings | None = None, **fields: Any
) -> ScriptStep:
    directory = fields.pop("directory", SCRIPTS)
    step = script_step(file, language, directory, **fields)
    return compile_script_step(step, directory, settings or ScriptSettings())


async def failure(step: ScriptStep, context: dict[str, Any] | None = None) -> str:
    with pytest.raises(ScriptError) as raised:
        await step.run({}, context or {})
    return str(raised.value)


def language_of(file: str) -> str:
    return "python" if file.endswith(".py") else "javascript"


# --- what scripts see and give back ------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_javascript_step_filters_an_earlier_steps_output_with_helpers_from_a_dependency() -> None:
    step = compiled("filter-active.js", "javascript", dependencies=["lib/array-utils.js"], name="filter-active")

    assert step.load_problem is None
    result = await step.run({"org": "naftiko"}, {"org": "naftiko", "list-members": MEMBERS})

    assert result == [{"login": "alice", "id": 1}, {"login": "bob", "id": 3}]


@pytest.mark.anyio
async def test_a_python_step_computes_statistics_with_a_dependency_and_reads_the_arguments() -> None:
    step = compiled("analyze-readings.py", "python", dependencies=["lib/stats.py"], name="analyze")

    result = await step.run({"device_id": "dev-7"}, {"device-id": "dev-7", "fetch-readings": READINGS})

    assert result == {"average": 25.0, "min": 20.0, "max": 30.0, "count": 3, "device": "dev-7"}


@pytest.mark.anyio
@pytest.mark.parametrize("file", ["filter-by-threshold.js", "filter-by-threshold.py"])
async def test_with_values_are_rendered_over_the_context_and_join_it(file: str) -> None:
    step = compiled(file, language_of(file), with_values={"threshold": "{{minStock}}"})

    result = await step.run({"minstock": 10}, {"minStock": 10, "fetch-items": ITEMS})

    assert [item["name"] for item in result] == ["Widget", "Gizmo"]


@pytest.mark.anyio
async def test_with_values_select_json_by_jsonpath_and_pass_literals_as_written() -> None:
    step = compiled("simple-transform.js", "javascript", with_values={"org": "$.fetch-org.login", "extra": [1, 2]})

    result = await step.run({}, {"fetch-org": {"login": "naftiko"}})

    assert result["org"] == "naftiko"


@pytest.mark.anyio
async def test_inputs_rendered_by_the_caller_replace_the_steps_own_with_rendering() -> None:
    step = compiled("filter-by-threshold.py", "python", with_values={"threshold": "{{minStock}}"})

    result = await step.run({}, {"fetch-items": ITEMS}, inputs={"threshold": 4})

    assert [item["name"] for item in result] == ["Gizmo"]


@pytest.mark.anyio
@pytest.mark.parametrize("file", ["no-result.js", "no-result.py"])
async def test_a_script_that_never_assigns_result_fails_clearly(file: str) -> None:
    message = await failure(compiled(file, language_of(file)), {"some-step": {"key": "value"}})

    assert message == "script step 'transform': the script did not assign 'result'"


@pytest.mark.anyio
async def test_python_results_become_json_values() -> None:
    directory = SCRIPTS / "sandbox"
    step = compiled("json-values.py", "python", directory=directory)

    result = await step.run({}, {})

    assert result == {"pair": [1, 2], "tags": ["a"], "when": "2024-01-02", "missing": None, "nested": {"1": [True]}}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("file", "expected"),
    [("function-result.js", "not JSON-compatible (function)"), ("bigint-result.js", "serialize a BigInt")],
)
async def test_a_javascript_result_that_is_not_json_fails_clearly(file: str, expected: str) -> None:
    message = await failure(compiled(file, "javascript", directory=SCRIPTS / "sandbox"))

    assert expected in message


# --- errors name the file and line, never a host path or a traceback ---------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("file", "expected"),
    [
        ("syntax-error.js", "script step 'transform': syntax-error.js line 2: SyntaxError: Unexpected token ';'"),
        ("runtime-error.js", "script step 'transform': runtime-error.js line 2: TypeError: Cannot read properties"),
        ("runtime-error.py", "script step 'transform': runtime-error.py line 2: ZeroDivisionError: division by zero"),
    ],
)
async def test_a_failing_script_names_its_file_and_line(file: str, expected: str) -> None:
    message = await failure(compiled(file, language_of(file)))

    assert message.startswith(expected)
    assert str(SCRIPTS) not in message and "Traceback" not in message


@pytest.mark.anyio
async def test_a_python_syntax_error_is_found_at_load_and_named_when_called() -> None:
    step = compiled("syntax-error.py", "python")

    assert step.load_problem is not None
    assert step.load_problem.startswith("script step 'transform': syntax-error.py line 2: SyntaxError")
    assert await failure(step) == step.load_problem


@pytest.mark.anyio
async def test_an_error_in_a_dependency_names_the_dependency() -> None:
    step = compiled("simple-transform.js", "javascript", dependencies=["runtime-error.js"])

    message = await failure(step)

    assert message.startswith("script step 'transform': runtime-error.js line 2: TypeError")


# --- limits -------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_an_endless_javascript_loop_is_stopped_by_the_timeout() -> None:
    settings = ScriptSettings(timeout_ms=300, statement_limit=10_000_000)
    started = time.monotonic()

    message = await failure(compiled("infinite-loop.js", "javascript", settings))

    assert message == "script step 'transform': exceeded the timeout (300 ms)"
    assert time.monotonic() - started < 5


@pytest.mark.anyio
async def test_an_endless_javascript_loop_is_stopped_by_the_statement_limit_as_a_time_budget() -> None:
    settings = ScriptSettings(timeout_ms=10_000, statement_limit=10)
    started = time.monotonic()

    message = await failure(compiled("infinite-loop.js", "javascript", settings))

    assert message.startswith("script step 'transform': exceeded the statement limit (10; for JavaScript")
    assert time.monotonic() - started < 5


@pytest.mark.anyio
async def test_an_endless_python_loop_is_stopped_by_counting_its_statements() -> None:
    settings = ScriptSettings(timeout_ms=10_000, statement_limit=1000)

    message = await failure(compiled("infinite-loop.py", "python", settings))

    assert message == "script step 'transform': exceeded the statement limit (1000)"


@pytest.mark.anyio
async def test_the_python_statement_count_leaves_library_code_uncounted() -> None:
    settings = ScriptSettings(statement_limit=20)
    step = compiled("summarize-values.py", "python", settings, dependencies=["lib/stats.py"])

    result = await step.run({}, {"values": list(range(100_000))})

    assert result == {"average": 49999.5, "min": 0, "max": 99999, "count": 100_000}


@pytest.mark.anyio
async def test_an_endless_python_loop_is_stopped_by_the_timeout() -> None:
    settings = ScriptSettings(timeout_ms=300, statement_limit=10**12)
    started = time.monotonic()

    message = await failure(compiled("infinite-loop.py", "python", settings))

    assert message == "script step 'transform': exceeded the timeout (300 ms)"
    assert time.monotonic() - started < 5


@pytest.mark.anyio
async def test_a_python_script_that_catches_its_stop_is_ended_all_the_same() -> None:
    settings = ScriptSettings(timeout_ms=10_000, statement_limit=1000)
    started = time.monotonic()

    message = await failure(compiled("catch-the-stop.py", "python", settings, directory=SCRIPTS / "sandbox"))

    assert message == "script step 'transform': exceeded the statement limit (1000)"
    assert time.monotonic() - started < 5


@pytest.mark.anyio
async def test_a_computation_the_engine_cannot_interrupt_is_killed_near_the_deadline() -> None:
    settings = ScriptSettings(timeout_ms=300)
    started = time.monotonic()

    message = await failure(compiled("huge-power.py", "python", settings, directory=SCRIPTS / "sandbox"))

    assert "exceeded the timeout (300 ms)" in message
    assert time.monotonic() - started < 300 / 1000 + 4


@pytest.mark.anyio
@pytest.mark.parametrize("file", ["allocate.js", "allocate.py"])
async def test_a_runaway_allocation_is_stopped_by_the_memory_limit(file: str) -> None:
    settings = ScriptSettings(timeout_ms=10_000, statement_limit=10**9, memory_limit_mb=64)

    message = await failure(compiled(file, language_of(file), settings))

    assert message == "script step 'transform': exceeded the memory limit (64 MiB)"


@pytest.mark.anyio
async def test_a_script_runs_without_blocking_the_event_loop() -> None:
    settings = ScriptSettings(timeout_ms=400, statement_limit=10**12)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await anyio.sleep(0.01)
            ticks += 1

    async with anyio.create_task_group() as group:
        group.start_soon(tick)
        with pytest.raises(ScriptError):
            await compiled("infinite-loop.py", "python", settings).run({}, {})
        group.cancel_scope.cancel()

    assert ticks >= 20


@pytest.mark.anyio
async def test_a_cancelled_call_ends_promptly() -> None:
    step = compiled("infinite-loop.js", "javascript", ScriptSettings(timeout_ms=30_000, statement_limit=10**12))
    started = time.monotonic()

    with anyio.move_on_after(0.3):
        await step.run({}, {})

    assert time.monotonic() - started < 3


# --- the sandbox ----------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_javascript_has_no_require_module_loader_network_or_file_api() -> None:
    result = await compiled("host-access.js", "javascript", directory=SCRIPTS / "sandbox").run({}, {})

    assert result == {"found": [], "probe": {"imported": "refused"}}


@pytest.mark.anyio
async def test_python_scripts_use_the_allowed_modules() -> None:
    result = await compiled("allowed-modules.py", "python", directory=SCRIPTS / "sandbox").run({}, {})

    assert result == {
        "common": [["a", 5], ["b", 2]],
        "date": "2024-01-02T00:00:00",
        "median": 3,
        "sub": "b-d",
        "point": [1, 2],
        "total": 45,
        "padded": "00045",
        "product": 6,
        "sqrt": 4.0,
    }


PYTHON_ESCAPES = {
    "import os": "ImportError: import of 'os' is not allowed",
    "import socket": "ImportError: import of 'socket' is not allowed",
    "from urllib import request": "ImportError: import of 'urllib' is not allowed",
    "result = open('/etc/hostname').read()": "NameError: name 'open' is not defined",
    "result = ().__class__": '"__class__" is an invalid attribute name',
    "result = getattr((), '__class__')": "invalid attribute name",
    "result = '{0.__class__}'.format(1)": "format*() methods of `str` is not safe",
    "g = (x for x in [1])\nresult = g.gi_frame": '"gi_frame" is a restricted name',
    "import statistics\nresult = statistics.sys": "AttributeError",
    "import json\nresult = json.decoder": "AttributeError",
    "result = type(1)": "NameError: name 'type' is not defined",
    "result = eval('1')": "Eval calls are not allowed",
    "result = __import__('os')": '"__import__" is an invalid variable name',
}


@pytest.mark.anyio
@pytest.mark.parametrize("source", PYTHON_ESCAPES)
async def test_python_scripts_cannot_reach_modules_files_or_internals(source: str, tmp_path: Path) -> None:
    (tmp_path / "escape.py").write_text(source + "\n")
    step = compiled("escape.py", "python", directory=tmp_path)

    message = step.load_problem or await failure(step)

    assert PYTHON_ESCAPES[source] in message


@pytest.mark.parametrize(
    "event",
    ["open", "socket.connect", "socket.getaddrinfo", "subprocess.Popen", "os.system", "import", "ctypes.dlopen"],
)
def test_the_audit_hook_refuses_files_network_and_processes_while_a_script_runs(event: str) -> None:
    watch = _Watch(frozenset({"x.py"}), statement_limit=10, timeout_ms=100)
    watch.audit(event, ())  # not armed: our own set-up and reply are not hindered

    watch.armed = True
    with pytest.raises(PermissionError, match="the sandbox refuses"):
        watch.audit(event, ())
    watch.audit("exec", ())
    watch.audit("sys._getframe", ())


# --- files and locations --------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_missing_file_is_a_load_problem_and_a_clear_error_when_called() -> None:
    step = compiled("nowhere.js", "javascript", name="filter-active")

    assert step.load_problem == "script step 'filter-active': script file 'nowhere.js' was not found in the location"
    assert await failure(step) == step.load_problem


def test_a_missing_dependency_is_a_load_problem() -> None:
    step = compiled("filter-active.js", "javascript", dependencies=["lib/nowhere.js"])

    assert step.load_problem == "script step 'transform': script file 'lib/nowhere.js' was not found in the location"


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        ("../test_scripting.py", "must not use '..'"),
        ("lib/../../test_scripting.py", "must not use '..'"),
        ("/etc/hostname", "must be relative to the location"),
        ("lib\\array-utils.js", "must be relative to the location"),
        ("my script.js", "unsafe segment"),
        ("lib//array-utils.js", "unsafe segment"),
    ],
)
def test_paths_that_leave_the_location_are_refused(file: str, expected: str) -> None:
    step = compiled(file, "javascript")

    assert step.load_problem is not None and expected in step.load_problem


def test_symbolic_links_that_lead_out_of_the_location_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.js").write_text("result = 'secret';\n")
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "leak.js").symlink_to(outside / "secret.js")
    (scripts / "lib").symlink_to(outside)

    for file in ["leak.js", "lib/secret.js"]:
        step = compiled(file, "javascript", directory=scripts)
        assert (
            step.load_problem
            == f"script step 'transform': script path '{file}' leads out of the location (symbolic link)"
        )


def test_a_symbolic_link_inside_the_location_is_followed(tmp_path: Path) -> None:
    (tmp_path / "real.js").write_text("result = 1;\n")
    (tmp_path / "alias.js").symlink_to(tmp_path / "real.js")

    assert compiled("alias.js", "javascript", directory=tmp_path).load_problem is None


@pytest.mark.parametrize(
    "location", ["https://scripts.example.com/", "vault://scripts", "scripts", "file://host/scripts", "file:/scripts"]
)
def test_a_location_that_is_not_a_file_uri_is_refused(location: str) -> None:
    step = compiled("filter-active.js", "javascript", location=location)

    assert step.load_problem == (
        f"script step 'transform': location '{location}' is not a file:/// URI (the only kind supported)"
    )


@pytest.mark.anyio
async def test_a_location_starting_with_dot_is_relative_to_the_capability_directory() -> None:
    step = script_step("simple-transform.js", "javascript", location="file:///./scripts")

    compiled_step = compile_script_step(step, SCRIPTS.parent, ScriptSettings())

    assert compiled_step.load_problem is None
    assert (await compiled_step.run({}, {"org": "naftiko"}))["org"] == "naftiko"


def test_a_location_that_does_not_exist_names_no_host_path() -> None:
    step = compiled("filter-active.js", "javascript", location="file:///app/capabilities/scripts")

    assert step.load_problem == "script step 'transform': its location directory does not exist"


# --- the control port's scripting settings --------------------------------------------------------------


@pytest.mark.anyio
async def test_language_and_location_default_to_the_control_ports_settings() -> None:
    settings = ScriptSettings(default_location=SCRIPTS.resolve().as_uri(), default_language="javascript")
    step = compile_script_step(script_step("simple-transform.js", location=None), SCRIPTS, settings)

    assert step.load_problem is None
    assert (await step.run({}, {"org": "o"}))["greeting"] == "hello"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"location": None},
            "has no 'location': set it on the step or 'management.scripting.defaultLocation' on the control adapter",
        ),
        (
            {"language": None},
            "has no 'language': set it on the step or 'management.scripting.defaultLanguage' on the control adapter",
        ),
        ({"language": "groovy"}, "groovy scripts are not supported by this runtime (javascript and python are)"),
        ({"language": "ruby"}, "language 'ruby' is unknown (javascript or python)"),
    ],
)
def test_a_step_that_cannot_be_run_says_why(fields: dict[str, Any], expected: str) -> None:
    data = {"language": "javascript", **fields}
    step = compile_script_step(script_step("simple-transform.js", **data), SCRIPTS, ScriptSettings())

    assert step.load_problem == f"script step 'transform': {expected}"


def test_a_language_outside_the_allowed_languages_is_refused() -> None:
    step = compiled("analyze-readings.py", "python", ScriptSettings(allowed_languages=("javascript",)))

    assert step.load_problem == (
        "script step 'transform': language 'python' is not in the allowed languages (javascript)"
    )


@pytest.mark.anyio
async def test_disabled_scripting_refuses_every_script_step() -> None:
    step = compiled("simple-transform.js", "javascript", ScriptSettings(enabled=False))

    assert await failure(step) == (
        "script step 'transform': scripting is disabled "
        "(management.scripting.enabled on the control adapter, or NAFTIKO_SCRIPTING=false)"
    )


def test_settings_are_read_from_the_control_ports_management_scripting() -> None:
    settings = ScriptSettings.from_management(
        {
            "enabled": True,
            "defaultLocation": "file:///app/capabilities/scripts",
            "defaultLanguage": "javascript",
            "timeout": 3000,
            "statementLimit": 50000,
            "allowedLanguages": ["javascript", "python"],
        },
        environ={"NAFTIKO_SCRIPTING": "false"},
    )

    assert settings == ScriptSettings(
        enabled=True,
        default_location="file:///app/capabilities/scripts",
        default_language="javascript",
        timeout_ms=3000,
        statement_limit=50000,
        allowed_languages=("javascript", "python"),
    )


def test_without_settings_the_reference_defaults_apply_and_the_environment_can_disable_scripting() -> None:
    defaults = ScriptSettings.from_management(None, environ={})

    assert (defaults.enabled, defaults.timeout_ms, defaults.statement_limit) == (
        True,
        DEFAULT_TIMEOUT_MS,
        DEFAULT_STATEMENT_LIMIT,
    )
    assert (DEFAULT_TIMEOUT_MS, DEFAULT_STATEMENT_LIMIT) == (60_000, 100_000)
    assert ScriptSettings.from_management({}, environ={"NAFTIKO_SCRIPTING": "FALSE"}).enabled is False
    assert ScriptSettings.from_management({"timeout": 0, "statementLimit": -1}, environ={}).timeout_ms == 60_000


def test_the_official_examples_script_steps_compile_with_a_load_problem_naming_no_host_path() -> None:
    if not EXAMPLE.exists():
        pytest.skip("the alpha2 corpus is not beside the checkout")
    document = yaml.safe_load(EXAMPLE.read_text())
    control = next(item for item in document["capability"]["exposes"] if item["type"] == "control")
    settings = ScriptSettings.from_management(control["management"]["scripting"], environ={})
    tools = next(item for item in document["capability"]["exposes"] if item["type"] == "mcp")["tools"]
    steps = [Step.model_validate(step) for tool in tools for step in tool["steps"] if step["type"] == "script"]

    problems = [compile_script_step(step, EXAMPLE.parent, settings).load_problem for step in steps]

    assert problems == [
        "script step 'filter-active': its location directory does not exist",
        "script step 'analyze': its location directory does not exist",
    ]
    assert math.isclose(settings.timeout_ms, 3000) and settings.statement_limit == 50000
