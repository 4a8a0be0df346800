"""A stateful fake of the Kombo API: the 13 operations of capabilities/kombo.yaml under `<url>/v1`.

Envelopes, shapes and error codes follow ../shared/design/KOMBO.md. Routes are matched on the raw path,
percent-decoded per segment, so an encoded `/` inside a path parameter stays inside that parameter.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from tests.fakes.recording import FakeServer, split_raw_path

PERSONIO_ID = "personio:8d1hpPsbjxUkoCoa1veLZGe5"  # HRIS, ACTIVE, 3 custom fields, 5 integration fields
GREENHOUSE_ID = "greenhouse:HWUTwvyx2wLoSUHphiWVrp28"  # ATS, ACTIVE, 1 custom field, 2 integration fields
FACTORIAL_ID = "factorial:2DQJAUtSzzzKP9buDTvUvPk3"  # HRIS, INACTIVE (disabled), no fields

# Custom fields of PERSONIO_ID, in listing order.
CF_UNIFIED_TAX_ID = "D9CoSqqun6ix7uKEwb2kHBU1"  # mapped to IF_TAX_ID
CF_TSHIRT_SIZE = "EU3Bwa4iDfGspEELW71WDvvu"  # mapped to IF_CUSTOM_TSHIRT_SIZE
CF_SHOE_SIZE = "MASi45ub7Qe4ZE36UT5G6cU4"  # not mapped
# Integration fields of PERSONIO_ID, in listing order.
IF_TAX_ID = "FFpTK47GhXnU6QAopPq2bdos"  # passthrough enabled
IF_DATE_OF_BIRTH = "9suhxJU83Kon4kPTS47837uE"  # passthrough disabled
IF_NATIONALITY = "ud8Fhhe4deS4F3cw9KTAb8dL"  # passthrough disabled
IF_CUSTOM_TSHIRT_SIZE = "3n6geaAmKL5tFonXVAtsMDmr"  # CUSTOM, writable
IF_CUSTOM_SHOE_SIZE = "cukC7edhDQ7cn5d4gEYkbUrM"  # CUSTOM, writable
# Fields of GREENHOUSE_ID.
CF_GREENHOUSE_REFERRAL_SOURCE = "WeWQLGsCmrG6dLaYyNoVKf58"  # mapped to IF_GREENHOUSE_SOURCE
IF_GREENHOUSE_SOURCE = "ZTBqNAYT3j5qcdsyuMNmPfYe"
IF_GREENHOUSE_CUSTOM_SALARY = "tW5v6JXmj54omLidkuVKnRyj"

ENVIRONMENT_ID = "P2WPBg8Y4ErK9pGSSxY6BVSc"
CUSTOMER_ID = "Jy9uUxcJnTPkyRFA6CAFjF1Y"

AUTHENTICATION_INVALID = "PLATFORM.AUTHENTICATION_INVALID"
INPUT_INVALID = "PLATFORM.INPUT_INVALID"
INTEGRATION_NOT_FOUND = "PLATFORM.INTEGRATION_NOT_FOUND"
RATE_LIMIT_EXCEEDED = "PLATFORM.RATE_LIMIT_EXCEEDED"
IP_NOT_WHITELISTED = "PLATFORM.IP_NOT_WHITELISTED"
TASK_TIMED_OUT = "PLATFORM.TASK_TIMED_OUT"
UNKNOWN_ERROR = "PLATFORM.UNKNOWN_ERROR"

CATEGORIES = ("hris", "ats", "assessment", "lms")
_TOOLS: dict[str, tuple[str, str]] = {
    "personio": ("Personio", "hris"),
    "factorial": ("Factorial", "hris"),
    "workday": ("Workday", "hris"),
    "greenhouse": ("Greenhouse", "ats"),
    "lever": ("Lever", "ats"),
    "testgorilla": ("TestGorilla", "assessment"),
    "docebo": ("Docebo", "lms"),
}
_READ_MODELS = {"hris": ["hris_employees", "hris_teams"], "ats": ["ats_jobs", "ats_candidates"]}
_WRITE_ACTIONS = {"hris": ["hris_create_employee"], "ats": ["ats_create_candidate"]}
_PASSTHROUGH_BASE = {
    "personio": "https://api.personio.de/v1",
    "greenhouse": "https://harvest.greenhouse.io/v1",
    "factorial": "https://api.factorialhr.com/api/2024-10-01",
}
_HTTP_METHODS = ("GET", "POST", "DELETE", "PUT", "PATCH")
_LANGUAGES = ("en", "de", "fr", "it", "es")
_LINK_TYPES = ("EMBEDDED", "MAGIC_LINK")
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

Json = dict[str, Any]


class KomboError(Exception):
    def __init__(self, status: int, code: str | None, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.title = title
        self.message = message


def _input_invalid(message: str) -> KomboError:
    return KomboError(400, INPUT_INVALID, "Input invalid", message)


def _not_found(message: str) -> KomboError:
    return KomboError(404, None, "Not found", message)


def _status_code(status: int) -> str | None:
    codes = {
        400: INPUT_INVALID,
        401: AUTHENTICATION_INVALID,
        403: IP_NOT_WHITELISTED,
        404: INTEGRATION_NOT_FOUND,
    }
    codes |= {408: TASK_TIMED_OUT, 429: RATE_LIMIT_EXCEEDED, 504: TASK_TIMED_OUT}
    return codes.get(status, UNKNOWN_ERROR if status >= 500 else None)


def _kombo_id() -> str:
    return "".join(secrets.choice(_BASE58) for _ in range(24))


def _ok(data: Any) -> Json:
    return {"status": "success", "data": data}


@dataclass(frozen=True)
class _Call:
    params: dict[str, str]
    query: dict[str, str]  # first value of each name
    headers: Headers
    body: bytes

    def json_object(self) -> Json:
        if not self.body.strip():
            return {}
        try:
            value = json.loads(self.body)
        except ValueError:
            raise _input_invalid("The request body is not valid JSON.") from None
        if not isinstance(value, dict):
            raise _input_invalid("The request body must be a JSON object.")
        return value


@dataclass
class _Integration:
    id: str
    category: str
    status: str
    organization_name: str
    created_at: str
    custom_fields: list[Json] = field(default_factory=list)  # integration_field_id instead of the object
    integration_fields: list[Json] = field(default_factory=list)
    queued_sync: Json | None = None

    @property
    def tool(self) -> str:
        return self.id.split(":", 1)[0]

    def details(self) -> Json:
        category = self.category.lower()
        return {
            "id": self.id,
            "tool": _tool_summary(self.tool),
            "category": self.category,
            "status": self.status,
            "setup_status": "COMPLETED",
            "end_user": {
                "organization_name": self.organization_name,
                "creator_email": f"it@{self.organization_name.lower().replace(' ', '-')}.example",
                "origin_id": self.id.split(":", 1)[1],
            },
            "scope_config": {"id": "B1hu5NGyhdjSq5X3hxEz4bAN", "name": "Default Scopes"},
            "data_expired_at": None,
            "created_at": self.created_at,
            "beta": False,
            "read_models": [_coverage(model, for_integration=True) for model in _READ_MODELS.get(category, [])],
            "write_actions": [_coverage(action, for_integration=True) for action in _WRITE_ACTIONS.get(category, [])],
        }

    def custom_field(self, custom_field_id: str) -> Json:
        for custom_field in self.custom_fields:
            if custom_field["id"] == custom_field_id:
                return custom_field
        raise _not_found(f"Custom field {custom_field_id} not found on integration {self.id}.")

    def integration_field(self, integration_field_id: str) -> Json:
        for integration_field in self.integration_fields:
            if integration_field["id"] == integration_field_id:
                return integration_field
        raise _not_found(f"Integration field {integration_field_id} not found on integration {self.id}.")

    def render_custom_field(self, custom_field: Json) -> Json:
        rendered = {key: value for key, value in custom_field.items() if key != "integration_field_id"}
        mapped_id = custom_field["integration_field_id"]
        rendered["integration_field"] = None
        if mapped_id is not None:
            mapped = self.integration_field(mapped_id)
            rendered["integration_field"] = {key: mapped[key] for key in ("id", "key", "type", "label")}
        return {key: rendered[key] for key in ("id", "key", "integration_field", "model", "label", "description")}


def _tool_summary(tool: str) -> Json:
    label = _TOOLS.get(tool, (tool.title(), ""))[0]
    assets = f"https://storage.googleapis.com/kombo-assets/integrations/{tool}"
    return {
        "id": tool,
        "label": label,
        "internal_label": None,
        "logo_url": f"{assets}/logo.svg",
        "icon_url": f"{assets}/icon.svg",
    }


def _coverage(model: str, *, for_integration: bool = False) -> Json:
    entry: Json = {
        "id": model,
        "label": model.split("_", 1)[1].replace("_", " ").capitalize(),
        "coverage_status": "SUPPORTED",
    }
    if for_integration:
        entry |= {"is_available": True, "scope_config_setting": "ENABLED", "opted_out_by_customer": False}
    return entry | {"fields": []}


def _tool_listing(tool: str) -> Json:
    summary = _tool_summary(tool)
    category = _TOOLS[tool][1]
    return {
        "id": tool,
        "label": summary["label"],
        "internal_label": None,
        "assets": {
            "logo_url": summary["logo_url"],
            "icon_url": summary["icon_url"],
            "icon_black_url": summary["icon_url"].replace("icon.svg", "icon-black.svg"),
        },
        "paid_api_details_markdown": None,
        "fast_track_details_markdown": None,
        "partner_only_details_markdown": None,
        "connection_guide_url": f"https://help.kombo.dev/hc/en-us/articles/{tool}-how-do-i-link-my-account",
        "coverage": {
            "read_models": [_coverage(model) for model in _READ_MODELS.get(category, [])],
            "write_actions": [_coverage(action) for action in _WRITE_ACTIONS.get(category, [])],
            "features": [
                {
                    "id": "automatic_source_writing",
                    "label": "Automatic Source Writing",
                    "coverage_status": "SUPPORTED",
                }
            ],
        },
    }


def _integration_field(id_: str, key: str, label: str, model: str, *, passthrough: bool = False) -> Json:
    custom = key.startswith("custom.")
    return {
        "id": id_,
        "key": key,
        "model": model,
        "type": "CUSTOM" if custom else "DEFAULT",
        "label": label,
        "is_passthrough_enabled": passthrough,
        "is_writable": False,  # Kombo's published schema: `const: false` (a deprecated field)
    }


def _custom_field(id_: str, key: str, mapped_to: str | None, model: str, label: str | None) -> Json:
    description = f"Map this to the {label.lower()}" if label else None
    return {
        "id": id_,
        "key": key,
        "integration_field_id": mapped_to,
        "model": model,
        "label": label,
        "description": description,
    }


def _seed() -> dict[str, _Integration]:
    personio = _Integration(PERSONIO_ID, "HRIS", "ACTIVE", "Acme", "2022-08-07T14:01:29.196Z")
    personio.integration_fields = [
        _integration_field(IF_TAX_ID, "tax_id", "Tax ID", "hris_employees", passthrough=True),
        _integration_field(IF_DATE_OF_BIRTH, "date_of_birth", "Date of birth", "hris_employees"),
        _integration_field(IF_NATIONALITY, "nationality", "Nationality", "hris_employees"),
        _integration_field(IF_CUSTOM_TSHIRT_SIZE, "custom.tshirt_size", "T-Shirt Size", "hris_employees"),
        _integration_field(IF_CUSTOM_SHOE_SIZE, "custom.shoe_size", "Shoe Size", "hris_employees"),
    ]
    personio.custom_fields = [
        _custom_field(CF_UNIFIED_TAX_ID, "unified_tax_id", IF_TAX_ID, "hris_employees", None),
        _custom_field(CF_TSHIRT_SIZE, "tshirt_size", IF_CUSTOM_TSHIRT_SIZE, "hris_employees", "T-Shirt Size"),
        _custom_field(CF_SHOE_SIZE, "shoe_size", None, "hris_employees", "Shoe Size"),
    ]
    greenhouse = _Integration(GREENHOUSE_ID, "ATS", "ACTIVE", "Globex", "2023-03-14T09:26:53.589Z")
    greenhouse.integration_fields = [
        _integration_field(IF_GREENHOUSE_SOURCE, "source", "Source", "ats_candidates"),
        _integration_field(IF_GREENHOUSE_CUSTOM_SALARY, "custom.desired_salary", "Desired salary", "ats_candidates"),
    ]
    greenhouse.custom_fields = [
        _custom_field(
            CF_GREENHOUSE_REFERRAL_SOURCE,
            "referral_source",
            IF_GREENHOUSE_SOURCE,
            "ats_candidates",
            "Referral",
        ),
    ]
    factorial = _Integration(FACTORIAL_ID, "HRIS", "INACTIVE", "Initech", "2024-01-02T08:00:00.000Z")
    return {integration.id: integration for integration in (personio, greenhouse, factorial)}


def _page(items: list[Json], query: dict[str, str], max_page_size: int) -> Json:
    page_size = _page_size(query.get("page_size"), max_page_size)
    offset = _cursor_offset(query.get("cursor"))
    end = offset + page_size
    next_cursor = _cursor(end) if end < len(items) else None
    return {"results": items[offset:end], "next_cursor": next_cursor, "next": next_cursor}


def _page_size(raw: str | None, maximum: int) -> int:
    if raw is None:
        return 100
    if not re.fullmatch(r"[0-9]+", raw):
        raise _input_invalid(f"page_size must be an integer, got {raw!r}.")
    size = int(raw)
    if not 1 <= size <= maximum:
        raise _input_invalid(f"page_size must be between 1 and {maximum}, got {size}.")
    return size


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _cursor_offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    match = re.fullmatch(r"offset:([0-9]+)", decoded)
    if match is None:
        raise _input_invalid(f"The cursor {cursor!r} is invalid.")
    return int(match.group(1))


def _choice(body: Json, name: str, allowed: tuple[str, ...], default: str | None) -> str | None:
    value = body.get(name, default)
    if value is not None and value not in allowed:
        raise _input_invalid(f"{name} must be one of {', '.join(allowed)}, got {value!r}.")
    return value


def _string_map(body: Json, name: str) -> dict[str, str]:
    value = body.get(name) or {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _input_invalid(f"{name} must be an object of strings.")
    return value


Handler = Callable[[_Call], Json]


class KomboFake(FakeServer):
    """Fake Kombo API at `base_url` (`<url>/v1`), accepting only `Authorization: Bearer <api_key>`.

    State starts from the seed above and changes with the write operations; `reset()` restores it.
    """

    def __init__(self, api_key: str, *, startup_timeout: float = 10.0) -> None:
        super().__init__(self._serve_kombo, error_body=self._status_error_body, startup_timeout=startup_timeout)
        self.api_key = api_key
        self.environment_id = ENVIRONMENT_ID
        self.customer_id = CUSTOMER_ID
        self._state = threading.Lock()
        self._integrations = _seed()
        self._syncs: list[Json] = []
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "check-api-key", self._check_api_key),
            ("POST", "force-sync", self._force_sync),
            ("DELETE", "integrations/{integration_id}", self._delete_integration),
            ("GET", "integrations/{integration_id}", self._get_integration),
            ("GET", "integrations/{integration_id}/custom-fields", self._list_custom_fields),
            ("PUT", "integrations/{integration_id}/custom-fields/{custom_field_id}", self._put_custom_field),
            ("PUT", "integrations/{integration_id}/enabled", self._set_enabled),
            ("GET", "integrations/{integration_id}/integration-fields", self._list_integration_fields),
            (
                "PATCH",
                "integrations/{integration_id}/integration-fields/{integration_field_id}",
                self._patch_integration_field,
            ),
            ("POST", "integrations/{integration_id}/relink", self._relink),
            ("POST", "integrations/{integration_id}/setup-link", self._setup_link),
            ("POST", "passthrough/{tool}/{api}", self._passthrough),
            ("GET", "tools/{category}", self._list_tools),
        ]
        self._routes = [(method, ("v1", *template.split("/")), handler) for method, template, handler in routes]

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def reset(self) -> None:
        super().reset()
        with self._state:
            self._integrations = _seed()
            self._syncs = []

    # -- thread-safe views of the state, in the API's shapes

    def integration_ids(self) -> list[str]:
        with self._state:
            return list(self._integrations)

    def integration(self, integration_id: str) -> Json | None:
        with self._state:
            integration = self._integrations.get(integration_id)
            return integration.details() if integration else None

    def custom_fields(self, integration_id: str) -> list[Json]:
        with self._state:
            integration = self._integrations[integration_id]
            return [integration.render_custom_field(cf) for cf in integration.custom_fields]

    def integration_fields(self, integration_id: str) -> list[Json]:
        with self._state:
            return copy.deepcopy(self._integrations[integration_id].integration_fields)

    def syncs(self) -> list[Json]:
        """Syncs queued by POST /force-sync: `{integration_id, sync_id, type}`."""
        with self._state:
            return copy.deepcopy(self._syncs)

    # -- HTTP

    def _status_error_body(self, status: int) -> Json:
        message = f"The fake Kombo API was told to answer {status}."
        return self._error_envelope(KomboError(status, _status_code(status), "Injected failure", message))

    def _error_envelope(self, error: KomboError) -> Json:
        log_url = f"https://app.kombo.dev/env/{self.environment_id}/logs/{_kombo_id()}"
        details = {"code": error.code, "title": error.title, "message": error.message, "log_url": log_url}
        return {"status": "error", "error": details}

    async def _serve_kombo(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        body = await request.body()
        try:
            status, payload = 200, self._dispatch(request, body)
        except KomboError as error:
            status, payload = error.status, self._error_envelope(error)
        await JSONResponse(payload, status_code=status)(scope, receive, send)

    def _dispatch(self, request: Request, body: bytes) -> Json:
        authorization = request.headers.get("authorization")
        if authorization is None:
            raise KomboError(401, AUTHENTICATION_INVALID, "Authentication invalid", "No API key was provided.")
        if authorization != f"Bearer {self.api_key}":
            raise KomboError(401, AUTHENTICATION_INVALID, "Authentication invalid", "The API key is invalid.")
        raw_path: bytes = request.scope.get("raw_path") or request.scope["path"].encode()
        segments = split_raw_path(raw_path.decode("latin-1"))
        path_matched = False
        for method, template, handler in self._routes:
            params = _match(template, segments)
            if params is None:
                continue
            path_matched = True
            if method == request.method:
                query: dict[str, str] = {}
                for name, value in request.query_params.multi_items():
                    query.setdefault(name, value)
                with self._state:
                    return copy.deepcopy(handler(_Call(params, query, request.headers, body)))
        if path_matched:
            raise KomboError(405, None, "Method not allowed", f"{request.method} is not allowed here.")
        raise _not_found(f"No route for {request.method} {raw_path.decode('latin-1')}.")

    # -- operations (called with the state lock held)

    def _integration(self, integration_id: str) -> _Integration:
        integration = self._integrations.get(integration_id)
        if integration is None:
            raise KomboError(
                404,
                INTEGRATION_NOT_FOUND,
                "Integration not found",
                f"No integration with id {integration_id!r}.",
            )
        return integration

    def _integration_from_header(self, call: _Call) -> _Integration:
        integration_id = call.headers.get("x-integration-id")
        if not integration_id:
            raise _input_invalid("The X-Integration-Id header is required.")
        return self._integration(integration_id)

    def _check_api_key(self, call: _Call) -> Json:
        return _ok({"environment_id": self.environment_id, "customer_id": self.customer_id})

    def _force_sync(self, call: _Call) -> Json:
        integration = self._integration_from_header(call)
        sync_type = _choice(call.json_object(), "type", ("FULL", "DELTA"), "FULL")
        if integration.queued_sync is not None:
            return _ok({"already_queued": True} | integration.queued_sync)
        integration.queued_sync = {"sync_id": _kombo_id(), "type": sync_type}
        self._syncs.append({"integration_id": integration.id} | integration.queued_sync)
        return _ok({"already_queued": False} | integration.queued_sync)

    def _delete_integration(self, call: _Call) -> Json:
        integration = self._integration(call.params["integration_id"])
        call.json_object()
        del self._integrations[integration.id]
        return _ok({})

    def _get_integration(self, call: _Call) -> Json:
        return _ok(self._integration(call.params["integration_id"]).details())

    def _list_custom_fields(self, call: _Call) -> Json:
        integration = self._integration(call.params["integration_id"])
        rendered = [integration.render_custom_field(cf) for cf in integration.custom_fields]
        return _ok(_page(rendered, call.query, 250))

    def _put_custom_field(self, call: _Call) -> Json:
        integration = self._integration(call.params["integration_id"])
        custom_field = integration.custom_field(call.params["custom_field_id"])
        body = call.json_object()
        if "integration_field_id" not in body:
            raise _input_invalid("integration_field_id is required (null removes the mapping).")
        mapped_id = body["integration_field_id"]
        if mapped_id is not None:
            if not isinstance(mapped_id, str):
                raise _input_invalid("integration_field_id must be a string or null.")
            try:
                integration.integration_field(mapped_id)
            except KomboError:
                raise _input_invalid(f"Integration field {mapped_id} does not exist.") from None
        custom_field["integration_field_id"] = mapped_id
        return _ok(integration.render_custom_field(custom_field))

    def _set_enabled(self, call: _Call) -> Json:
        integration = self._integration(call.params["integration_id"])
        value = call.json_object().get("value")
        if not isinstance(value, bool):
            raise _input_invalid("value is required and must be a boolean.")
        integration.status = "ACTIVE" if value else "INACTIVE"
        return _ok({})

    def _list_integration_fields(self, call: _Call) -> Json:
        integration = self._integration(call.params["integration_id"])
        return _ok(_page(integration.integration_fields, call.query, 2000))

    def _patch_integration_field(self, call: _Call) -> Json:
        integration = self._integration(call.params["integration_id"])
        integration_field = integration.integration_field(call.params["integration_field_id"])
        enable = call.json_object().get("enable_passthrough")
        if enable is not None and not isinstance(enable, bool):
            raise _input_invalid("enable_passthrough must be a boolean or null.")
        if enable is not None:
            integration_field["is_passthrough_enabled"] = enable
        return _ok(integration_field)

    def _relink(self, call: _Call) -> Json:
        self._integration(call.params["integration_id"])
        body = call.json_object()
        language = _choice(body, "language", _LANGUAGES, "en")
        _choice(body, "link_type", _LINK_TYPES, "EMBEDDED")
        if not isinstance(body.get("scope_config_id"), str | None):
            raise _input_invalid("scope_config_id must be a string or null.")
        return _ok({"link": f"https://connect.kombo.dev/v1?token={_kombo_id()}&lang={language}"})

    def _setup_link(self, call: _Call) -> Json:
        self._integration(call.params["integration_id"])
        body = call.json_object()
        if "link_type" not in body:
            raise _input_invalid("link_type is required.")
        _choice(body, "link_type", _LINK_TYPES, None)
        language = _choice(body, "language", _LANGUAGES, "en")
        return _ok({"link": f"https://connect.kombo.dev/v1?token={_kombo_id()}&lang={language}"})

    def _passthrough(self, call: _Call) -> Json:
        integration = self._integration_from_header(call)
        tool, api = call.params["tool"], call.params["api"]
        if tool != integration.tool:
            raise _input_invalid(f"Integration {integration.id} is not a {tool} integration.")
        body = call.json_object()
        method = _choice(body, "method", _HTTP_METHODS, None)
        path = body.get("path")
        if method is None or not isinstance(path, str):
            raise _input_invalid("method and path are required.")
        headers, params = _string_map(body, "headers"), _string_map(body, "params")
        base = _PASSTHROUGH_BASE.get(tool, f"https://api.{tool}.example/{api}")
        # Assembled as a URI, as the published schema says (`format: uri`): the path percent-encoded.
        url = base + quote(path, safe="/:@!$&'()*+,;=~%") + (f"?{urlencode(params)}" if params else "")
        echo = {
            "method": method,
            "path": path,
            "headers": headers,
            "params": params,
            "data": body.get("data"),
        }
        return {
            "status": "success",
            "data": {
                "url": url,
                "status": 200,
                "headers": {"content-type": "application/json"},
                "data": echo,
            },
            "warnings": [{"message": f"Answered by the fake Kombo API for the {api} API of {tool}."}],
        }

    def _list_tools(self, call: _Call) -> Json:
        category = call.params["category"]
        if category not in CATEGORIES:
            raise _input_invalid(f"category must be one of {', '.join(CATEGORIES)}, got {category!r}.")
        return _ok({"tools": [_tool_listing(tool) for tool, (_, cat) in _TOOLS.items() if cat == category]})


def _match(template: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    if len(template) != len(segments):
        return None
    params: dict[str, str] = {}
    for part, segment in zip(template, segments, strict=True):
        if part.startswith("{"):
            params[part[1:-1]] = segment
        elif part != segment:
            return None
    return params
