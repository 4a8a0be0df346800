"""consumer/formats.py: a consumed operation's raw answer decoded into a JSON value per outputRawFormat."""

from __future__ import annotations

import datetime
import decimal
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import fastavro
import pytest
import yaml

from naftiko_runtime.consumer.formats import MAX_DEPTH, Decoder, FormatError, compile_decoder

DATA = Path(__file__).parents[1] / "data" / "formats"
SAMPLES = DATA / "schemas"


def official_operation(name: str) -> dict[str, Any]:
    """The consumed operation of one of the official format test capabilities."""
    document = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
    operation: dict[str, Any] = document["capability"]["consumes"][0]["resources"][0]["operations"][0]
    return operation


def official_decoder(name: str) -> Decoder:
    operation = official_operation(name)
    return compile_decoder(operation["outputRawFormat"], operation.get("outputSchema"), DATA)


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def decode(output_format: str, body: bytes | str, schema: str | None = None, content_type: str = "") -> Any:
    decoder = compile_decoder(output_format, schema, DATA)
    assert decoder.load_problem is None
    return decoder.decode(body.encode() if isinstance(body, str) else body, content_type)


def failure(output_format: str, body: bytes | str, schema: str | None = None, content_type: str = "") -> str:
    with pytest.raises(FormatError) as caught:
        decode(output_format, body, schema, content_type)
    assert caught.value.output_format == output_format
    return str(caught.value)


# --- protobuf wire encoding, written out so the tests do not decode what our decoder encoded ---


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def pb_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def pb_bytes(number: int, value: bytes | str) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(raw)) + raw


def pb_float(number: int, value: float) -> bytes:
    import struct

    return varint(number << 3 | 5) + struct.pack("<f", value)


def avro_datum(schema_file: str, datum: Any) -> bytes:
    parsed = fastavro.parse_schema(json.loads((SAMPLES / schema_file).read_text()))
    out = io.BytesIO()
    fastavro.schemaless_writer(out, parsed, datum)
    return out.getvalue()


# --- xml ---


def test_xml_answer_is_the_root_elements_content_with_repeated_elements_as_an_array() -> None:
    decoder = official_decoder("xml-capability.yaml")

    value = decoder.decode(sample("sample-users.xml"), "application/xml")

    # As the reference engine (Jackson XmlMapper): the root's name is not a key.
    assert value == {
        "user": [
            {"id": "1", "name": "Alice Smith", "email": "alice@example.com"},
            {"id": "2", "name": "Bob Johnson", "email": "bob@example.com"},
            {"id": "3", "name": "Carol White", "email": "carol@example.com"},
        ]
    }


def test_xml_attributes_are_keys_and_the_text_beside_them_is_under_the_empty_key() -> None:
    body = '<order id="7"><item sku="A1">Lamp</item><item sku="B2">Desk</item><note/><total>12.50</total></order>'

    assert decode("xml", body) == {
        "id": "7",
        "item": [{"sku": "A1", "": "Lamp"}, {"sku": "B2", "": "Desk"}],
        "note": "",
        "total": "12.50",
    }


def test_xml_single_child_stays_an_object_and_repeats_merge_even_when_apart() -> None:
    body = "<vessels><vessel><code>V1</code></vessel><port>Oslo</port><vessel><code>V2</code></vessel></vessels>"

    assert decode("xml", "<vessels><vessel><code>V1</code></vessel></vessels>") == {"vessel": {"code": "V1"}}
    assert decode("xml", body) == {"vessel": [{"code": "V1"}, {"code": "V2"}], "port": "Oslo"}


def test_xml_namespace_prefixes_are_dropped() -> None:
    body = '<s:list xmlns:s="urn:s" xmlns:x="urn:x"><s:entry x:lang="en">hi</s:entry></s:list>'

    assert decode("xml", body) == {"entry": {"lang": "en", "": "hi"}}


def test_xml_uses_the_charset_the_content_type_names() -> None:
    body = '<?xml version="1.0" encoding="UTF-8"?><city><name>Zürich</name></city>'.encode("latin-1")

    assert decode("xml", body, content_type="application/xml; charset=ISO-8859-1") == {"name": "Zürich"}


def test_xml_entity_declarations_are_refused_so_no_expansion_bomb_runs() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>'
    )
    external = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'

    assert "xml" in failure("xml", bomb)
    assert "refused" in failure("xml", external)


