from __future__ import annotations

import hashlib
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.dossier.conftest import pdf_bytes
from tests.factories import City, build_city, register_case
from xietong.dossier import blobs
from xietong.ledger import keys
from xietong.ledger.services import ledger_integrate_all


@dataclass
class Platform:
    city: City
    blob_root: Path
    case_ids: list[int] = field(default_factory=list)
    shas: list[str] = field(default_factory=list)


def upload_volume(city: City, case_id: int, data: bytes) -> None:
    """A scanned volume through the upload API, as the browser sends it (jobs stay queued)."""
    client = APIClient()
    client.force_authenticate(city.u("gusu.police_leader"))
    started = client.post(
        f"/api/v1/cases/{case_id}/uploads",
        {"filename": "卷一.pdf", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
        format="json",
    )
    assert started.status_code == 201, started.content
    upload_id = started.json()["id"]
    response = client.put(
        f"/api/v1/uploads/{upload_id}?offset=0",
        data,
        content_type="application/octet-stream",
        HTTP_X_CHUNK_SHA256=hashlib.sha256(data).hexdigest(),
    )
    assert response.status_code == 200, response.content
    finished = client.post(f"/api/v1/uploads/{upload_id}/finish", {"title": "诉讼卷"}, format="json")
    assert finished.status_code in (200, 201), finished.content


@pytest.fixture
def platform(transactional_db: None, ledger_flushable: object, settings: object, tmp_path: Path) -> Platform:
    """A small platform: a city, three cases with ledger entries, a scanned volume and loose files,
    and a signed tree head. Transactional: backup and restore work on committed data."""
    root = tmp_path / "blobs"
    settings.XIETONG_BLOB_ROOT = root  # type: ignore[attr-defined]
    city = build_city()
    made = Platform(city=city, blob_root=root)
    made.case_ids = [register_case(city) for _ in range(3)]
    upload_volume(city, made.case_ids[0], pdf_bytes([["起诉意见书", "犯罪嫌疑人张伟"]]))
    for i in range(4):
        made.shas.append(
            blobs.blob_put_bytes(f"证据材料 {i}".encode() * 100, content_type="text/plain").sha256
        )
    ledger_integrate_all()
    return made


def wipe(blob_root: Path) -> None:
    """Lose the platform: an empty database (no tables at all) and an empty file store."""
    if connection.vendor == "postgresql":
        connection.close()
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
        connection.close()
    else:
        connection.ensure_connection()
        empty = sqlite3.connect(":memory:")
        empty.backup(connection.connection)
        empty.close()
    shutil.rmtree(blob_root, ignore_errors=True)


def new_machine_key(settings: object, tmp_path: Path) -> Path:
    """Point the ledger key at a path with no key yet, as on a freshly installed machine."""
    path = tmp_path / "new-machine" / "ledger_ed25519.pem"
    settings.XIETONG_LEDGER_KEY_FILE = path  # type: ignore[attr-defined]
    keys.signing_key.cache_clear()
    return path
