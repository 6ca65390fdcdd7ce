from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _blobs(tmp_path: Path, settings: object) -> None:
    settings.XIETONG_BLOB_ROOT = tmp_path / "blobs"  # type: ignore[attr-defined]