def test_malformed_xml_raises_a_format_error_naming_xml_and_where() -> None:
    message = failure("xml", "<users>\n  <user>Alice</users>")

    assert message.startswith("xml answer is not well-formed XML (line 2")
    assert "Alice" not in message


def test_xml_nested_deeper_than_the_limit_raises_a_format_error() -> None:
    depth = MAX_DEPTH + 10

    assert "nested" in failure("xml", "<a>" * depth + "x" + "</a>" * depth)


# --- csv, tsv, psv ---


def test_csv_answer_is_an_array_of_objects_keyed_by_the_header_row() -> None:
    decoder = official_decoder("csv-capability.yaml")

    assert decoder.decode(sample("sample-users.csv"), "text/csv") == [
        {"id": "1", "name": "Alice Smith", "email": "alice@example.com"},
        {"id": "2", "name": "Bob Johnson", "email": "bob@example.com"},
        {"id": "3", "name": "Carol White", "email": "carol@example.com"},
    ]


def test_tsv_and_psv_split_on_tab_and_pipe() -> None:
    assert decode("tsv", "name\tcity\nAlice\tOslo, Norway\n") == [{"name": "Alice", "city": "Oslo, Norway"}]
    assert decode("psv", "name|city\nBob|Bergen\n") == [{"name": "Bob", "city": "Bergen"}]


def test_csv_quoted_fields_keep_separators_quotes_and_line_breaks() -> None:
    body = 'name,bio\n"Smith, Alice","says ""hi""\non two lines"\n'

    assert decode("csv", body) == [{"name": "Smith, Alice", "bio": 'says "hi"\non two lines'}]


def test_csv_short_rows_omit_missing_columns_and_blank_lines_are_skipped() -> None:
    body = "\ufeffid,name,email\n1,Alice\n\n2,Bob,bob@example.com\n"

    assert decode("csv", body) == [{"id": "1", "name": "Alice"}, {"id": "2", "name": "Bob", "email": "bob@example.com"}]


def test_csv_header_only_is_an_empty_array() -> None:
    assert decode("csv", "id,name\n") == []


def test_csv_row_longer_than_the_header_raises_a_format_error() -> None:
    message = failure("csv", "id,name\n1,Alice\n2,Bob,secret-extra\n")

    assert message == "csv answer: line 3 has 3 fields but the header names 2 columns"


# --- yaml ---


def test_yaml_answer_is_its_value() -> None:
    decoder = official_decoder("yaml-capability.yaml")

    value = decoder.decode(sample("sample-users.yaml"), "application/yaml")

    assert value["users"][0] == {"id": 1, "name": "Alice Smith", "email": "alice@example.com", "active": True}
    assert [user["name"] for user in value["users"]] == ["Alice Smith", "Bob Johnson", "Carol White"]


def test_yaml_timestamps_stay_text_binary_is_base64_and_only_the_first_document_counts() -> None:
    body = "when: 2026-04-02\nat: 2026-04-02T10:00:00Z\nblob: !!binary aGk=\n1: one\nnan: .nan\n---\nsecond: 2\n"

    assert decode("yaml", body) == {
        "when": "2026-04-02",
        "at": "2026-04-02T10:00:00Z",
        "blob": "aGk=",
        "1": "one",
        "nan": "NaN",
    }


def test_yaml_alias_expansion_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]

    assert "aliases" in failure("yaml", "\n".join(lines))


def test_yaml_that_refers_to_itself_raises_a_format_error() -> None:
    assert "nested" in failure("yaml", "loop: &loop [*loop]")


def test_yaml_python_tags_are_refused() -> None:
    assert failure("yaml", "!!python/object/apply:os.system ['true']").startswith("yaml answer is not valid YAML")


def test_malformed_yaml_raises_a_format_error_naming_yaml_and_where() -> None:
    message = failure("yaml", "users:\n  - name: Alice\n   bad: [\n")

    assert message.startswith("yaml answer is not valid YAML (line")


# --- html ---


def test_html_selector_in_output_schema_picks_the_tables_to_extract() -> None:
    decoder = official_decoder("html-capability.yaml")

    value = decoder.decode(sample("sample-products.html"), "text/html; charset=utf-8")

    assert value == {
        "tables": [
            [
                {"Name": "Widget", "Price": "$49", "Stock": "120"},
                {"Name": "Gadget", "Price": "$99", "Stock": "7"},
            ]
        ]
    }


