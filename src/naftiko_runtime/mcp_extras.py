"""MCP resources and prompts of an `mcp` expose, compiled at load.

A dynamic resource is an action (call or steps) whose arguments are the `{param}`s of its
URI; a static resource is every file under its `location` directory. A prompt is a list of
messages with Mustache placeholders, inline or read from a file.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from naftiko_runtime.engine import Action
from naftiko_runtime.spec.models import McpPrompt, McpResource
from naftiko_runtime.templates import Template

_URI_PARAM = re.compile(r"\{([^{}/]+)\}")
MAX_STATIC_FILES = 1000


class ExtrasError(ValueError):
    """A resource or prompt that cannot be served; the message says why."""


@dataclass(slots=True)
class Resource:
    name: str
    uri: str
    title: str | None
    description: str | None
    mime_type: str | None
    action: Action | None = None
    # The URI as a regex with one group per parameter, for templates.
    pattern: re.Pattern[str] | None = None
    parameters: list[str] = field(default_factory=list)
    file: Path | None = None

    @property
    def is_template(self) -> bool:
        return self.pattern is not None

    def match(self, uri: str) -> dict[str, str] | None:
        if self.pattern is None:
            return {} if uri == self.uri else None
        found = self.pattern.fullmatch(uri)
        return (
            {name: unquote(value) for name, value in zip(self.parameters, found.groups(), strict=True)}
            if found
            else None
        )


@dataclass(slots=True)
class Prompt:
    name: str
    title: str | None
    description: str | None
    arguments: list[tuple[str, str | None, bool]]
    messages: list[tuple[str, Template]]

    def render(self, given: dict[str, str]) -> list[tuple[str, str]]:
        missing = [name for name, _, required in self.arguments if required and not given.get(name)]
        if missing:
            raise ExtrasError(f"prompt '{self.name}' needs argument(s): {', '.join(missing)}")
        return [(role, template.render(given)) for role, template in self.messages]


def compile_resource(
    spec: McpResource, base_dir: Path, make_action: Callable[[McpResource, list[str]], Action]
) -> list[Resource]:
    if spec.location:
        return _static(spec, _directory(spec.location, base_dir))
    parameters = _URI_PARAM.findall(spec.uri)
    pattern = None
    if parameters:
        pieces = _URI_PARAM.split(spec.uri)
        regex = "".join(re.escape(piece) if index % 2 == 0 else "([^/]+)" for index, piece in enumerate(pieces))
        pattern = re.compile(regex)
    action = make_action(spec, parameters)
    return [Resource(spec.name, spec.uri, spec.label, spec.description, spec.mime_type, action, pattern, parameters)]


def _static(spec: McpResource, directory: Path) -> list[Resource]:
    if not directory.is_dir():
        raise ExtrasError(f"resource '{spec.name}': location {directory} is not a directory")
    files = sorted(path for path in directory.rglob("*") if path.is_file())[:MAX_STATIC_FILES]
    base = spec.uri.rstrip("/")
    return [
        Resource(
            name=f"{spec.name}/{path.relative_to(directory).as_posix()}",
            uri=f"{base}/{path.relative_to(directory).as_posix()}",
            title=spec.label,
            description=spec.description,
            mime_type=spec.mime_type or mimetypes.guess_type(path.name)[0] or "text/plain",
            file=path,
        )
        for path in files
    ]


def compile_prompt(spec: McpPrompt, base_dir: Path) -> Prompt:
    if spec.location:
        text = _read(_file(spec.location, base_dir), f"prompt '{spec.name}'")
        messages = [("user", Template(text))]
    else:
        messages = [(message.role, Template(message.content)) for message in spec.template]
    if not messages:
        raise ExtrasError(f"prompt '{spec.name}' has neither a template nor a location")
    arguments = [(argument.name, argument.description, argument.required) for argument in spec.arguments]
    return Prompt(spec.name, spec.label, spec.description, arguments, messages)


def read_static(resource: Resource) -> tuple[str | None, bytes | None]:
    """(text, None) for text files, (None, bytes) for anything else."""
    assert resource.file is not None
    data = resource.file.read_bytes()
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return None, data


def _directory(location: str, base_dir: Path) -> Path:
    return _file(location, base_dir)


def _file(location: str, base_dir: Path) -> Path:
    parts = urlsplit(location)
    if parts.scheme not in ("file", ""):
        raise ExtrasError(f"location {location!r}: only file:/// locations are supported")
    raw = unquote(parts.netloc + parts.path)
    if raw.startswith(("/./", "/../", "./", "../")):
        return (base_dir / raw.lstrip("/")).resolve()
    return Path(raw) if Path(raw).is_absolute() else (base_dir / raw).resolve()


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExtrasError(f"{what}: cannot read {path} ({exc})") from None


__all__ = ["ExtrasError", "Prompt", "Resource", "compile_prompt", "compile_resource", "read_static"]
