"""The 13 operations of the seed capability, as one table both adapters are driven from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from tests.fakes import (
    CF_SHOE_SIZE,
    ENVIRONMENT_ID,
    FACTORIAL_ID,
    IF_CUSTOM_SHOE_SIZE,
    IF_DATE_OF_BIRTH,
    PERSONIO_ID,
    KomboFake,
)

Json = dict[str, Any]


def _segment(value: str) -> str:
    return quote(value, safe="")


@dataclass(frozen=True)
class Case:
    tool: str
    method: str
    path: str  # the route on the REST facade
    upstream_path: str  # the raw path the upstream must see
    arguments: Json = field(default_factory=dict)  # MCP tool arguments
    query: Json = field(default_factory=dict)  # REST query
    headers: dict[str, str] = field(default_factory=dict)  # REST headers
    body: Any = None  # REST JSON body and upstream body
    upstream_query: list[tuple[str, str]] = field(default_factory=list)
    upstream_headers: dict[str, str] = field(default_factory=dict)
    check: Callable[[Json, KomboFake], None] = lambda _answer, _fake: None

    @property
    def id(self) -> str:
        return self.tool


def _data(answer: Json) -> Any:
    assert answer["status"] == "success", answer
    return answer["data"]


CASES = [
    Case(
        tool="check-api-key",
        method="GET",
        path="/v1/check-api-key",
        upstream_path="/v1/check-api-key",
        check=lambda a, _f: _expect(_data(a)["environment_id"] == ENVIRONMENT_ID, a),
    ),
    Case(
        tool="trigger-sync",
        method="POST",
        path="/v1/force-sync",
        upstream_path="/v1/force-sync",
        arguments={"X-Integration-Id": PERSONIO_ID, "body": {"type": "DELTA"}},
        headers={"X-Integration-Id": PERSONIO_ID},
        body={"type": "DELTA"},
        upstream_headers={"X-Integration-Id": PERSONIO_ID},
        check=lambda a, f: _expect(_data(a)["type"] == "DELTA" and f.syncs()[-1]["integration_id"] == PERSONIO_ID, a),
    ),
    Case(
        tool="delete-integration",
        method="DELETE",
        path=f"/v1/integrations/{FACTORIAL_ID}",
        upstream_path=f"/v1/integrations/{_segment(FACTORIAL_ID)}",
        arguments={"integration_id": FACTORIAL_ID, "body": {}},
        body={},
        check=lambda a, f: _expect(_data(a) == {} and f.integration(FACTORIAL_ID) is None, a),
    ),
    Case(
        tool="get-integration-details",
        method="GET",
        path=f"/v1/integrations/{PERSONIO_ID}",
        upstream_path=f"/v1/integrations/{_segment(PERSONIO_ID)}",
        arguments={"integration_id": PERSONIO_ID},
        check=lambda a, _f: _expect(_data(a)["id"] == PERSONIO_ID and _data(a)["category"] == "HRIS", a),
    ),
    Case(
        tool="get-custom-fields-current-mappings",
        method="GET",
        path=f"/v1/integrations/{PERSONIO_ID}/custom-fields",
        upstream_path=f"/v1/integrations/{_segment(PERSONIO_ID)}/custom-fields",
        # An agent's number for a parameter declared as a string is accepted as text.
        arguments={"integration_id": PERSONIO_ID, "page_size": 2},
        query={"page_size": "2"},
        upstream_query=[("page_size", "2")],
        check=lambda a, _f: _expect(len(_data(a)["results"]) == 2 and _data(a)["next"] is not None, a),
    ),
    Case(
        tool="put-custom-field-mappings",
        method="PUT",
        path=f"/v1/integrations/{PERSONIO_ID}/custom-fields/{CF_SHOE_SIZE}",
        upstream_path=f"/v1/integrations/{_segment(PERSONIO_ID)}/custom-fields/{CF_SHOE_SIZE}",
        arguments={
            "integration_id": PERSONIO_ID,
            "custom_field_id": CF_SHOE_SIZE,
            "body": {"integration_field_id": IF_CUSTOM_SHOE_SIZE},
        },
        body={"integration_field_id": IF_CUSTOM_SHOE_SIZE},
        check=lambda a, _f: _expect(_data(a)["integration_field"]["id"] == IF_CUSTOM_SHOE_SIZE, a),
    ),
    Case(
        tool="set-integration-enabled",
        method="PUT",
        path=f"/v1/integrations/{PERSONIO_ID}/enabled",
        upstream_path=f"/v1/integrations/{_segment(PERSONIO_ID)}/enabled",
        arguments={"integration_id": PERSONIO_ID, "body": {"value": False}},
        body={"value": False},
        check=lambda a, f: _expect(_data(a) == {} and f.integration(PERSONIO_ID)["status"] == "INACTIVE", a),
    ),
    Case(
        tool="get-integration-fields",
        method="GET",
        path=f"/v1/integrations/{PERSONIO_ID}/integration-fields",
        upstream_path=f"/v1/integrations/{_segment(PERSONIO_ID)}/integration-fields",
        arguments={"integration_id": PERSONIO_ID, "page_size": "3"},
        query={"page_size": "3"},
        upstream_query=[("page_size", "3")],
        check=lambda a, _f: _expect(len(_data(a)["results"]) == 3, a),
    ),
    Case(
        tool="updates-integration-fields-passthrough-setting",
        method="PATCH",
        path=f"/v1/integrations/{PERSONIO_ID}/integration-fields/{IF_DATE_OF_BIRTH}",
        upstream_path=f"/v1/integrations/{_segment(PERSONIO_ID)}/integration-fields/{IF_DATE_OF_BIRTH}",
        arguments={
            "integration_id": PERSONIO_ID,
            "integration_field_id": IF_DATE_OF_BIRTH,
            "body": {"enable_passthrough": True},
        },
        body={"enable_passthrough": True},
        check=lambda a, _f: _expect(_data(a)["is_passthrough_enabled"] is True, a),
    ),
    Case(
        tool="create-reconnection-link",
        method="POST",
        path=f"/v1/integrations/{PERSONIO_ID}/relink",
        upstream_path=f"/v1/integrations/{_segment(PERSONIO_ID)}/relink",
        arguments={"integration_id": PERSONIO_ID, "body": {"language": "de", "link_type": "MAGIC_LINK"}},
        body={"language": "de", "link_type": "MAGIC_LINK"},
        check=lambda a, _f: _expect(_data(a)["link"].startswith("http"), a),
    ),
    Case(
        tool="create-setup-flow-link",
        method="POST",
        path=f"/v1/integrations/{PERSONIO_ID}/setup-link",
        upstream_path=f"/v1/integrations/{_segment(PERSONIO_ID)}/setup-link",
        arguments={"integration_id": PERSONIO_ID, "body": {"link_type": "EMBEDDED"}},
        body={"link_type": "EMBEDDED"},
        check=lambda a, _f: _expect(_data(a)["link"].startswith("http"), a),
    ),
    Case(
        tool="send-passthrough-request",
        method="POST",
        path="/v1/passthrough/personio/default",
        upstream_path="/v1/passthrough/personio/default",
        arguments={
            "X-Integration-Id": PERSONIO_ID,
            "tool": "personio",
            "api": "default",
            "body": {"method": "GET", "path": "/company/employees", "params": {"limit": "5"}},
        },
        headers={"X-Integration-Id": PERSONIO_ID},
        body={"method": "GET", "path": "/company/employees", "params": {"limit": "5"}},
        upstream_headers={"X-Integration-Id": PERSONIO_ID},
        check=lambda a, _f: _expect(a["status"] == "success" and "/company/employees" in a["data"]["url"], a),
    ),
    Case(
        tool="get-tools",
        method="GET",
        path="/v1/tools/ats",
        upstream_path="/v1/tools/ats",
        arguments={"category": "ats"},
        check=lambda a, _f: _expect({t["id"] for t in _data(a)["tools"]} == {"greenhouse", "lever"}, a),
    ),
]


def _expect(condition: bool, answer: Json) -> None:
    assert condition, f"unexpected answer: {answer}"


def assert_upstream_saw(case: Case, fake: KomboFake, api_key: str) -> None:
    """What our runtime sent, as the upstream received it."""
    seen = fake.last
    assert seen.method == case.method
    assert seen.raw_path == case.upstream_path
    assert seen.query == case.upstream_query
    assert seen.headers["authorization"] == f"Bearer {api_key}"
    for name, value in case.upstream_headers.items():
        assert seen.headers[name] == value
    if case.body is None:
        assert seen.body == b""
    else:
        assert seen.headers["content-type"] == "application/json"
        assert seen.json() == case.body
