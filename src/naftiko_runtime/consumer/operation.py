"""A consumed operation compiled once: from upstream parameter values to an `UpstreamRequest`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from naftiko_runtime.binds import Variables
from naftiko_runtime.consumer.auth import AuthPlan, UnsupportedAuthentication, plan_auth
from naftiko_runtime.consumer.body import BodyPlan, compile_body
from naftiko_runtime.consumer.client import UpstreamRequest
from naftiko_runtime.consumer.formats import Decoder, FormatError, compile_decoder
from naftiko_runtime.errors import CallError, Problem, invalid_arguments
from naftiko_runtime.json_depth import JsonTooDeep, bounded_loads
from naftiko_runtime.spec.dialects import (
    PathLiteral,
    PathPlaceholder,
    is_whole_body,
    normalize_body,
    param_key,
    split_path,
    template_argument,
)
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
    body: BodyPlan | None = None
    # Converts a non-JSON answer (outputRawFormat) to a JSON value; None for JSON.
    decoder: Decoder | None = None
    # Caller-dependent names the operation's templates use (body, parameter values).
    template_arguments: list[str] = field(default_factory=list)
    # Why calls must fail now (a missing credential, no base URI); empty when ready.
    unavailable: CallError | None = None
    missing_variables: list[str] = field(default_factory=list)
    variables_context: dict[str, Any] = field(default_factory=dict)
    # `namespace.name`, as logs, metrics and errors name the operation (made once: calls read it).
    ref: str = field(init=False)

    def __post_init__(self) -> None:
        self.ref = f"{self.namespace}.{self.name}"

    def decode(self, body: bytes, content_type: str) -> Any:
        """The answer as a JSON value; 502 naming the operation when it is not what it promised."""
        if not body.strip():
            return None
        if self.decoder is not None:
            try:
                return self.decoder.decode(body, content_type)
            except FormatError as exc:
                raise CallError(502, "Bad Gateway", f"upstream {self.ref}: {exc}", operation=self.ref) from None
            except RecursionError:
                detail = f"upstream {self.ref}: the answer is nested too deep"
                raise CallError(502, "Bad Gateway", detail, operation=self.ref) from None
        try:
            return bounded_loads(body)
        except JsonTooDeep as exc:
            raise CallError(502, "Bad Gateway", f"upstream {self.ref} answered {exc}", operation=self.ref) from None
        except ValueError:
            kind = content_type.split(";")[0] or "unknown content type"
            detail = f"upstream {self.ref} answered {kind}, not the JSON its outputRawFormat promises"
            raise CallError(502, "Bad Gateway", detail, operation=self.ref) from None

    def parameter(self, key: str) -> ConsumedParameter | None:
        for parameter in self.parameters:
            if parameter.key == key:
                return parameter
        return None

    def input_keys(self) -> set[str]:
        """Every name a caller's value can feed: parameters, path placeholders, template names."""
        return {
            *(parameter.key for parameter in self.parameters),
            *self.placeholder_keys(),
            *(param_key(name) for name in self.template_arguments),
        }

    def placeholder_keys(self) -> list[str]:
        return [part.key for part in self.path_parts if isinstance(part, PathPlaceholder)]

    def build_request(self, values: Mapping[str, Any]) -> UpstreamRequest:
        """`values` maps parameter keys (see `param_key`) to the caller-derived values."""
        if self.unavailable is not None:
            raise self.unavailable
        resolved: dict[str, Any] = dict(values)
        for parameter in self.parameters:
            if parameter.value is not None:
                resolved[parameter.key] = render_with(parameter.value, self.variables_context, values)
            elif parameter.constant is not None:
                resolved[parameter.key] = parameter.constant
        url = self.base_uri + self._render_path(resolved)
        query: list[tuple[str, str]] = list(self.auth.query)
        headers: list[tuple[str, str]] = []
        cookies: list[str] = []
        whole_body: Any = None
        body_fields: dict[str, Any] = {}
        for parameter in self.parameters:
            value = resolved.get(parameter.key)
            if value is None or parameter.location == "path":
                continue
            if parameter.location == "query":
                items = value if isinstance(value, list) else [value]
                query.extend((parameter.name, _text(item)) for item in items)
            elif parameter.location == "header":
                headers.append((parameter.name, _header_text(parameter.name, value, values)))
            elif parameter.location == "cookie":
                cookies.append(f"{parameter.name}={quote(_text(value), safe='')}")
            elif parameter.location == "body":
                if parameter.whole_body:
                    whole_body = value
                else:
                    body_fields[parameter.name] = value
        body, content_type = self._render_body(whole_body, body_fields, resolved)
        if query:
            url += ("&" if "?" in url else "?") + urlencode(query, quote_via=quote)
        if cookies:
            headers.append(("Cookie", "; ".join(cookies)))
        headers.extend(self.auth.headers)
        headers.append(("Accept", "application/json" if self.output_format == "json" else "*/*"))
        if body is not None and not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("Content-Type", content_type))
        return UpstreamRequest(self.method, url, tuple(headers), body)

    def _render_body(
        self, whole_body: Any, body_fields: dict[str, Any], resolved: dict[str, Any]
    ) -> tuple[bytes | None, str]:
        """The caller's JSON body (and body fields) win; else the operation's own `body`."""
        if body_fields:
            base = whole_body if isinstance(whole_body, dict) else {}
            return json.dumps({**base, **body_fields}).encode(), "application/json"
        if whole_body is not None:
            return json.dumps(whole_body).encode(), "application/json"
        if self.body is None:
            return None, ""
        return self.body.render(
            lambda template: render_with(template, self.variables_context, resolved),
            lambda name: resolved.get(param_key(name)),
        )

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


