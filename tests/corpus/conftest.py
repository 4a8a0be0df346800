"""Run the serving cases file by file, so each corpus file's server starts once."""

from __future__ import annotations

import pytest

from tests.corpus.serving import corpus_file_of


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Group `test_serving.py` cases by corpus file (stable), in the slots they already hold."""
    slots = [index for index, item in enumerate(items) if corpus_file_of(item) is not None]
    grouped = sorted((items[index] for index in slots), key=lambda item: str(corpus_file_of(item)))
    for index, item in zip(slots, grouped, strict=True):
        items[index] = item
