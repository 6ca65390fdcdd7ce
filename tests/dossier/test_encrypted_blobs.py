"""Files encrypted at rest (``XIETONG_FILES_ENCRYPTED``, ``blobs.EncryptedBlobs``): nothing of the
plaintext on disk, every read path gives the plaintext back, tampering is refused."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from django.test import Client

from tests.dossier.test_upload_and_processing import api_for, upload
from tests.factories import City, register_case
from xietong.dossier import blobs
from xietong.dossier.models import Volume

CHUNK = blobs.EncryptedBlobs.PLAIN_CHUNK


@pytest.fixture
def encrypted(settings: Any, tmp_path: Path) -> blobs.EncryptedBlobs:
    settings.XIETONG_BLOB_ROOT = tmp_path / "blobs"
    settings.XIETONG_FILES_ENCRYPTED = True
    store = blobs.backend()
    assert isinstance(store, blobs.EncryptedBlobs)
    return store


def _on_disk(root: Path, sha256: str) -> bytes:
    return (root / blobs.blob_key(sha256)).read_bytes()


@pytest.mark.django_db
@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 12_345])
def test_every_read_path_gives_back_the_plaintext_and_the_disk_holds_none_of_it(
    encrypted: blobs.EncryptedBlobs, settings: Any, size: int
) -> None:
    data = (b"\xe8\xaf\xa2\xe9\x97\xae\xe7\xac\x94\xe5\xbd\x95" * (size // 12 + 1))[:size]  # 询问笔录…
    blob = blobs.blob_put_bytes(data, content_type="application/pdf")
    stored = _on_disk(Path(settings.XIETONG_BLOB_ROOT), blob.sha256)
    assert stored.startswith(b"XTE1") and len(stored) > size
    if size >= 12:
        assert data[:12] not in stored
    with blobs.blob_open(blob) as fh:
        assert fh.read() == data
    with blobs.blob_local_path(blob) as path:
        assert path.read_bytes() == data
    for start, end in [(0, size - 1), (1, CHUNK), (CHUNK - 3, CHUNK + 3), (size - 5, size + 100)]:
        start, end = max(0, start), max(start, end)
        if start < size:
            assert b"".join(blobs.blob_read_range(blob, start, end)) == data[start : min(end, size - 1) + 1]
    assert blob.sha256 == hashlib.sha256(data).hexdigest()  # the address is the plaintext's


@pytest.mark.django_db
def test_a_changed_byte_a_cut_off_end_or_a_swapped_file_is_refused(
    encrypted: blobs.EncryptedBlobs, settings: Any
) -> None:
    root = Path(settings.XIETONG_BLOB_ROOT)
    one = blobs.blob_put_bytes(os.urandom(2 * CHUNK + 10), content_type="application/pdf")
    two = blobs.blob_put_bytes(os.urandom(2 * CHUNK + 10), content_type="application/pdf")
    path_one, path_two = root / blobs.blob_key(one.sha256), root / blobs.blob_key(two.sha256)
    original = path_one.read_bytes()
    path_one.chmod(0o644)

    path_one.write_bytes(original[:200] + bytes([original[200] ^ 1]) + original[201:])
    with pytest.raises(InvalidTag):
        blobs.blob_open(one)
    path_one.write_bytes(original[: -(CHUNK // 2)])  # the end cut off
    with pytest.raises(InvalidTag):
        blobs.blob_open(one)
    shutil.copyfile(path_two, path_one)  # another file's (valid) ciphertext under this address
    with pytest.raises(InvalidTag):
        blobs.blob_open(one)


@pytest.mark.django_db
def test_files_stored_before_encryption_was_switched_on_are_still_read(settings: Any, tmp_path: Path) -> None:
    settings.XIETONG_BLOB_ROOT = tmp_path / "blobs"
    clear = blobs.blob_put_bytes(b"%PDF-1.7 stored in the clear", content_type="application/pdf")
    settings.XIETONG_FILES_ENCRYPTED = True
    with blobs.blob_open(clear) as fh:
        assert fh.read() == b"%PDF-1.7 stored in the clear"
    assert b"".join(blobs.blob_read_range(clear, 5, 7)) == b"1.7"


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")
def test_an_uploaded_volume_is_rendered_read_and_served_from_encrypted_files(
    city: City, scanned_pdf: bytes, encrypted: blobs.EncryptedBlobs, settings: Any
) -> None:
    case_id = register_case(city)
    result = upload(api_for(city, "gusu.police"), case_id, scanned_pdf)
    assert result["response"].status_code == 201, result["response"].content
    volume = Volume.objects.get(case_id=case_id)
    assert volume.status == "ready" and volume.pages_ocred == volume.page_count
    assert scanned_pdf[:64] not in _on_disk(Path(settings.XIETONG_BLOB_ROOT), volume.source.sha256)
    client = Client()
    client.force_login(city.u("gusu.police"))
    page = volume.pages.order_by("number").first()
    assert page is not None
    image = client.get(f"/pages/{page.pk}/image")
    body = b"".join(image.streaming_content) if image.streaming else image.content  # type: ignore[attr-defined]
    assert image.status_code == 200 and image["Content-Type"].startswith("image/") and len(body) > 1000