def _header_text(name: str, value: Any, values: Mapping[str, Any]) -> str:
    text = _text(value)
    if any(character in text for character in _FORBIDDEN_IN_HEADERS):
        raise invalid_arguments(_header_problems(name, text, values))
    return text


def _header_problems(name: str, text: str, values: Mapping[str, Any]) -> list[Problem]:
    """The caller's arguments that put CR, LF or NUL in header `name`, else the header itself.

    `values` holds the caller's arguments (by key) beside the upstream parameters they feed: an
    argument whose text the header carries is the one to name. Only a refused call pays for this.
    """
    key = param_key(name)
    why = f"cannot contain CR, LF or NUL (it is sent in the upstream header {name})"
    culprits = [
        Problem(argument, why)
        for argument, given in values.items()
        if argument != key
        and isinstance(given, str)
        and given in text
        and any(character in given for character in _FORBIDDEN_IN_HEADERS)
    ]
    return culprits or [Problem(f"header.{name}", "header values cannot contain CR, LF or NUL")]


def render_with(template: Template, variables: Mapping[str, Any], values: Mapping[str, Any]) -> str:
    """Render with the variables, and each template name found in `values` by its `param_key`."""
    context = dict(variables)
    for name in template.variables:
        argument = template_argument(name).partition(".")[0]
        key = param_key(argument)
        if key not in values:
            continue
        if argument == name.partition(".")[0]:
            context[argument] = values[key]
        else:
            prefix = name.partition(".")[0]
            scope = context.get(prefix)
            context[prefix] = {**(scope if isinstance(scope, dict) else {}), argument: values[key]}
    return template.render(context)


def compile_operation(
    consumes: ConsumesHttp,
    resource: ConsumedResource,
    operation: ConsumedOperation,
    variables: Variables,
    *,
    base_uri: str | None = None,
    mock: bool = False,
    base_dir: Path | None = None,
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
            assign_dotted(context, name, value or "")
        return template.render(context)

    parameters: dict[tuple[str, str], ConsumedParameter] = {}
    for declared in [*consumes.input_parameters, *resource.input_parameters, *operation.input_parameters]:
        compiled = _compile_parameter(declared, variables, render_static)
        parameters[(compiled.key, compiled.location)] = compiled
    full_path = (resource.path or "") if not resource.path or resource.path.startswith("/") else "/" + resource.path
    try:
        auth = plan_auth(consumes.authentication, render_static)
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
    elif any(character in value for _, value in auth.headers for character in _FORBIDDEN_IN_HEADERS):
        # Sent, it would be refused by the HTTP library; the value itself is never shown.
        unavailable = CallError(
            503,
            "Service Unavailable",
            f"{ref} cannot be called: its credential contains a line break or NUL "
            "(a trailing newline in the variable or bind file?)",
            operation=ref,
        )
    body_spec, caller_body = normalize_body(operation.body)
    body = compile_body(body_spec)
    if caller_body and not any(parameter.whole_body for parameter in parameters.values()):
        parameters[("body", "body")] = ConsumedParameter(
            "body", "body", "object", "Request body (JSON).", False, None, whole_body=True
        )
    dynamic = [
        *(name for parameter in parameters.values() if parameter.value for name in parameter.value.variables),
        *(body.variables if body else []),
    ]
    environment = {p.name for p in parameters.values() if p.location == "environment"}
    template_arguments = [
        template_argument(name)
        for name in dict.fromkeys(dynamic)
        if not variables.is_variable(name) and name not in environment
    ]
    decoder = (
        None
        if operation.output_raw_format.lower() == "json"
        else compile_decoder(operation.output_raw_format, operation.output_schema, base_dir or Path("."))
    )
    return UpstreamOperation(
        decoder=decoder,
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
        body=body,
        template_arguments=template_arguments,
        unavailable=unavailable,
        missing_variables=list(dict.fromkeys(missing)),
        variables_context={**variables.context(), **_environment_values(parameters.values(), variables)},
    )


def _environment_values(parameters: Iterable[ConsumedParameter], variables: Variables) -> dict[str, Any]:
    """`in: environment` parameters are template variables read from the process environment, never sent."""
    values: dict[str, Any] = {}
    for parameter in parameters:
        if parameter.location == "environment":
            fixed = parameter.constant
            values[parameter.name] = fixed if fixed is not None else variables.environ.get(parameter.name, "")
    return values


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


def assign_dotted(context: dict[str, Any], dotted: str, value: str) -> None:
    """Set `a.b.c` in nested dicts, as a template reads it."""
    head, dot, rest = dotted.partition(".")
    if not dot:
        context[head] = value
        return
    nested = context.setdefault(head, {})
    if isinstance(nested, dict):
        assign_dotted(nested, rest, value)
