from __future__ import annotations

from pathlib import Path

import pytest

from tests.importer.support import unpack_kombo


@pytest.fixture(scope="session")
def kombo_document(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack_kombo(tmp_path_factory.mktemp("kombo-openapi"))
