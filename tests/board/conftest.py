from __future__ import annotations

from pathlib import Path

import pytest

from tests.board.factories import BoardCase, board_case
from tests.factories import City


@pytest.fixture(autouse=True)
def _blob_root(settings: object, tmp_path: Path) -> None:
    settings.XIETONG_BLOB_ROOT = tmp_path / "blobs"  # type: ignore[attr-defined]
    settings.XIETONG_HOME = tmp_path / "home"  # type: ignore[attr-defined]


@pytest.fixture
def bc(city: City) -> BoardCase:
    """A gusu case the police sent to the procuratorate for arrest review (both have a role)."""
    return board_case(city)