def test_html_without_a_selector_extracts_every_table_with_header_cells() -> None:
    body = sample("sample-products.html") + b"<table><tr><td>no</td><td>header</td></tr></table>"

    tables = decode("html", body)["tables"]

    assert [list(table[0]) for table in tables] == [["Section"], ["Name", "Price", "Stock"]]


def test_html_selector_matching_a_container_takes_the_tables_inside_it() -> None:
    body = """<div id="main"><table><tr><th>City</th><th>Pop</th></tr><tr><td>Oslo<br>Norway</td></tr></table></div>
              <table><tr><th>Other</th></tr><tr><td>x</td></tr></table>"""

    assert decode("html", body, "#main") == {"tables": [[{"City": "Oslo Norway", "Pop": ""}]]}


def test_html_selector_that_does_not_parse_is_a_load_problem() -> None:
    decoder = compile_decoder("html", "table[", DATA)

    assert decoder.load_problem is not None
    assert "not a usable CSS selector" in decoder.load_problem
    with pytest.raises(FormatError, match="html: outputSchema 'table\\[' is not a usable CSS selector"):
        decoder.decode(b"<table></table>", "text/html")


def test_html_tag_soup_still_yields_its_table() -> None:
    body = "<table><tr><th>Name<th>Price<tr><td>Widget<td>$49</table"

    assert decode("html", body) == {"tables": [[{"Name": "Widget", "Price": "$49"}]]}


def test_html_nested_past_the_parsers_depth_limit_is_cut_off_quickly() -> None:
    import time

    started = time.perf_counter()
    value = decode("html", "<div>" * 200_000 + "<table><tr><th>A</th></tr><tr><td>1</td></tr></table>")

    assert value == {"tables": []}
    assert time.perf_counter() - started < 2.0


# --- markdown ---


def test_markdown_answer_has_front_matter_tables_and_sections() -> None:
    decoder = official_decoder("markdown-capability.yaml")

    value = decoder.decode(sample("sample-readme.md"), "text/markdown")

    assert value["frontMatter"] == {"title": "Product Release Notes", "version": 2.1, "released": "2026-04-02"}
    assert value["tables"] == [
        [
            {"Feature": "Export", "Status": "GA"},
            {"Feature": "Import", "Status": "Beta"},
            {"Feature": "Sync", "Status": ""},
        ]
    ]
    assert value["sections"] == [
        {"heading": "Overview", "level": 1, "content": "This release adds exports and faster imports."},
        {"heading": "Features", "level": 2, "content": ""},
        {"heading": "Results", "level": 2, "content": "all tests pass\nno regressions"},
        {"heading": "Results archive", "level": 2, "content": "Older results live elsewhere."},
    ]


def test_markdown_output_schema_filters_sections_by_heading_prefix_but_not_tables() -> None:
    by_text = decode("markdown", sample("sample-readme.md"), "Results")
    by_heading_line = decode("markdown", sample("sample-readme.md"), "### Results")

    assert [section["heading"] for section in by_text["sections"]] == ["Results", "Results archive"]
    assert by_text["tables"][0][0] == {"Feature": "Export", "Status": "GA"}
    assert by_heading_line["sections"] == []
    assert [s["heading"] for s in decode("markdown", sample("sample-readme.md"), "## Results")["sections"]] == [
        "Results",
        "Results archive",
    ]


def test_markdown_without_front_matter_or_headings_still_has_every_key() -> None:
    assert decode("markdown", "just text\n") == {"frontMatter": {}, "tables": [], "sections": []}


def test_markdown_front_matter_that_is_not_yaml_raises_a_format_error() -> None:
    message = failure("markdown", "---\ntitle: [unclosed\n---\n# Body\n")

    assert message.startswith("markdown front matter is not valid YAML")


# --- avro ---


def test_avro_datum_is_decoded_with_the_schema_file_relative_to_the_capability() -> None:
    datum = {
        "records": [
            {"id": "r1", "title": "First", "description": "one"},
            {"id": "r2", "title": "Second", "description": None},
        ]
    }

    assert decode("avro", avro_datum("test-records.avsc", datum), "schemas/test-records.avsc") == datum


