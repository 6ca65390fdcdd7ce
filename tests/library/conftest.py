from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import City
from tests.library.judgments import ALL, write_jsonl
from xietong.library import index
from xietong.library.importer import library_import


@pytest.fixture(autouse=True)
def _fresh_library_index(tmp_path: Path, settings: object) -> Iterator[None]:
    """Each test builds its own indexes: the database is rolled back between tests, so a cached
    index (or a saved one) of another test must never answer."""
    settings.XIETONG_HOME = tmp_path  # type: ignore[attr-defined]
    index.forget()
    yield
    index.forget()


@pytest.fixture
def library(city: City, tmp_path: Path) -> City:
    library_import(path=write_jsonl(tmp_path / "j.jsonl", ALL), collection_name="hist", workers=1)
    return city
