"""binds.py: where a capability's variables come from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from naftiko_runtime.binds import BindError, resolve_binds
from naftiko_runtime.capability import LoadOptions, load_capability
from naftiko_runtime.diagnostics import CapabilityError
from naftiko_runtime.spec.models import Bind
from tests.spec.yaml_bombs import ALIAS_BOMB


def bind(**fields: object) -> Bind:
    return Bind.model_validate(fields)


def test_a_bind_without_location_reads_the_environment_variable_named_by_the_provider_key() -> None:
    variables = resolve_binds(
        [bind(namespace="env", keys={"API_KEY": "SHOP_API_KEY"})], {"SHOP_API_KEY": "s3cret"}, Path(".")
    )

    assert variables.lookup("API_KEY") == ("s3cret", None)
    assert variables.lookup("env.API_KEY") == ("s3cret", None)
    assert variables.missing == {}


def test_an_unset_environment_variable_is_recorded_as_missing_under_its_provider_key() -> None:
    variables = resolve_binds([bind(namespace="env", keys={"API_KEY": "SHOP_API_KEY"})], {}, Path("."))

    assert variables.missing == {"API_KEY": "SHOP_API_KEY"}
    assert variables.lookup("API_KEY") == (None, "SHOP_API_KEY")
    assert variables.lookup("env.API_KEY") == (None, "SHOP_API_KEY")


def test_an_empty_environment_variable_counts_as_missing() -> None:
    variables = resolve_binds(
        [bind(namespace="env", keys={"API_KEY": "SHOP_API_KEY"})], {"SHOP_API_KEY": ""}, Path(".")
    )

    assert variables.missing == {"API_KEY": "SHOP_API_KEY"}
    assert variables.lookup("env.API_KEY") == (None, "SHOP_API_KEY")


def test_template_context_offers_both_plain_and_namespace_qualified_names() -> None:
    variables = resolve_binds(
        [bind(namespace="registry-env", keys={"TOKEN": "REG_TOKEN"})], {"REG_TOKEN": "t"}, Path(".")
    )

    assert variables.context() == {"TOKEN": "t", "registry-env": {"TOKEN": "t"}}
    assert variables.is_variable("TOKEN")
    assert variables.is_variable("registry-env.TOKEN")
    assert not variables.is_variable("imo_number")


def test_a_file_location_is_read_relative_to_the_capability_file(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "secrets.yaml").write_text('registry-bearer-token: "abc"\nretries: 3\nverbose: true\n')

    variables = resolve_binds(
        [
            bind(
                namespace="registry-env",
                location="file:///./shared/secrets.yaml",
                keys={"TOKEN": "registry-bearer-token", "RETRIES": "retries", "VERBOSE": "verbose"},
            )
        ],
        {},
        tmp_path,
    )

    # Non-string values arrive as their JSON text, never as Python reprs.
    assert variables.values == {"TOKEN": "abc", "RETRIES": "3", "VERBOSE": "true"}


def test_a_json_bind_file_is_read_as_json(tmp_path: Path) -> None:
    (tmp_path / "secrets.json").write_text(json.dumps({"token": "from-json"}))

    variables = resolve_binds(
        [bind(namespace="s", location="file:///./secrets.json", keys={"TOKEN": "token"})], {}, tmp_path
    )

    assert variables.values == {"TOKEN": "from-json"}


def test_an_absolute_file_location_is_read_as_is(tmp_path: Path) -> None:
    secrets = tmp_path / "abs.yaml"
    secrets.write_text("token: absolute\n")

    variables = resolve_binds(
        [bind(namespace="s", location=f"file://{secrets}", keys={"TOKEN": "token"})], {}, Path("/nonexistent")
    )

    assert variables.values == {"TOKEN": "absolute"}


def test_a_key_absent_from_the_bind_file_is_missing_and_says_which_file(tmp_path: Path) -> None:
    (tmp_path / "secrets.yaml").write_text("other: x\n")

    variables = resolve_binds(
        [bind(namespace="s", location="file:///./secrets.yaml", keys={"TOKEN": "token"})], {}, tmp_path
    )

    assert variables.missing == {"TOKEN": "token in file:///./secrets.yaml"}


@pytest.mark.parametrize("location", ["vault://secret/data/shop", "k8s://namespace/secret"])
def test_unsupported_bind_schemes_are_refused_naming_the_scheme(location: str) -> None:
    scheme = location.split(":", 1)[0]

    with pytest.raises(BindError, match=f"scheme '{scheme}' is not supported"):
        resolve_binds([bind(namespace="s", location=location, keys={"T": "t"})], {}, Path("."))


def test_an_unreadable_bind_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(BindError, match="cannot read bind file"):
        resolve_binds([bind(namespace="s", location="file:///./absent.yaml", keys={"T": "t"})], {}, tmp_path)


def test_a_bind_file_whose_aliases_expand_beyond_the_limit_is_refused_without_expanding_them(tmp_path: Path) -> None:
    (tmp_path / "bomb.yaml").write_text(ALIAS_BOMB)

    with pytest.raises(BindError, match="document too large"):
        resolve_binds([bind(namespace="s", location="file:///./bomb.yaml", keys={"T": "t"})], {}, tmp_path)


def test_a_bind_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    (tmp_path / "list.yaml").write_text("- a\n- b\n")

    with pytest.raises(BindError, match="must hold a mapping"):
        resolve_binds([bind(namespace="s", location="file:///./list.yaml", keys={"T": "t"})], {}, tmp_path)


def test_a_bare_variable_no_bind_declares_reads_the_environment() -> None:
    variables = resolve_binds([], {"SHOP_TOKEN": "from-env"}, Path("."))

    assert variables.lookup("SHOP_TOKEN") == ("from-env", None)
    assert variables.lookup("env.SHOP_TOKEN") == ("from-env", None)
    assert variables.lookup("OTHER") == (None, "OTHER")


def test_arguments_of_other_namespaces_are_not_looked_up_as_variables() -> None:
    variables = resolve_binds([], {"name": "x"}, Path("."))

    assert variables.lookup("tools.name") == (None, None)


def test_a_capability_with_an_unsupported_bind_scheme_fails_to_load_at_its_binds(tmp_path: Path) -> None:
    path = tmp_path / "vault.yaml"
    path.write_text(
        "naftiko: 1.0.0-alpha2\n"
        "binds:\n"
        "- namespace: secrets\n"
        "  location: vault://secret/shop\n"
        "  keys:\n"
        "    TOKEN: token\n"
        "capability:\n"
        "  consumes: []\n"
    )

    with pytest.raises(CapabilityError) as caught:
        load_capability(path, LoadOptions(environ={}))

    [diagnostic] = caught.value.diagnostics
    assert "vault" in diagnostic.message
    assert str(diagnostic).startswith(f"{path}:2:1:")
