"""A consumed operation compiled once: from upstream parameter values to an `UpstreamRequest`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from naftiko_runtime.binds import Variables
from naftiko_runtime.consumer.auth import AUTH_TEMPLATE_FIELDS, AuthPlan, UnsupportedAuthentication, plan_auth
from naftiko_runtime.consumer.client import UpstreamRequest
from naftiko_runtime.errors import CallError, Problem, invalid_arguments
from naftiko_runtime.spec.dialects import PathLiteral, PathPlaceholder, is_whole_body, param_key, split_path
from naftiko_runtime.spec.models import ConsumedOperation, ConsumedResource, ConsumesHttp, InputParameter
from naftiko_runtime.templates import Template, is_template

_FORBIDDEN_IN_HEADERS = ("\r", "\n", "\0")


@dataclass(slots=True)
class ConsumedParameter:
    name: str
    location: str
    type: str | None
    description: str | None
    required: bool
    value: Template | None
    constant: Any = None
    whole_body: bool = False

    @property
    def key(self) -> str:
        return param_key(self.name)

    @property
    def has_fixed_value(self) -> bool:
        return self.value is not None or self.constant is not None


@dataclass(slots=True)
class UpstreamOperation:
    namespace: str
    name: str
    method: str
    base_uri: str
    path: str
    description: str | None
    output_format: str
    parameters: list[ConsumedParameter]
    path_parts: list[PathLiteral | PathPlaceholder]
    auth: AuthPlan
    # Why calls must fail now (a missing credential, no base URI); empty when ready.
    unavailable: CallError | None = None
    missing_variables: list[str] = field(default_factory=list)
    variables_context: dict[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"{self.namespace}.{self.name}"

    def parameter(self, key: str) -> ConsumedParameter | None:
        for parameter in self.parameters:
            if parameter.key == key:
                return parameter
        return None

    def placeholder_keys(self) -> list[str]:
        return [part.key for part in self.path_parts if isinstance(part, PathPlaceholder)]

    def build_request(self, values: Mapping[str, Any]) -> UpstreamRequest:
        """`values` maps parameter keys (see `param_key`) to the caller-derived values."""
        if self.unavailable is not None:
            raise self.unavailable
        context: dict[str, Any] | None = None
        resolved: dict[str, Any] = dict(values)
        for parameter in self.parameters:
            if parameter.value is not None:
                if context is None:
                    context = {**self.variables_context, **_by_name(values, self.parameters)}
                resolved[parameter.key] = parameter.value.render(context)
            elif parameter.constant is not None:
                resolved[parameter.key] = parameter.constant
        url = self.base_uri + self._render_path(resolved)
        query: list[tuple[str, str]] = list(self.auth.query)
        headers: list[tuple[str, str]] = []
        cookies: list[str] = []
        body: bytes | None = None
        body_fields: dict[str, Any] = {}
        for parameter in self.parameters:
            value = resolved.get(parameter.key)
            if value is None or parameter.location == "path":
                continue
            if parameter.location == "query":
                items = value if isinstance(value, list) else [value]
                query.extend((parameter.name, _text(item)) for item in items)
            elif parameter.location == "header":
                headers.append((parameter.name, _header_text(parameter.name, value)))
            elif parameter.location == "cookie":
                cookies.append(f"{parameter.name}={quote(_text(value), safe='')}")
            elif parameter.location == "body":
                if parameter.whole_body:
                    body = json.dumps(value).encode()
                else:
                    body_fields[parameter.name] = value
        if body_fields:
            merged = {**json.loads(body), **body_fields} if body else body_fields
            body = json.dumps(merged).encode()
        if query:
            url += ("&" if "?" in url else "?") + urlencode(query, quote_via=quote)
        if cookies:
            headers.append(("Cookie", "; ".join(cookies)))
        headers.extend(self.auth.headers)
        headers.append(("Accept", "application/json" if self.output_format == "json" else "*/*"))
        if body is not None:
            headers.append(("Content-Type", "application/json"))
        return UpstreamRequest(self.method, url, tuple(headers), body)

    def _render_path(self, values: Mapping[str, Any]) -> str:
        out = []
        for part in self.path_parts:
            if isinstance(part, PathLiteral):
                out.append(part.text)
                continue
            value = values.get(part.key)
            if value is None or value == "":
                raise invalid_arguments([Problem(f"path.{part.name}", "required path parameter is missing")])
            out.append(encode_segment(_text(value)))
        return "".join(out)


def encode_segment(value: str) -> str:
    """One path segment, whatever the value: `/` is encoded, and `.`/`..` cannot climb."""
    encoded = quote(value, safe="")
    if encoded.strip(".") == "":
        encoded = encoded.replace(".", "%2E")
    return encoded


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def _header_text(name: str, value: Any) -> str:
    text = _text(value)
    if any(character in text for character in _FORBIDDEN_IN_HEADERS):
        raise invalid_arguments([Problem(f"header.{name}", "header values cannot contain CR, LF or NUL")])
    return text


def _by_name(values: Mapping[str, Any], parameters: list[ConsumedParameter]) -> dict[str, Any]:
    named = dict(values)
    for parameter in parameters:
        if parameter.key in values:
            named[parameter.name] = values[parameter.key]
    return named


def compile_operation(
    consumes: ConsumesHttp,
    resource: ConsumedResource,
    operation: ConsumedOperation,
    variables: Variables,
    *,
    base_uri: str | None = None,
    mock: bool = False,
) -> UpstreamOperation:
    """Resolve everything that does not depend on the caller: auth, fixed values, the URL base."""
    missing: list[str] = []

    def render_static(text: str) -> str:
        template = Template(text)
        context: dict[str, Any] = {}
        for name in template.variables:
            value, lacking = variables.lookup(name)
            if lacking and not mock:
                missing.append(lacking)
            _assign(context, name, value or "")
        return template.render(context)

    parameters: dict[tuple[str, str], ConsumedParameter] = {}
    for declared in [*consumes.input_parameters, *resource.input_parameters, *operation.input_parameters]:
        compiled = _compile_parameter(declared, variables, render_static)
        parameters[(compiled.key, compiled.location)] = compiled
    full_path = (resource.path or "") if not resource.path or resource.path.startswith("/") else "/" + resource.path
    try:
        auth = plan_auth(
            consumes.authentication,
            {
                name: render_static(text)
                for name in AUTH_TEMPLATE_FIELDS
                if isinstance(text := getattr(consumes.authentication, name, None), str)
            },
        )
        unsupported: str | None = None
    except UnsupportedAuthentication as exc:
        auth, unsupported = AuthPlan(), str(exc)
    uri = (base_uri if base_uri is not None else consumes.base_uri).rstrip("/")
    ref = f"{consumes.namespace}.{operation.name}"
    unavailable: CallError | None = None
    if unsupported and not mock:
        unavailable = CallError(501, "Not Implemented", f"{ref}: {unsupported}", operation=ref)
    elif missing:
        names = ", ".join(dict.fromkeys(missing))
        unavailable = CallError(
            503,
            "Service Unavailable",
            f"{ref} cannot be called: missing credential or variable {names} (set the environment variable)",
            operation=ref,
            extra={"missing": list(dict.fromkeys(missing))},
        )
    elif not uri:
        unavailable = CallError(
            503,
            "Service Unavailable",
            f"{ref} cannot be called: consumes namespace '{consumes.namespace}' has no baseUri; "
            f"pass --base-uri {consumes.namespace}=URL",
            operation=ref,
        )
    return UpstreamOperation(
        namespace=consumes.namespace,
        name=operation.name,
        method=operation.method,
        base_uri=uri,
        path=full_path,
        description=operation.description or operation.label,
        output_format=operation.output_raw_format,
        parameters=list(parameters.values()),
        path_parts=split_path(full_path),
        auth=auth,
        unavailable=unavailable,
        missing_variables=list(dict.fromkeys(missing)),
        variables_context=variables.context(),
    )


def _compile_parameter(declared: InputParameter, variables: Variables, render_static: Any) -> ConsumedParameter:
    value: Template | None = None
    constant: Any = None
    if is_template(declared.value):
        template = Template(declared.value)
        if all(variables.is_variable(name) for name in template.variables):
            constant = render_static(declared.value)
        else:
            value = template
    elif declared.value is not None:
        constant = declared.value
    location = declared.location or "query"
    return ConsumedParameter(
        name=declared.name,
        location=location,
        type=declared.type,
        description=declared.description,
        required=bool(declared.required) or location == "path",
        value=value,
        constant=constant,
        whole_body=is_whole_body(declared),
    )


def _assign(context: dict[str, Any], dotted: str, value: str) -> None:
    head, dot, rest = dotted.partition(".")
    if not dot:
        context[head] = value
        return
    nested = context.setdefault(head, {})
    if isinstance(nested, dict):
        _assign(nested, rest, value)
