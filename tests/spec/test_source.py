"""spec/source.py: YAML to plain data, with the line and column of every field."""

from __future__ import annotations

from pathlib import Path

import pytest

from naftiko_runtime.spec import source
from naftiko_runtime.spec.source import SourceError, parse_source, read_source

DOCUMENT = """\
naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: shop
    resources:
    - name: orders
      path: /orders/{id}
"""


def test_every_key_is_located_at_its_own_line_and_column() -> None:
    parsed = parse_source(DOCUMENT, Path("shop.yaml"))

    assert parsed.data["capability"]["consumes"][0]["namespace"] == "shop"
    assert parsed.positions[("naftiko",)] == (1, 1)
    assert parsed.positions[("capability", "consumes", 0, "namespace")] == (5, 5)
    assert parsed.positions[("capability", "consumes", 0, "resources", 0, "path")] == (8, 7)


def test_list_items_are_located_where_their_dash_content_starts() -> None:
    parsed = parse_source(DOCUMENT, Path("shop.yaml"))

    assert parsed.positions[("capability", "consumes", 0)] == (4, 5)
    assert parsed.positions[("capability", "consumes", 0, "resources", 0)] == (7, 7)


def test_locate_of_a_missing_field_points_at_its_nearest_parent() -> None:
    parsed = parse_source(DOCUMENT, Path("shop.yaml"))

    location = parsed.locate(("capability", "consumes", 0, "baseUri"))

    assert str(location) == "shop.yaml:4:5"


def test_locate_of_an_unknown_top_level_path_falls_back_to_the_document_start() -> None:
    parsed = parse_source(DOCUMENT, Path("shop.yaml"))

    assert str(parsed.locate(("nothing", "here"))) == "shop.yaml:1:1"


def test_invalid_yaml_is_reported_with_file_line_and_column() -> None:
    text = "naftiko: 1.0.0-alpha2\ncapability:\n  exposes: [\n    - a\n"

    with pytest.raises(SourceError) as caught:
        parse_source(text, Path("broken.yaml"))

    location = caught.value.location
    assert (location.file, location.line, location.column) == ("broken.yaml", 4, 5)
    assert str(caught.value).startswith("broken.yaml:4:5: invalid YAML")


def test_tab_indentation_error_names_the_offending_line() -> None:
    text = "naftiko: 1.0.0-alpha2\ninfo:\n\tlabel: x\n"

    with pytest.raises(SourceError) as caught:
        parse_source(text, Path("tabs.yaml"))

    assert caught.value.location.line == 3


def test_a_file_that_is_not_utf8_is_reported_not_raised_as_unicode_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("naftiko: 1.0.0-alpha2\ninfo:\n  label: caf\xe9\n".encode("latin-1"))

    with pytest.raises(SourceError, match="not UTF-8"):
        read_source(path)


def test_a_missing_file_is_reported_as_unreadable(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot read file"):
        read_source(tmp_path / "absent.yaml")


def test_merge_keys_are_expanded_like_plain_yaml() -> None:
    text = "base: &base\n  type: http\n  baseUri: http://x\nentry:\n  <<: *base\n  namespace: n\n"

    parsed = parse_source(text, Path("merge.yaml"))

    assert parsed.data["entry"] == {"type": "http", "baseUri": "http://x", "namespace": "n"}


def test_a_sequence_used_as_mapping_key_is_refused_with_its_position() -> None:
    text = "naftiko: 1.0.0-alpha2\n? [a, b]\n: value\n"

    with pytest.raises(SourceError) as caught:
        parse_source(text, Path("keys.yaml"))

    assert caught.value.location.line == 2


def test_alias_expansion_bomb_fails_instead_of_eating_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each level multiplies the node count by 10; the limit is lowered so the test stays fast.
    monkeypatch.setattr(source, "MAX_NODES", 5_000)
    levels = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for level in range(1, 6):
        previous = f"*a{level - 1}"
        levels.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")

    with pytest.raises(SourceError, match="too large"):
        parse_source("\n".join(levels) + "\n", Path("bomb.yaml"))


def test_a_recursive_alias_is_refused_with_its_position() -> None:
    with pytest.raises(SourceError) as caught:
        parse_source("naftiko: 1.0.0-alpha2\nloop: &a [*a]\n", Path("loop.yaml"))

    assert caught.value.location.line == 2


def test_an_empty_document_parses_to_none() -> None:
    assert parse_source("", Path("empty.yaml")).data is None
