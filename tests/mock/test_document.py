"""Loading mock documents: YAML or JSON, clear errors naming the file, never a traceback."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from naftiko_runtime.mock import MockApi, MockDocumentError
from naftiko_runtime.mock import document as document_module
from naftiko_runtime.mock.document import (
    _UNSURE,
    _describe_yaml_error,
    _DocumentLoader,
    _load_in_one_pass,
    parse_text,
)
from naftiko_runtime.spec.source import SourceError, check_yaml_limits
from tests.mock.support import ask, data, document, ok
from tests.spec.yaml_bombs import ALIAS_BOMB


def test_a_json_document_loads_like_a_yaml_one(tmp_path: Path) -> None:
    path = tmp_path / "api.openapi.json"
    path.write_text(json.dumps(document({"/ping": {"get": {"responses": ok({"p": "pong"})}}})))

    assert data(ask(MockApi.from_file(path), "GET", "/ping")) == "pong"


def test_unquoted_yaml_dates_in_examples_stay_strings(tmp_path: Path) -> None:
    path = tmp_path / "dates.yaml"
    path.write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /d:\n    get:\n      responses:\n"
        "        200:\n          description: d\n          content:\n            application/json:\n"
        "              example: {day: 2026-04-10, at: 2026-04-10T08:00:00Z}\n"
    )

    assert data(ask(MockApi.from_file(path), "GET", "/d")) == {
        "day": "2026-04-10",
        "at": "2026-04-10T08:00:00Z",
    }


BAD_DOCUMENTS = {
    "broken.yaml": ("openapi: 3.1.0\npaths: [unclosed\n", "not valid YAML: line"),
    "broken.json": ('{"openapi": "3.1.0", "paths": {', "not valid JSON"),
    "list.yaml": ("- openapi\n", "expected a mapping"),
    "capability.yaml": ("naftiko: 1.0.0-alpha2\ncapability: {}\n", "not an OpenAPI 3.x document"),
    "swagger.yaml": ("swagger: '2.0'\npaths: {}\n", "Swagger 2.0 is not supported"),
    "paths.yaml": ("openapi: 3.0.0\npaths: [1, 2]\n", "'paths' must be a mapping"),
    "external.yaml": (
        "openapi: 3.0.0\npaths:\n  /x:\n    $ref: 'other.yaml#/paths/~1x'\n",
        "points outside the document",
    ),
    "dangling.yaml": (
        "openapi: 3.0.0\npaths:\n  /x:\n    get:\n      responses:\n"
        "        '200': {$ref: '#/components/responses/Nope'}\n",
        "'#/components/responses/Nope' does not resolve",
    ),
    "cycle.yaml": (
        "openapi: 3.0.0\npaths:\n  /x: {$ref: '#/paths/~1y'}\n  /y: {$ref: '#/paths/~1x'}\n",
        "$ref cycle",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_DOCUMENTS))
def test_a_bad_document_raises_mock_document_error_naming_the_file(tmp_path: Path, name: str) -> None:
    text, reason = BAD_DOCUMENTS[name]
    path = tmp_path / name
    path.write_text(text)

    with pytest.raises(MockDocumentError) as raised:
        MockApi.from_file(path)

    assert str(path) in str(raised.value)
    assert reason in str(raised.value)


def test_a_missing_file_raises_mock_document_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.openapi.yaml"

    with pytest.raises(MockDocumentError, match=r"absent\.openapi\.yaml: cannot read"):
        MockApi.from_file(path)


def test_a_document_given_as_data_names_its_source_in_errors() -> None:
    with pytest.raises(MockDocumentError, match=r"^memory: not an OpenAPI 3\.x document"):
        MockApi.from_document({"openapi": 3}, "memory")


def test_a_malformed_operation_raises_mock_document_error_naming_it() -> None:
    schema = {"type": "array", "minItems": "many"}
    responses = {"200": {"description": "x", "content": {"application/json": {"schema": schema}}}}

    with pytest.raises(MockDocumentError, match=r"^odd\.yaml: GET /x: malformed operation"):
        MockApi.from_document(document({"/x": {"get": {"responses": responses}}}), "odd.yaml")


def test_a_document_whose_aliases_expand_beyond_the_limit_is_refused_without_expanding_them(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB)

    with pytest.raises(MockDocumentError, match="document too large"):
        MockApi.from_file(path)


# --- one pass: the document built from the parser's events, as the full loader builds it -----------

ROOT = Path(__file__).resolve().parents[2]


def full_load(text: str) -> tuple[str, Any]:
    """What `parse_text` gave before the one-pass reader: the limits checked, then the full loader."""
    try:
        check_yaml_limits(text, Path("doc.yaml"))
        return "data", yaml.load(text, Loader=_DocumentLoader)
    except SourceError as exc:
        return "error", f"{exc}"
    except yaml.YAMLError as exc:
        return "error", f"doc.yaml: not valid YAML: {_describe_yaml_error(exc)}"
    except Exception as exc:  # a constructor's own error (`!!int x`) escapes as it always did
        return type(exc).__name__, str(exc)


def read(text: str) -> tuple[str, Any]:
    try:
        return "data", parse_text(text, "doc.yaml")
    except MockDocumentError as exc:
        return "error", str(exc)
    except Exception as exc:
        return type(exc).__name__, str(exc)


def same(left: Any, right: Any) -> bool:
    """Equal, types and key order included (NaN equal to NaN)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(same(left[key], right[key]) for key in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, float) and math.isnan(left):
        return math.isnan(right)
    return bool(left == right)


