"""Online backup of the whole platform: database, stored files, ledger signing key, manifest.

Consistency between the database and the files rests on one rule of the file store
(``dossier/blobs.py``): the bytes of a blob are written (and fsync'ed) *before* the ``Blob`` row that
names them, and blobs are never overwritten or deleted. So we take the database snapshot first and
copy files after it: every blob the snapshot references was already on disk when the snapshot was
taken, and is still there (unchanged) when we copy it. Files written after the snapshot are simply
not in the backup, like the rows that will reference them.

The snapshot is one transaction: on PostgreSQL ``pg_dump --snapshot`` uses a snapshot exported by
our own REPEATABLE READ transaction, in which we also read the manifest's row counts, the blob list
and the tree head, so the manifest describes exactly the dump. On SQLite the online backup API
copies the database while writers go on (WAL), and the manifest is read from the copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from django.conf import settings
from django.db import connection

from xietong import servertime
from xietong.dossier import blobs

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PG_DUMP_FILE = "database.pgdump"
SQLITE_FILE = "database.sqlite3"
BLOB_DIR = "blobs"
KEY_FILE = "keys/ledger_ed25519.pem"
PG_BIN = Path(os.environ.get("XIETONG_PG_BIN", "/usr/bin"))

# Tables whose row counts go into the manifest and are compared after a restore.
KEY_TABLES = [
    "orgs_user",
    "orgs_unit",
    "cases_case",
    "cases_party",
    "ledger_ledgerentry",
    "ledger_merkleleaf",
    "ledger_treehead",
    "dossier_blob",
    "dossier_volume",
    "dossier_page",
    "dossier_evidence",
    "instruments_instrument",
]

Progress = Callable[[str], None]


class BackupError(Exception):
    """A backup that could not be made whole; the message is for the operator (Chinese)."""


@dataclass
class Snapshot:
    """What the database snapshot says: the manifest's database half."""

    vendor: str
    counts: dict[str, int]
    tree_head: dict[str, Any]
    blobs: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    seconds: float


def _quiet(_: str) -> None:
    return None


def sha256_of(path: Path) -> str:
    return blobs.sha256_of_file(path)


def pg_env() -> dict[str, str]:
    """libpq environment for the configured database, so no password appears on a command line."""
    conf = connection.settings_dict
    env = dict(os.environ)
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if conf.get(key):
            env[name] = str(conf[key])
    env["PGDATABASE"] = str(conf["NAME"])
    return env


def _read_snapshot(cursor: Any, vendor: str) -> Snapshot:
    """Counts, blob list and latest tree head, read through a DB-API cursor inside the snapshot."""
    if vendor == "postgresql":
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    else:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    present = {row[0] for row in cursor.fetchall()}
    counts: dict[str, int] = {}
    for table in KEY_TABLES:
        if table in present:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 (fixed names)
            counts[table] = int(cursor.fetchone()[0])
    head: dict[str, Any] = {"size": 0, "root_hash": None, "signed_at": None}
    if "ledger_treehead" in present:
        cursor.execute("SELECT size, root_hash, signed_at FROM ledger_treehead ORDER BY size DESC LIMIT 1")
        row = cursor.fetchone()
        if row:
            head = {"size": int(row[0]), "root_hash": row[1], "signed_at": str(row[2])}
    found: list[tuple[str, int]] = []
    if "dossier_blob" in present:
        cursor.execute("SELECT sha256, size FROM dossier_blob ORDER BY sha256")
        found = [(str(sha), int(size)) for sha, size in cursor.fetchall()]
    return Snapshot(vendor=vendor, counts=counts, tree_head=head, blobs=found)


