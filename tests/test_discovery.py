"""discovery.py: which files of a directory are capabilities, and which are only used by them."""

from __future__ import annotations

from pathlib import Path

from naftiko_runtime.discovery import discover

CAPABILITY = """\
naftiko: 1.0.0-alpha2
binds:
- {namespace: env, location: "file:///./shared/secrets.yaml", keys: {TOKEN: token}}
capability:
  consumes:
  - {import: shop, location: ./shared/shop-consumes.yaml}
  exposes:
  - {type: mcp, namespace: m, port: 9000, tools: [{name: t, description: d, call: shop.op}]}
"""


def test_a_directory_yields_its_capabilities_and_skips_only_unrelated_yaml_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "nested" / "shared").mkdir(parents=True)
    (tmp_path / "nested" / "cap.yaml").write_text(CAPABILITY)
    (tmp_path / "nested" / "shared" / "secrets.yaml").write_text("token: s3cret-value\n")
    (tmp_path / "nested" / "shared" / "shop-consumes.yaml").write_text("naftiko: 1.0.0-alpha2\nconsumes: []\n")
    (tmp_path / "nested" / "cap.openapi.yaml").write_text("openapi: 3.0.3\npaths: {}\n")
    (tmp_path / "edges.yml").write_text("slug: kombo\nsecret: do-not-echo\n")
    (tmp_path / "broken.yaml").write_text("a: [unclosed\n")

    found = discover([tmp_path])

    assert found.capabilities == [tmp_path / "nested" / "cap.yaml"]
    skipped = {Path(d.location.file).name: d.message for d in found.skipped}
    assert set(skipped) == {"edges.yml", "broken.yaml"}
    assert "not a Naftiko capability" in skipped["edges.yml"]
    assert all("do-not-echo" not in message and "s3cret" not in message for message in skipped.values())


def test_files_given_by_name_are_taken_as_they_are(tmp_path: Path) -> None:
    file = tmp_path / "anything.yaml"
    file.write_text("slug: x\n")
    assert discover([file]).capabilities == [file]