def test_avro_logical_types_become_text_and_bytes_become_base64(tmp_path: Path) -> None:
    schema = {
        "type": "record",
        "name": "Reading",
        "fields": [
            {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "day", "type": {"type": "int", "logicalType": "date"}},
            {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 2}},
            {"name": "raw", "type": "bytes"},
            {"name": "unit", "type": {"type": "enum", "name": "Unit", "symbols": ["C", "F"]}},
            {"name": "ratio", "type": "double"},
        ],
    }
    (tmp_path / "reading.avsc").write_text(json.dumps(schema))
    out = io.BytesIO()
    at = datetime.datetime(2026, 4, 2, 10, 0, tzinfo=datetime.UTC)
    datum = {
        "at": at,
        "day": datetime.date(2026, 4, 2),
        "amount": decimal.Decimal("12.34"),
        "raw": b"hi",
        "unit": "F",
        "ratio": float("inf"),
    }
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), datum)

    value = compile_decoder("avro", "reading.avsc", tmp_path).decode(out.getvalue(), "avro/binary")

    assert value == {
        "at": "2026-04-02T10:00:00+00:00",
        "day": "2026-04-02",
        "amount": "12.34",
        "raw": "aGk=",
        "unit": "F",
        "ratio": "Infinity",
    }


def test_avro_recursive_schema_with_a_too_deep_answer_raises_instead_of_crashing(tmp_path: Path) -> None:
    schema = {"type": "record", "name": "Node", "fields": [{"name": "next", "type": ["null", "Node"]}]}
    (tmp_path / "node.avsc").write_text(json.dumps(schema))
    decoder = compile_decoder("avro", "node.avsc", tmp_path)

    assert decoder.decode(b"\x02\x02\x00", "avro/binary") == {"next": {"next": {"next": None}}}
    with pytest.raises(FormatError, match="avro answer is nested"):
        decoder.decode(b"\x02" * 200_000 + b"\x00", "avro/binary")


def test_avro_payload_that_does_not_fit_the_schema_raises_a_format_error() -> None:
    good = avro_datum("test-records.avsc", {"records": [{"id": "r1", "title": "First", "description": None}]})

    assert failure("avro", good[:-3], "schemas/test-records.avsc").startswith("avro answer does not match outputSchema")
    assert "bytes past the datum" in failure("avro", good + b"\x00\x00", "schemas/test-records.avsc")


def test_avro_without_output_schema_loads_with_a_problem_every_call_reports() -> None:
    decoder = official_decoder("avro-capability.yaml")

    assert (
        decoder.load_problem == "avro: outputRawFormat avro needs outputSchema, the path of an Avro schema (.avsc) file"
    )
    with pytest.raises(FormatError, match="needs outputSchema"):
        decoder.decode(b"\x02", "avro/binary")


def test_avro_schema_file_that_is_not_a_schema_is_a_load_problem(tmp_path: Path) -> None:
    (tmp_path / "bad.avsc").write_text('{"type": "record", "name": "R", "fields": [{"name": "x", "type": "Nope"}]}')

    problem = compile_decoder("avro", "bad.avsc", tmp_path).load_problem

    assert problem is not None
    assert problem.startswith("avro: outputSchema 'bad.avsc' is not a valid Avro schema")


# --- protobuf ---


def test_protobuf_message_is_decoded_as_the_first_message_type_of_the_proto_file() -> None:
    body = pb_bytes(1, pb_bytes(1, "r1") + pb_bytes(2, "First") + pb_bytes(3, "one")) + pb_bytes(
        1, pb_bytes(1, "r2") + pb_bytes(2, "Second")
    )

    value = decode("protobuf", body, "schemas/test-records.proto", "application/protobuf")

    assert value == {"records": [{"id": "r1", "title": "First", "description": "one"}, {"id": "r2", "title": "Second"}]}


def test_protobuf_enums_maps_bytes_floats_and_64_bit_integers_become_plain_json() -> None:
    body = (
        pb_varint(1, 9_007_199_254_740_993)
        + pb_float(2, 0.1)
        + pb_varint(3, 1)
        + pb_bytes(4, b"hi")
        + pb_bytes(5, pb_bytes(1, "ok") + pb_varint(2, 3))
        + pb_bytes(6, pb_varint(1, 1_775_124_000))
        + pb_varint(7, 1)
    )

    value = decode("protobuf", body, "schemas/typed-values.proto")

    assert value == {
        "sequence": 9_007_199_254_740_993,
        "reading": 0.1,
        "unit": "CELSIUS",
        "raw": "aGk=",
        "counts": {"ok": 3},
        "taken_at": {"seconds": 1_775_124_000},
        "calibrated": True,
    }


