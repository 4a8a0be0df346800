"""`NAFTIKO_<OPTION>` variables: every `serve` option read from the environment, the command line winning."""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from pathlib import Path

import pytest

from naftiko_runtime import cli
from naftiko_runtime.env_config import VariableError, describe, merge, subcommand, variable

KOMBO = Path(__file__).resolve().parents[1] / "capabilities" / "kombo.yaml"


def serve_parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    parser = cli._parser()
    return parser, subcommand(parser, "serve")


def parsed(environ: Mapping[str, str], *argv: str) -> argparse.Namespace:
    parser, serve = serve_parser()
    return parser.parse_args(["serve", *merge(serve, list(argv), environ).argv])


def test_a_switch_set_to_true_is_given_and_false_is_not() -> None:
    assert parsed({"NAFTIKO_PREFIX_TOOLS": "true"}, "a.yaml").prefix_tools is True
    assert parsed({"NAFTIKO_PREFIX_TOOLS": "TRUE", "NAFTIKO_READ_ONLY": "1"}, "a.yaml").read_only is True
    assert parsed({"NAFTIKO_PREFIX_TOOLS": "false"}, "a.yaml").prefix_tools is False
    assert parsed({"NAFTIKO_PREFIX_TOOLS": "off"}, "a.yaml").prefix_tools is False


def test_a_repeatable_option_takes_comma_separated_items() -> None:
    args = parsed({"NAFTIKO_PORT": "8080=18080, 9090=19090", "NAFTIKO_CORS_ORIGIN": "https://a.example"}, "a.yaml")
    assert args.port == ["8080=18080", "9090=19090"]
    assert args.cors_origin == ["https://a.example"]


def test_a_value_option_keeps_its_value_whole_equals_signs_included() -> None:
    args = parsed({"NAFTIKO_HOST": "0.0.0.0", "NAFTIKO_BASE_URI": "kombo-general=http://up:1/v1?a=b"}, "a.yaml")
    assert args.host == "0.0.0.0"
    assert args.base_uri == ["kombo-general=http://up:1/v1?a=b"]


def test_typed_values_arrive_converted_as_from_the_command_line() -> None:
    args = parsed({"NAFTIKO_WORKERS": "3", "NAFTIKO_GRACEFUL_TIMEOUT": "2.5", "NAFTIKO_LOG_LEVEL": "debug"}, "a.yaml")
    assert (args.workers, args.graceful_timeout, args.log_level) == (3, 2.5, "debug")


def test_paths_come_from_naftiko_paths_when_the_command_line_names_none() -> None:
    assert parsed({"NAFTIKO_PATHS": "/capabilities, /more"}).paths == [Path("/capabilities"), Path("/more")]
    assert parsed({"NAFTIKO_PATHS": "/capabilities"}, "--workers", "2").paths == [Path("/capabilities")]
    assert parsed({"NAFTIKO_PATHS": "/capabilities"}, "mine.yaml").paths == [Path("mine.yaml")]
    assert parsed({"NAFTIKO_PATHS": "/capabilities"}, "--port", "8080=0", "--", "x.yaml").paths == [Path("x.yaml")]


def test_the_command_line_wins_over_the_environment() -> None:
    environ = {"NAFTIKO_PORT": "8080=1", "NAFTIKO_LOG_LEVEL": "debug", "NAFTIKO_HOST": "0.0.0.0"}
    args = parsed(environ, "a.yaml", "--port", "9090=2", "--log-level=warning", "--ho", "::1")
    assert args.port == ["9090=2"]  # not added to: replaced
    assert args.log_level == "warning"
    assert args.host == "::1"  # an abbreviation names the option too


def test_an_empty_variable_counts_as_unset() -> None:
    assert parsed({"NAFTIKO_HOST": "", "NAFTIKO_PORT": " "}, "a.yaml").host is None


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"NAFTIKO_PREFIX_TOOLS": "maybe"}, "NAFTIKO_PREFIX_TOOLS: expected true or false, got 'maybe'"),
        ({"NAFTIKO_WORKERS": "zero"}, "NAFTIKO_WORKERS: expected a number of processes from 1 to 64, got 'zero'"),
        ({"NAFTIKO_LOG_LEVEL": "loud"}, "NAFTIKO_LOG_LEVEL: 'loud' is not one of debug, info, warning, error"),
        ({"NAFTIKO_METRICS_PORT": "80,81"}, "NAFTIKO_METRICS_PORT: expected a port number from 0 to 65535"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(environ: dict[str, str], message: str) -> None:
    _, serve = serve_parser()
    with pytest.raises(VariableError, match="^" + re.escape(message)):
        merge(serve, ["a.yaml"], environ)


def test_every_serve_option_names_its_variable_in_help() -> None:
    _, serve = serve_parser()
    describe(serve)
    settings = [action for action in serve._actions if not isinstance(action, argparse._HelpAction)]
    assert len(settings) > 30
    for action in settings:
        assert action.help is not None and action.help.endswith(f"[env {variable(action)}]"), action.option_strings
    assert variable(next(a for a in settings if "--prefix-tools" in a.option_strings)) == "NAFTIKO_PREFIX_TOOLS"
    assert variable(next(a for a in settings if not a.option_strings)) == "NAFTIKO_PATHS"
    assert "the command line wins" in (serve.epilog or "")


def test_an_option_added_to_the_parser_later_is_covered_with_no_change() -> None:
    _, serve = serve_parser()
    serve.add_argument("--brand-new-limit", type=int, action="append", default=[])
    serve.add_argument("--brand-new-switch", action="store_true")
    environ = {"NAFTIKO_BRAND_NEW_LIMIT": "1,2", "NAFTIKO_BRAND_NEW_SWITCH": "yes"}
    args = serve.parse_args(merge(serve, ["a.yaml"], environ).argv)
    assert (args.brand_new_limit, args.brand_new_switch) == ([1, 2], True)
    with pytest.raises(VariableError, match=r"^NAFTIKO_BRAND_NEW_LIMIT: invalid int value 'x'"):
        merge(serve, ["a.yaml"], {"NAFTIKO_BRAND_NEW_LIMIT": "1,x"})


def test_help_is_shown_whatever_the_environment_holds() -> None:
    _, serve = serve_parser()
    assert merge(serve, ["--help"], {"NAFTIKO_WORKERS": "zero"}).argv == ["--help"]


def test_the_cli_reports_a_bad_variable_as_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NAFTIKO_WORKERS", "many")
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", str(KOMBO)])
    assert exited.value.code == 2
    assert "naftiko serve: error: NAFTIKO_WORKERS: expected a number of processes" in capsys.readouterr().err


def test_a_later_usage_error_about_an_option_names_the_variable_that_set_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NAFTIKO_PORT", "8080")
    assert cli.main(["serve", str(KOMBO)]) == 2
    assert "naftiko: --port expects KEY=VALUE, got '8080' (from NAFTIKO_PORT)" in capsys.readouterr().err


def test_other_commands_read_no_variables(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("NAFTIKO_FORMAT", "json")
    monkeypatch.setenv("NAFTIKO_PATHS", "/nowhere")
    assert cli.main(["validate", str(KOMBO)]) == 0
    assert capsys.readouterr().out.strip().endswith("kombo.yaml: valid")