def refuse_the_full_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the full loader was used")

    monkeypatch.setattr(yaml, "load", refused)
    monkeypatch.setattr(document_module, "check_yaml_limits", refused)


PLAIN = {
    "scalars": (
        "openapi: 3.1.0\nvalues: [1, -2.5, .inf, -.inf, .nan, null, ~, true, no, off, 0x1f, 0o17, 017, 1_000,"
        " 1e3, '1', \"two\", 2026-04-10, 2026-04-10T08:00:00Z, '', x: y]\n"
    ),
    "nesting": "openapi: 3.1.0\na:\n  - b\n  -\n    c: d\n  - - e\n  - {f: [1, {g: [2, [3]]}]}\n",
    "keys": "openapi: 3.1.0\n1: a\n2.5: b\ntrue: c\nnull: d\n200: e\n",
    "repeated keys": "openapi: 3.1.0\na: 1\nb: 2\na: 3\n",
    "block scalars": "openapi: 3.1.0\na: |\n  text\n  more\nb: >\n  folded\n  text\nc: 'it''s'\nd: \"\\u00e9\"\n",
    "explicit tags": "openapi: 3.1.0\na: !!str 123\nb: !!int '7'\nc: !!float '1.5'\nd: !!binary aGk=\ne: ! 5\n",
    "anchors": "openapi: 3.1.0\na: &x {b: &y [1]}\nc: *x\nd: *y\ne: &s text\nf: *s\n? &k key\n: *k\n",
    "directives": "%YAML 1.1\n---\nopenapi: 3.1.0\n...\n",
    "a byte order mark": "\ufeffopenapi: 3.1.0\n",
    "an explicit map tag": "!!map {openapi: 3.1.0, a: !!seq [1]}\n",
}


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_a_plain_document_is_read_in_one_pass_into_the_data_the_full_loader_builds(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = PLAIN[name]
    expected = full_load(text)

    refuse_the_full_loader(monkeypatch)
    found = read(text)

    assert expected[0] == found[0] == "data"
    assert same(found[1], expected[1])


def test_an_alias_read_in_one_pass_is_the_same_object_as_its_anchor(monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_the_full_loader(monkeypatch)

    data = parse_text("openapi: 3.1.0\na: &x {b: 1}\nc: *x\n", "doc.yaml")

    assert data["a"] is data["c"]


def test_the_kombo_document_is_read_in_one_pass_into_the_data_the_full_loader_builds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = (ROOT / "capabilities" / "kombo.openapi.yaml").read_text(encoding="utf-8")
    expected = full_load(text)

    refuse_the_full_loader(monkeypatch)

    assert same(parse_text(text, "doc.yaml"), expected[1])


UNUSUAL = {
    "merge key": "openapi: 3.1.0\nbase: &b {t: 1}\ne:\n  <<: *b\n  n: 2\n",
    "a merge key without anchors": "openapi: 3.1.0\n<<: {a: 1}\n",
    "value key": "openapi: 3.1.0\n=: 1\n",
    "value scalar": "openapi: 3.1.0\na: =\n",
    "set": "openapi: 3.1.0\na: !!set {x, y}\n",
    "omap": "openapi: 3.1.0\na: !!omap [{x: 1}]\n",
    "pairs": "openapi: 3.1.0\na: !!pairs [{x: 1}]\n",
    "sequence key": "openapi: 3.1.0\n? [a, b]\n: v\n",
    "mapping key": "openapi: 3.1.0\n? {a: 1}\n: v\n",
    "aliased mapping key": "openapi: 3.1.0\nm: &m {a: 1}\n? *m\n: v\n",
    "undefined alias": "openapi: 3.1.0\na: *nope\n",
    "repeated anchor": "openapi: 3.1.0\na: &x 1\nb: &x 2\n",
    "recursive alias": "openapi: 3.1.0\na: &x [*x]\n",
    "two documents": "--- {openapi: 3.1.0}\n--- {openapi: 3.1.0}\n",
    "unknown tag": "openapi: 3.1.0\na: !custom 1\n",
    "python tag": "openapi: 3.1.0\na: !!python/object:os.system x\n",
    "map tag on a scalar": "openapi: 3.1.0\na: !!map x\n",
    "bad int": "openapi: 3.1.0\na: !!int x\n",
    "timestamp tag": "openapi: 3.1.0\na: !!timestamp 2026-01-01\n",
    "broken": "openapi: 3.1.0\npaths: [unclosed\n",
    "tab": "openapi: 3.1.0\na:\tb\n",
    "empty": "",
    "comment only": "# nothing\n",
    "a list": "- openapi\n",
    "alias bomb": ALIAS_BOMB,
    "deep": "openapi: 3.1.0\na: " + "[" * 200 + "]" * 200 + "\n",
}


@pytest.mark.parametrize("name", sorted(UNUSUAL))
def test_an_unusual_document_reads_or_fails_exactly_as_with_the_full_loader(name: str) -> None:
    text = UNUSUAL[name]
    expected, found = full_load(text), read(text)

    if expected[0] != "data":
        assert found == expected
    elif isinstance(expected[1], dict):
        assert found[0] == "data"
        assert repr(found[1]) == repr(expected[1])  # recursive data compares by its repr
    else:
        assert found == ("error", "doc.yaml: not an OpenAPI document (expected a mapping at the top)")


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=12)
    | st.sampled_from(["yes", "No", "~", "null", "0x1f", "1e3", "2026-04-10", "=", "<<", "&a", "*a", "- a", "x: y"])
)
documents = st.dictionaries(
    st.text(max_size=8) | st.integers(-5, 5),
    st.recursive(
        json_scalars,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
        max_leaves=20,
    ),
    max_size=5,
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(documents, st.sampled_from([None, True, False]))
def test_any_dumped_document_is_read_in_one_pass_into_the_data_the_full_loader_builds(
    data: dict[Any, Any], flow: bool | None
) -> None:
    # Shared values make the dump use anchors and aliases.
    if data:
        first = next(iter(data))
        data["shared"] = data[first]
        data["again"] = data[first]
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True)
    expected = full_load(text)

    assert expected[0] == "data"
    assert _load_in_one_pass(text, Path("doc.yaml")) is not _UNSURE
    assert same(read(text)[1], expected[1])
