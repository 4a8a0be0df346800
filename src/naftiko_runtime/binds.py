"""Binds: where a capability's variables come from (the environment, or a file)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from naftiko_runtime.spec.dialects import environment_name
from naftiko_runtime.spec.models import Bind
from naftiko_runtime.spec.source import SourceError, check_yaml_limits


class BindError(Exception):
    """A bind that cannot be read at all (unsupported scheme, unreadable file)."""


@dataclass(slots=True)
class Variables:
    """Resolved variables of one capability; `missing` maps a variable to what was looked for."""

    values: dict[str, str] = field(default_factory=dict)
    by_namespace: dict[str, dict[str, str]] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=dict)
    # Template names no bind declares, read from the environment (the generated dialect's {{VAR}}).
    environment_reads: set[str] = field(default_factory=set)
    # Bind namespaces read from the environment (no location): `{{ns.X}}` they don't declare reads X.
    environment_namespaces: set[str] = field(default_factory=set)

    @property
    def namespaces(self) -> frozenset[str]:
        return frozenset(self.by_namespace)

    def is_variable(self, name: str) -> bool:
        """Whether a template name is a bind variable or an environment read (not an argument)."""
        head, dot, _ = name.partition(".")
        if dot and head in self.by_namespace:
            return True
        return name in self.values or name in self.missing

    def lookup(self, name: str) -> tuple[str | None, str | None]:
        """(value, None) when known; (None, what-is-missing) when it should exist but does not."""
        head, dot, rest = name.partition(".")
        if dot and head in self.by_namespace:
            if rest in self.by_namespace[head]:
                return self.by_namespace[head][rest], None
            if rest not in self.missing and head in self.environment_namespaces and "." not in rest:
                self.environment_reads.add(rest)
                value = self.environ.get(rest)
                return (value, None) if value else (None, rest)
            return None, self.missing.get(rest, rest)
        if name in self.values:
            return self.values[name], None
        if name in self.missing:
            return None, self.missing[name]
        env_name = environment_name(name, self.namespaces)
        if env_name is not None:
            self.environment_reads.add(env_name)
            value = self.environ.get(env_name)
            if value:
                return value, None
            return None, env_name
        return None, None

    def context(self) -> dict[str, Any]:
        """The template context: `VAR` and `namespace.VAR` for every known variable."""
        context: dict[str, Any] = dict(self.values)
        context.update({namespace: dict(values) for namespace, values in self.by_namespace.items()})
        return context


def resolve_binds(binds: Sequence[Bind], environ: Mapping[str, str], base_dir: Path) -> Variables:
    variables = Variables(environ=environ)
    for bind in binds:
        namespace_values = variables.by_namespace.setdefault(bind.namespace, {})
        if not bind.location:
            variables.environment_namespaces.add(bind.namespace)
        source = _read_location(bind.location, base_dir) if bind.location else environ
        for variable, provider_key in bind.keys.items():
            value = source.get(provider_key)
            # An empty variable is as good as none: it would send an empty credential.
            if value is None or value == "":
                variables.missing[variable] = (
                    provider_key if not bind.location else f"{provider_key} in {bind.location}"
                )
                continue
            text = value if isinstance(value, str) else json.dumps(value)
            variables.values[variable] = text
            namespace_values[variable] = text
    return variables


def _read_location(location: str, base_dir: Path) -> Mapping[str, Any]:
    parts = urlsplit(location)
    if parts.scheme != "file":
        raise BindError(
            f"bind location scheme '{parts.scheme or '(none)'}' is not supported (only file:// and the environment)"
        )
    raw = unquote(parts.netloc + parts.path)
    # `file:///./x.yaml` is relative to the capability file; `file:///abs/x.yaml` is absolute.
    relative = raw.lstrip("/") if raw.startswith(("/./", "/../", "./", "../")) else None
    path = (base_dir / relative) if relative is not None else Path(raw)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BindError(f"cannot read bind file {path} ({exc.strerror})") from None
    try:
        if path.suffix != ".json":
            check_yaml_limits(text, path)
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except SourceError as exc:
        raise BindError(f"bind file {exc}") from None
    except (ValueError, yaml.YAMLError):
        raise BindError(f"bind file {path} is not valid {'JSON' if path.suffix == '.json' else 'YAML'}") from None
    if not isinstance(data, dict):
        raise BindError(f"bind file {path} must hold a mapping of keys to values")
    return data
