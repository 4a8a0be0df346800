"""consumer/body.py: every alpha2 body form, rendered with the call's values."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest

from naftiko_runtime.consumer.body import BodyError, compile_body
from naftiko_runtime.spec.dialects import normalize_body
from naftiko_runtime.templates import Template

VALUES: dict[str, Any] = {"name": "Ada", "count": 3, "tags": ["a", "b"], "flag": True}


def render(spec: Any) -> tuple[bytes, str]:
    plan = compile_body(spec)
    assert plan is not None
    return plan.render(lambda template: template.render(VALUES), VALUES.get)


def test_a_raw_string_body_is_rendered_and_sent_as_json() -> None:
    body, content_type = render('{"who": "{{name}}", "tags": {{tags}}}')
    assert json.loads(body) == {"who": "Ada", "tags": ["a", "b"]}
    assert content_type == "application/json"


def test_json_data_keeps_the_types_of_whole_tag_values() -> None:
    body, _ = render({"type": "json", "data": {"n": "{{count}}", "tags": "{{tags}}", "label": "x-{{name}}"}})
    assert json.loads(body) == {"n": 3, "tags": ["a", "b"], "label": "x-Ada"}


@pytest.mark.parametrize(
    ("kind", "content_type"),
    [("text", "text/plain; charset=utf-8"), ("xml", "application/xml"), ("sparql", "application/sparql-query")],
)
def test_text_xml_and_sparql_bodies_carry_their_content_type(kind: str, content_type: str) -> None:
    body, sent_type = render({"type": kind, "data": "<q>{{name}}</q>"})
    assert (body, sent_type) == (b"<q>Ada</q>", content_type)


def test_a_form_body_is_url_encoded_field_by_field() -> None:
    body, content_type = render({"type": "formUrlEncoded", "data": {"who": "{{name}} & co", "n": "{{count}}"}})
    assert parse_qsl(body.decode()) == [("who", "Ada & co"), ("n", "3")]
    assert content_type == "application/x-www-form-urlencoded"


def test_a_multipart_body_has_one_part_per_entry_with_file_names() -> None:
    body, content_type = render(
        {
            "type": "multipartForm",
            "data": [
                {"name": "title", "value": "{{name}}"},
                {"name": "file", "value": "hello", "filename": "a.txt", "contentType": "text/plain"},
            ],
        }
    )
    boundary = content_type.split("boundary=")[1]
    assert content_type.startswith("multipart/form-data; boundary=")
    assert body.count(f"--{boundary}".encode()) == 3
    assert b'name="title"\r\n\r\nAda\r\n' in body
    assert b'name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello' in body


def test_an_unknown_body_type_is_refused_at_load() -> None:
    with pytest.raises(BodyError):
        compile_body({"type": "protobuf", "data": "x"})


def test_generated_bodies_are_read_as_their_authors_meant() -> None:
    assert normalize_body({"type": "form", "data": {"a": "1"}}) == (
        {"type": "formUrlEncoded", "data": {"a": "1"}},
        False,
    )
    assert normalize_body({"type": "json"}) == (None, True)
    assert normalize_body({"name": "{{tools.name}}"}) == ({"type": "json", "data": {"name": "{{tools.name}}"}}, False)


def test_template_names_of_a_body_are_listed_for_the_signature() -> None:
    plan = compile_body({"type": "json", "data": {"a": "{{x}}", "b": ["{{y}}"]}})
    assert plan is not None and plan.variables == ["x", "y"]
    assert isinstance(plan.data["a"], Template)
