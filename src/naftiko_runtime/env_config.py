"""Every option of a command also read from the environment, the container way.

`--prefix-tools` is `NAFTIKO_PREFIX_TOOLS`, the positional `PATH...` is `NAFTIKO_PATHS`: the name
is derived from the parser, so an option added later is covered with no change here. The command
line wins: a variable is used only when its option (for positional arguments: any positional
argument) is absent from it. Values: a switch takes true/false (also 1/0, yes/no, on/off); a
repeatable option or a list takes comma-separated items; any other option its value as written
on the command line. An empty variable counts as unset. Values are checked as the option checks
them, and a bad one is a usage error naming the variable.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

PREFIX = "NAFTIKO_"
TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})
SYNTAX = (
    "Every option can also be set by the environment variable shown beside it; the command line wins. "
    "Switches: true or false. Repeatable options and PATH: comma-separated items "
    "(NAFTIKO_PORT=8080=18080,9090=19090). Others: the value as on the command line."
)
_LIST_ACTIONS = (argparse._AppendAction, argparse._ExtendAction)
_NOT_SETTINGS = (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)


class VariableError(Exception):
    """An environment variable whose value the option it sets refuses."""


@dataclass(frozen=True, slots=True)
class Merged:
    """A command's arguments with what the environment adds, and which option each variable set."""

    argv: list[str]
    sources: dict[str, str] = field(default_factory=dict)  # option string (or metavar) -> variable

    def note(self, message: str) -> str:
        """` (from NAFTIKO_X)` for a message about an option the environment set, else nothing."""
        named = [variable for option, variable in self.sources.items() if _names(message, option)]
        return f" (from {', '.join(named)})" if named else ""


def _names(message: str, option: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", message) is not None


def subcommand(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser = action.choices[name]
            return found
    raise KeyError(name)


def variable(action: argparse.Action) -> str | None:
    """`NAFTIKO_<OPTION>` of an option (its longest spelling), `NAFTIKO_<DEST>` of a positional argument."""
    if isinstance(action, _NOT_SETTINGS) or action.help == argparse.SUPPRESS:
        return None
    name = max(action.option_strings, key=len).lstrip("-") if action.option_strings else action.dest
    return PREFIX + name.upper().replace("-", "_")


def describe(parser: argparse.ArgumentParser) -> None:
    """Each option's help ends with `[env NAFTIKO_X]`; the epilog says how values are written."""
    for action in parser._actions:
        name = variable(action)
        if name is not None:
            action.help = f"{action.help} [env {name}]" if action.help else f"[env {name}]"
    parser.epilog = f"{parser.epilog}\n\n{SYNTAX}" if parser.epilog else SYNTAX


def merge(parser: argparse.ArgumentParser, argv: Sequence[str], environ: Mapping[str, str]) -> Merged:
    """`argv` (the command's own arguments) with options the environment sets and the command line does not."""
    given, positional_given = _given(parser, argv)
    if any(isinstance(action, argparse._HelpAction) for action in given):
        return Merged(list(argv))
    options: list[str] = []
    positionals: list[str] = []
    sources: dict[str, str] = {}
    for action in parser._actions:
        name = variable(action)
        raw = environ.get(name, "").strip() if name is not None else ""
        if name is None or not raw or action in given:
            continue
        if action.option_strings:
            options += _option_tokens(action, name, raw)
            sources[max(action.option_strings, key=len)] = name
        elif not positional_given:
            positionals += [_checked(action, name, item) for item in _items(raw)]
            sources[action.metavar if isinstance(action.metavar, str) else action.dest] = name
    tail = list(argv)
    if positionals:
        tail += positionals if "--" in tail else ["--", *positionals]
    return Merged([*options, *tail], sources)


def _given(parser: argparse.ArgumentParser, argv: Sequence[str]) -> tuple[set[argparse.Action], bool]:
    """The options named in `argv` (abbreviations resolved as argparse does), and whether it has positionals."""
    actions: set[argparse.Action] = set()
    positional = False
    index = 0
    while index < len(argv):
        token = argv[index]
        index += 1
        if token == "--":
            return actions, positional or index < len(argv)
        if not _looks_like_option(parser, token):
            positional = True
            continue
        name, inline, _ = token.partition("=")
        action = _option(parser, name)
        if action is None:
            continue  # argparse reports it
        actions.add(action)
        if not inline:
            index += _arity(action, argv[index:], parser)
    return actions, positional


def _looks_like_option(parser: argparse.ArgumentParser, token: str) -> bool:
    if not token.startswith(tuple(parser.prefix_chars)) or len(token) < 2:
        return False
    return not (token[1:].replace(".", "", 1).isdigit())  # a negative number is a value


def _option(parser: argparse.ArgumentParser, name: str) -> argparse.Action | None:
    known = parser._option_string_actions
    if name in known:
        return known[name]
    if parser.allow_abbrev and name.startswith("--"):
        matches = {known[option] for option in known if option.startswith(name)}
        if len(matches) == 1:
            return matches.pop()
    return None


def _arity(action: argparse.Action, rest: Sequence[str], parser: argparse.ArgumentParser) -> int:
    """How many of the following tokens an option given without `=` consumes."""
    nargs = action.nargs
    if nargs is None:
        return 1
    if isinstance(nargs, int):
        return nargs
    values = 0
    while values < len(rest) and not _looks_like_option(parser, rest[values]):
        values += 1
        if nargs == argparse.OPTIONAL:
            break
    return values


def _items(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def _option_tokens(action: argparse.Action, name: str, raw: str) -> list[str]:
    option = max(action.option_strings, key=len)
    if action.nargs == 0:
        return [option] * _switch(action, name, raw)
    if isinstance(action, _LIST_ACTIONS) or action.nargs in (argparse.ZERO_OR_MORE, argparse.ONE_OR_MORE):
        items = [_checked(action, name, item) for item in _items(raw)]
        if isinstance(action, _LIST_ACTIONS) and action.nargs is None:
            return [f"{option}={item}" for item in items]
        return [option, *items]
    return [f"{option}={_checked(action, name, raw)}"]


def _switch(action: argparse.Action, name: str, raw: str) -> int:
    """How many times to give a switch: once for true, never for false (a count: the number)."""
    value = raw.lower()
    if isinstance(action, argparse._CountAction) and value.isdigit():
        return int(value)
    if value in TRUE:
        return 1
    if value in FALSE:
        return 0
    raise VariableError(f"{name}: expected true or false, got {raw!r}")


def _checked(action: argparse.Action, name: str, item: str) -> str:
    """`item` unchanged, once the option's type and choices accept it."""
    value: object = item
    if callable(action.type):
        try:
            value = action.type(item)
        except argparse.ArgumentTypeError as exc:
            raise VariableError(f"{name}: {exc}") from None
        except (TypeError, ValueError):
            kind = getattr(action.type, "__name__", "")
            raise VariableError(f"{name}: invalid {kind} value {item!r}".replace("  ", " ")) from None
    if action.choices is not None and value not in action.choices:
        choices = ", ".join(map(str, action.choices))
        raise VariableError(f"{name}: {item!r} is not one of {choices}")
    return item
