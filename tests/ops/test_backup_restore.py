"""Backup → wipe → restore round trips (SQLite and PostgreSQL), refusals and damaged backups."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tests.factories import register_case
from tests.ops.conftest import Platform, new_machine_key, wipe
from xietong.cases.models import Case
from xietong.dossier import blobs
from xietong.dossier.models import Blob, Volume
from xietong.ledger.models import LedgerEntry
from xietong.ledger.services import ledger_integrate_all
from xietong.ledger.verify import ledger_verify
from xietong.ops.backup import backup_create
from xietong.ops.restore import restore_run


def test_round_trip_restores_every_file_and_a_verified_ledger(
    platform: Platform, settings: object, tmp_path: Path
) -> None:
    # given a backup of a platform with cases, a scanned volume, loose files and a signed tree head
    entries, blob_rows = LedgerEntry.objects.count(), set(Blob.objects.values_list("sha256", flat=True))
    out = StringIO()
    call_command("backup", str(tmp_path / "bk"), stdout=out)
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text(encoding="utf-8"))
    assert "备份完成" in out.getvalue()
    assert "备份为明文" in out.getvalue()  # files are not encrypted here: the operator is told
    assert manifest["database"]["sealed"] is False
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["database"]["counts"]["cases_case"] == 3
    assert manifest["database"]["counts"]["ledger_ledgerentry"] == entries
    assert {f["sha256"] for f in manifest["files"]} == blob_rows
    assert manifest["ledger"]["tree_head"]["size"] == entries
    # when the database, the files and the signing key are all lost, and the backup is restored
    wipe(platform.blob_root)
    new_machine_key(settings, tmp_path)
    out = StringIO()
    call_command("restore", str(tmp_path / "bk"), stdout=out)
    # then everything is back, and says so
    assert "恢复成功" in out.getvalue()
    assert sorted(Case.objects.values_list("pk", flat=True)) == sorted(platform.case_ids)
    assert Volume.objects.count() == 1
    assert LedgerEntry.objects.count() == entries
    assert ledger_verify().ok
    for sha in blob_rows:
        assert blobs.sha256_of_file(blobs.blob_path(sha)) == sha
    # and the restored platform keeps working: a new case chains on and the tree extends
    register_case(platform.city)
    assert ledger_integrate_all() == 1
    assert ledger_verify().ok


@pytest.fixture
def files_encrypted(settings: object) -> None:
    """Files encrypted at rest; asked for before ``platform``, so its files are stored sealed."""
    settings.XIETONG_FILES_ENCRYPTED = True  # type: ignore[attr-defined]


def test_an_encrypted_platform_is_backed_up_sealed_and_restored_with_or_without_encryption(
    files_encrypted: None, platform: Platform, settings: object, tmp_path: Path
) -> None:
    blob_rows = set(Blob.objects.values_list("sha256", flat=True))
    call_command("backup", str(tmp_path / "bk"), stdout=StringIO())
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["files_encrypted"] is True
    for sha in blob_rows:  # the backup holds no plaintext: every file as the store keeps it, sealed
        copy = (tmp_path / "bk" / "blobs" / blobs.blob_key(sha)).read_bytes()
        assert copy.startswith(blobs.EncryptedBlobs.MAGIC) and hashlib.sha256(copy).hexdigest() != sha
    # … nor the database dump, nor the ledger's signing key: both sealed under the same KEK
    assert manifest["database"]["sealed"] is True and manifest["ledger"]["key_sealed"] is True
    for part in (manifest["database"]["file"], "keys/ledger_ed25519.pem"):
        sealed = (tmp_path / "bk" / part).read_bytes()
        assert sealed.startswith(blobs.EncryptedBlobs.MAGIC), part
        assert b"SQLite format" not in sealed and b"PRIVATE KEY" not in sealed and b"PGDMP" not in sealed
    # restored onto a platform that encrypts too: the files go back sealed, and read as they were
    wipe(platform.blob_root)
    new_machine_key(settings, tmp_path)
    out = StringIO()
    call_command("restore", str(tmp_path / "bk"), stdout=out)
    assert "恢复成功" in out.getvalue()
    store = blobs.backend()
    for sha in blob_rows:
        assert (platform.blob_root / blobs.blob_key(sha)).read_bytes().startswith(blobs.EncryptedBlobs.MAGIC)
        with store.open(blobs.blob_key(sha)) as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == sha
    # restored onto one that does not encrypt (same key-encryption key): decrypted on the way in
    settings.XIETONG_FILES_ENCRYPTED = False  # type: ignore[attr-defined]
    wipe(platform.blob_root)
    out = StringIO()
    call_command("restore", str(tmp_path / "bk"), "--force", stdout=out)
    assert "恢复成功" in out.getvalue()
    for sha in blob_rows:
        assert blobs.sha256_of_file(blobs.blob_path(sha)) == sha


def test_a_sealed_backup_under_another_key_encryption_key_is_refused_before_anything_changes(
    files_encrypted: None, platform: Platform, settings: object, tmp_path: Path
) -> None:
    call_command("backup", str(tmp_path / "bk"), stdout=StringIO())
    cases = Case.objects.count()
    settings.XIETONG_FILES_KEK = base64.b64encode(bytes(range(32))).decode()  # type: ignore[attr-defined]
    with pytest.raises(CommandError, match="XIETONG_FILES_KEK"):
        call_command("restore", str(tmp_path / "bk"), "--force", stdout=StringIO())
    assert Case.objects.count() == cases


def test_a_sealed_dump_under_another_key_encryption_key_is_refused_before_it_is_read(
    files_encrypted: None, platform: Platform, settings: object, tmp_path: Path
) -> None:
    """The dump and the key are decrypted before anything is touched: under another KEK, refused."""
    from xietong.ops.restore import RestoreError, _plain_parts

    manifest = backup_create(tmp_path / "bk").manifest
    plain = tmp_path / "plain"
    plain.mkdir()
    dump, key = _plain_parts(tmp_path / "bk", manifest, plain)
    assert key.read_bytes().startswith(b"-----BEGIN") and dump.stat().st_size > 0
    settings.XIETONG_FILES_KEK = base64.b64encode(bytes(range(32))).decode()  # type: ignore[attr-defined]
    with pytest.raises(RestoreError, match="XIETONG_FILES_KEK 与备份时不同"):
        _plain_parts(tmp_path / "bk", manifest, plain)


def test_tar_backup_restores_with_force_over_a_live_database(platform: Platform, tmp_path: Path) -> None:
    # given a .tar backup, and a case registered after it
    call_command("backup", str(tmp_path / "bk.tar"), stdout=StringIO())
    assert (tmp_path / "bk.tar").is_file()
    register_case(platform.city)
    assert Case.objects.count() == 4
    # when restored with --force over the live database
    call_command("restore", str(tmp_path / "bk.tar"), "--force", stdout=StringIO())
    # then the platform is as it was at the backup
    assert Case.objects.count() == 3
    assert ledger_verify().ok


def test_restore_refuses_a_non_empty_database_without_force(platform: Platform, tmp_path: Path) -> None:
    call_command("backup", str(tmp_path / "bk"), stdout=StringIO())
    register_case(platform.city)
    with pytest.raises(CommandError, match=r"目标数据库非空.*--force"):
        call_command("restore", str(tmp_path / "bk"), stdout=StringIO())
    assert Case.objects.count() == 4  # nothing touched


def test_a_corrupted_file_in_the_backup_fails_restore_before_touching_anything(
    platform: Platform, tmp_path: Path
) -> None:
    # given a backup in which one stored file was altered
    call_command("backup", str(tmp_path / "bk"), stdout=StringIO())
    damaged = tmp_path / "bk" / "blobs" / blobs.blob_key(platform.shas[0])
    damaged.chmod(0o644)
    damaged.write_bytes(b"tampered")
    register_case(platform.city)
    # when it is restored, then it is refused with the file named, and the database is untouched
    with pytest.raises(CommandError, match=f"损坏 {platform.shas[0]}"):
        call_command("restore", str(tmp_path / "bk"), "--force", stdout=StringIO())
    assert Case.objects.count() == 4


def test_restore_without_the_signing_key_fails_the_ledger_check_and_says_so(
    platform: Platform, settings: object, tmp_path: Path
) -> None:
    # given a backup made without the key, restored on a machine whose key is a different one
    call_command("backup", str(tmp_path / "bk"), "--no-key", stdout=StringIO())
    wipe(platform.blob_root)
    new_machine_key(settings, tmp_path)
    err = StringIO()
    # when restored, then the signed tree heads do not verify, and the command fails saying why
    with pytest.raises(CommandError, match="恢复后校验未通过"):
        call_command("restore", str(tmp_path / "bk"), stdout=StringIO(), stderr=err)
    assert "账本校验失败：tree head size=" in err.getvalue()
    assert "signature invalid" in err.getvalue()


def test_a_file_missing_from_the_store_after_restore_fails_the_check(
    platform: Platform, tmp_path: Path
) -> None:
    # given a backup whose manifest lists a file, and a database row naming a file that is nowhere
    call_command("backup", str(tmp_path / "bk"), stdout=StringIO())
    wipe(platform.blob_root)
    report = restore_run(tmp_path / "bk")
    assert report.ok
    path = blobs.blob_path(platform.shas[1])
    path.unlink()
    # when the check runs again, then the lost file is reported
    from xietong.ops.restore import RestoreReport, platform_check

    again = RestoreReport(manifest=report.manifest)
    platform_check(again)
    assert f"文件缺失或损坏：{platform.shas[1]}" in again.problems


def test_backup_while_another_thread_keeps_writing_is_consistent(platform: Platform, tmp_path: Path) -> None:
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip(
            "in-memory SQLite test database has one connection; XIETONG_TEST_SQLITE=/path runs it on a file"
        )
    # given a writer registering cases and storing files (bytes first, row after) without pause
    stop = threading.Event()
    written: list[int] = []
    errors: list[BaseException] = []

    def writer() -> None:
        from django.db import connection as own

        try:
            i = 0
            while not stop.is_set():
                written.append(register_case(platform.city))
                blobs.blob_put_bytes(f"并发写入 {i}".encode() * 50, content_type="text/plain")
                i += 1
                if i % 5 == 0:
                    ledger_integrate_all()
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)
        finally:
            own.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 3:
            time.sleep(0.05)
        # when a backup is taken in the middle of it
        result = backup_create(tmp_path / "bk")
        during = len(written)
        time.sleep(0.3)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not errors, errors
    assert len(written) > during  # the platform kept writing after the snapshot
    # then the restored platform verifies: every chain whole, every referenced file present
    report = restore_run(tmp_path / "bk", force=True)
    assert report.ok, report.problems
    assert Case.objects.count() == result.manifest["database"]["counts"]["cases_case"]
    assert report.referenced_checked == len(result.manifest["files"])