def test_protobuf_unknown_enum_number_stays_a_number() -> None:
    assert decode("protobuf", pb_varint(3, 42), "schemas/typed-values.proto") == {"unit": 42}


def test_malformed_protobuf_raises_a_format_error_naming_the_message_type() -> None:
    message = failure("protobuf", b"\x0a\xff\x01secret", "schemas/test-records.proto")

    assert message.startswith("protobuf answer is not a naftiko.test.RecordsList message")
    assert "secret" not in message


def test_protobuf_without_output_schema_loads_with_a_problem_every_call_reports() -> None:
    decoder = official_decoder("proto-capability.yaml")

    assert decoder.load_problem is not None
    assert "needs outputSchema" in decoder.load_problem
    with pytest.raises(FormatError, match="protobuf: outputRawFormat protobuf needs outputSchema"):
        decoder.decode(b"\x0a\x00", "application/protobuf")


def test_protobuf_schema_that_does_not_compile_is_a_load_problem_with_protocs_reason(tmp_path: Path) -> None:
    (tmp_path / "broken.proto").write_text('syntax = "proto3";\nmessage X { strin id = 1 }\n')

    problem = compile_decoder("protobuf", "broken.proto", tmp_path).load_problem

    assert problem is not None
    assert problem.startswith("protobuf: outputSchema 'broken.proto' does not compile: broken.proto:2:")


# --- errors every format shares ---


@pytest.mark.parametrize(
    ("output_format", "schema"), [("avro", "schemas/missing.avsc"), ("protobuf", "schemas/missing.proto")]
)
def test_missing_schema_file_still_loads_and_each_call_says_it_was_not_found(output_format: str, schema: str) -> None:
    decoder = compile_decoder(output_format, schema, DATA)

    assert decoder.load_problem == (
        f"{output_format}: outputSchema {schema!r} not found (paths are relative to the capability file)"
    )
    with pytest.raises(FormatError) as caught:
        decoder.decode(b"\x02\x00", "application/octet-stream")
    assert str(caught.value) == decoder.load_problem
    assert caught.value.output_format == output_format


@pytest.mark.parametrize("output_format", ["json", "xml", "csv", "tsv", "psv", "yaml", "html", "markdown"])
def test_an_empty_or_blank_answer_decodes_to_none(output_format: str) -> None:
    assert decode(output_format, b"") is None
    assert decode(output_format, b" \r\n") is None


def test_an_empty_binary_answer_decodes_to_none() -> None:
    assert decode("avro", b"", "schemas/test-records.avsc") is None
    assert decode("protobuf", b"", "schemas/test-records.proto") is None


def test_an_unknown_format_loads_with_a_problem_and_format_names_are_case_insensitive() -> None:
    decoder = compile_decoder("ini", None, DATA)

    assert decoder.load_problem is not None
    assert decoder.load_problem.startswith("unsupported outputRawFormat 'ini'")
    with pytest.raises(FormatError, match="unsupported outputRawFormat"):
        decoder.decode(b"a=1", "text/plain")
    assert decode("CSV", "a\n1\n") == [{"a": "1"}]


def test_json_decoder_parses_json_and_names_json_when_it_cannot() -> None:
    assert decode("json", '{"a": [1, 2.5, null]}') == {"a": [1, 2.5, None]}
    assert failure("json", "{oops").startswith("json answer is not valid JSON")


def test_decoders_are_frozen_values_built_once() -> None:
    decoder = compile_decoder("csv", None, DATA)

    assert decoder == compile_decoder("csv", None, DATA)
    with pytest.raises(AttributeError):
        decoder.output_format = "xml"  # type: ignore[misc]


def test_importing_formats_loads_none_of_the_format_libraries() -> None:
    probe = (
        "import sys, naftiko_runtime.consumer.formats\n"
        "heavy = ('lxml', 'cssselect', 'defusedxml', 'markdown_it', 'fastavro', 'google.protobuf', 'grpc_tools')\n"
        "print(sorted(name for name in heavy if name in sys.modules))\n"
    )

    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "[]"