def _dump_postgresql(dest: Path, progress: Progress) -> Snapshot:
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=False) as conn, conn.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot_id = cursor.fetchone()[0]  # type: ignore[index]
        snap = _read_snapshot(cursor, "postgresql")
        progress(
            f"数据库快照 {snapshot_id}：{snap.counts.get('cases_case', 0)} 件案件，{len(snap.blobs)} 个文件"
        )
        target = dest / PG_DUMP_FILE
        started = time.perf_counter()
        # The exporting transaction stays open while pg_dump runs: the snapshot lives as long as it.
        done = subprocess.run(  # noqa: S603 (fixed binary, arguments are ours)
            [str(PG_BIN / "pg_dump"), "--format=custom", f"--snapshot={snapshot_id}", f"--file={target}"],
            env=pg_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise BackupError(f"pg_dump 失败：{done.stderr.strip()}")
        conn.rollback()
    size = target.stat().st_size
    progress(
        f"数据库已导出（pg_dump 自定义格式，{size / 1e6:.1f} MB，{time.perf_counter() - started:.1f} 秒）"
    )
    return snap


def _dump_sqlite(dest: Path, progress: Progress) -> Snapshot:
    target = dest / SQLITE_FILE
    started = time.perf_counter()
    connection.ensure_connection()
    if connection.in_atomic_block:
        # The backup reads through this connection: its own uncommitted writes would be copied.
        raise BackupError("不能在数据库事务内备份 SQLite")
    raw: sqlite3.Connection = connection.connection
    copy = sqlite3.connect(target)
    try:
        # One step (pages=-1): a single read transaction on the source, so the copy is one snapshot
        # even while other connections commit (WAL: readers never block writers).
        raw.backup(copy, pages=-1)
        copy.execute("PRAGMA journal_mode=DELETE")
        snap = _read_snapshot(copy.cursor(), "sqlite")
    finally:
        copy.close()
    progress(
        f"数据库已复制（SQLite 在线备份，{target.stat().st_size / 1e6:.1f} MB，"
        f"{time.perf_counter() - started:.1f} 秒）：{snap.counts.get('cases_case', 0)} 件案件，"
        f"{len(snap.blobs)} 个文件"
    )
    return snap


def _copy_blob(store: Any, sha256: str, size: int, dest: Path) -> None:
    """One file into the backup, checked against its content address. Files encrypted at rest are
    copied as stored, sealed, and checked by decrypting the copy: the backup holds no plaintext."""
    key = blobs.blob_key(sha256)
    target = dest / BLOB_DIR / key
    target.parent.mkdir(parents=True, exist_ok=True)
    sealed = isinstance(store, blobs.EncryptedBlobs)
    digest = hashlib.sha256()
    written = 0
    try:
        with store.open_stored(key) if sealed else store.open(key) as src, target.open("wb") as out:
            while chunk := src.read(blobs.CHUNK):
                digest.update(chunk)
                written += len(chunk)
                out.write(chunk)
    except FileNotFoundError as exc:
        raise BackupError(f"数据库引用的文件在存储中缺失：{sha256}") from exc
    found = digest.hexdigest()
    if sealed:
        try:
            with target.open("rb") as copy:
                found, written = store.plaintext_digest(key, copy)
        except InvalidTag as exc:
            raise BackupError(f"存储中的加密文件无法解密（已损坏或密钥不符）：{sha256}") from exc
    if found != sha256 or written != size:
        raise BackupError(f"存储中的文件已损坏（校验值或大小不符）：{sha256}")


def _copy_key(dest: Path) -> str | None:
    """The ledger's signing key: without it the restored tree heads cannot be verified or extended.
    It makes the backup secret material (see docs/operations.md)."""
    from xietong.ledger import keys

    source = Path(settings.XIETONG_LEDGER_KEY_FILE)
    if not source.exists():
        return None
    target = dest / KEY_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    target.chmod(0o600)
    return keys.key_id()


def sealed_name(name: str) -> str:
    """What a sealed part of a backup (the dump, the key) is authenticated as: its place in the
    backup, so a sealed dump cannot pass for the key or a file."""
    return f"backup/{name}"


def backup_create(dest: Path, *, include_key: bool = True, progress: Progress = _quiet) -> BackupResult:
    """Write a consistent backup of the running platform to ``dest`` (a new or empty directory, or a
    path ending in ``.tar``). Safe while the platform keeps writing; see the module docstring."""
    started = time.perf_counter()
    as_tar = dest.suffix == ".tar"
    if dest.exists() and (as_tar or any(dest.iterdir())):
        raise BackupError(f"目标已存在且非空：{dest}")
    store = blobs.backend()
    sealer = store if isinstance(store, blobs.EncryptedBlobs) else None
    with _workdir(dest, as_tar) as work, tempfile.TemporaryDirectory(prefix="xt-backup-plain-") as plain:
        # An encrypted platform's backup holds no plaintext: the dump and the signing key are made in
        # a private temporary folder and only their sealed copies reach the backup, under the same
        # XIETONG_FILES_KEK as the files.
        made = Path(plain) if sealer is not None else work
        if connection.vendor == "postgresql":
            snap = _dump_postgresql(made, progress)
            db_file = PG_DUMP_FILE
        elif connection.vendor == "sqlite":
            snap = _dump_sqlite(made, progress)
            db_file = SQLITE_FILE
        else:
            raise BackupError(f"不支持的数据库：{connection.vendor}")
        total = sum(size for _, size in snap.blobs)
        done_bytes = 0
        last = time.perf_counter()
        for i, (sha, size) in enumerate(snap.blobs, 1):
            _copy_blob(store, sha, size, work)
            done_bytes += size
            if time.perf_counter() - last > 2 or i == len(snap.blobs):
                progress(f"文件 {i}/{len(snap.blobs)}（{done_bytes / 1e6:.1f}/{total / 1e6:.1f} MB）")
                last = time.perf_counter()
        key_id = _copy_key(made) if include_key else None
        if sealer is not None:
            parts = [db_file, *([KEY_FILE] if key_id is not None else [])]
            for part in parts:
                (work / part).parent.mkdir(parents=True, exist_ok=True)
                sealer.seal_to(sealed_name(part), made / part, work / part)
                (work / part).chmod(0o600)
            progress("数据库导出与签名密钥已加密（与文件同一密钥加密密钥 XIETONG_FILES_KEK）")
        sealed = sealer is not None
        manifest = {
            "format": "xietong-backup",
            "format_version": FORMAT_VERSION,
            "created_at": servertime.now().isoformat(),
            "database": {
                "vendor": snap.vendor,
                "file": db_file,
                "sha256": sha256_of(work / db_file),
                "size": (work / db_file).stat().st_size,
                "counts": snap.counts,
                "sealed": sealed,
            },
            "ledger": {
                "tree_head": snap.tree_head,
                "key_id": key_id,
                "key_included": key_id is not None,
                "key_sealed": sealed and key_id is not None,
            },
            "files": [{"sha256": sha, "size": size} for sha, size in snap.blobs],
            "files_total_bytes": total,
            # as stored (XIETONG_FILES_ENCRYPTED): restoring needs the same XIETONG_FILES_KEK
            "files_encrypted": sealed,
        }
        # Written last: a directory with a manifest is a complete backup.
        (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return BackupResult(path=dest, manifest=manifest, seconds=time.perf_counter() - started)


@contextmanager
def _workdir(dest: Path, as_tar: bool) -> Iterator[Path]:
    if not as_tar:
        dest.mkdir(parents=True, exist_ok=True)
        yield dest
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xt-backup-", dir=dest.parent) as tmp:
        work = Path(tmp)
        yield work
        partial = dest.with_name(dest.name + ".partial")
        with tarfile.open(partial, "w") as tar:
            for item in sorted(work.iterdir()):
                tar.add(item, arcname=item.name)
        partial.replace(dest)
