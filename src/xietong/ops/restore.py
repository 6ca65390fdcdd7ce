"""Rebuild a platform from a backup made by ``ops.backup`` and prove it whole.

Order matters: the backup itself is checked first (database file and every file against the
manifest), so a damaged backup is refused before anything in the target is touched. Then the
database is replaced, files are put in the store (content-addressed: present ones are kept), the
ledger signing key is installed, and only a clean ``ledger verify`` plus a hash check of every file
in the manifest *and* every file the restored database references counts as success.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from django.conf import settings
from django.db import connection

from xietong.dossier import blobs
from xietong.ops.backup import (
    BLOB_DIR,
    FORMAT_VERSION,
    KEY_FILE,
    KEY_TABLES,
    MANIFEST,
    PG_BIN,
    Progress,
    _quiet,
    pg_env,
    sealed_name,
    sha256_of,
)

# A database with rows in any of these holds a platform; restoring over it needs --force.
CONTENT_TABLES = ["orgs_user", "cases_case", "ledger_ledgerentry", "dossier_blob"]


class RestoreError(Exception):
    """A restore that was refused or failed; the message is for the operator (Chinese)."""


@dataclass
class RestoreReport:
    manifest: dict[str, Any]
    problems: list[str] = field(default_factory=list)
    ledger_entries: int = 0
    tree_heads: int = 0
    files_checked: int = 0
    referenced_checked: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


@contextmanager
def _opened(src: Path) -> Iterator[Path]:
    if src.is_dir():
        yield src
        return
    if not src.is_file():
        raise RestoreError(f"找不到备份：{src}")
    with tempfile.TemporaryDirectory(prefix="xt-restore-") as tmp:
        try:
            with tarfile.open(src) as tar:
                tar.extractall(tmp, filter="data")
        except tarfile.TarError as exc:
            raise RestoreError(f"备份归档无法读取：{exc}") from exc
        yield Path(tmp)


def _load_manifest(root: Path) -> dict[str, Any]:
    path = root / MANIFEST
    if not path.exists():
        raise RestoreError("备份不完整：缺少 manifest.json（备份可能在写入过程中中断）")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != "xietong-backup" or manifest.get("format_version") != FORMAT_VERSION:
        raise RestoreError(f"不支持的备份格式：{manifest.get('format')} v{manifest.get('format_version')}")
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise RestoreError(f"备份来自 {vendor} 数据库，当前配置的是 {connection.vendor}，无法直接恢复")
    return manifest


def _check_backup(root: Path, manifest: dict[str, Any], progress: Progress) -> None:
    db = manifest["database"]
    if sha256_of(root / db["file"]) != db["sha256"]:
        raise RestoreError(f"备份中的数据库文件 {db['file']} 已损坏（校验值不符），未做任何改动")
    bad: list[str] = []
    sealer = _sealer() if manifest.get("files_encrypted") else None
    for item in manifest["files"]:
        key = blobs.blob_key(item["sha256"])
        path = root / BLOB_DIR / key
        if not path.exists():
            bad.append(f"缺失 {item['sha256']}")
        elif sealer is not None:
            try:
                with path.open("rb") as sealed:
                    found = sealer.plaintext_digest(key, sealed)
            except InvalidTag:
                bad.append(f"无法解密 {item['sha256']}（已损坏，或 XIETONG_FILES_KEK 与备份时不同）")
                continue
            if found != (item["sha256"], item["size"]):
                bad.append(f"损坏 {item['sha256']}")
        elif path.stat().st_size != item["size"] or sha256_of(path) != item["sha256"]:
            bad.append(f"损坏 {item['sha256']}")
    if bad:
        raise RestoreError(
            f"备份中有 {len(bad)} 个文件缺失或损坏，未做任何改动："
            + "；".join(bad[:5])
            + ("……" if len(bad) > 5 else "")
        )
    progress(f"备份自检通过：数据库文件与 {len(manifest['files'])} 个文件的校验值均一致")


def database_has_content() -> bool:
    """True if the configured database already holds a platform (users, cases, ledger or files)."""
    tables = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for table in CONTENT_TABLES:
            if table in tables:
                cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")  # noqa: S608 (fixed names)
                if cursor.fetchone():
                    return True
    return False


def _restore_postgresql(dump: Path, progress: Progress) -> None:
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    connection.close()
    with psycopg.connect(**params, autocommit=True) as conn:
        # Everything of the platform lives in its schema: dropping it wipes tables, triggers,
        # sequences and functions together, and pg_restore rebuilds them from the dump.
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 (fixed binary, arguments are ours)
        [
            str(PG_BIN / "pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={connection.settings_dict['NAME']}",
            str(dump),
        ],
        env=pg_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RestoreError(f"pg_restore 失败：{done.stderr.strip()[:2000]}")
    progress(f"数据库已恢复（pg_restore，{time.perf_counter() - started:.1f} 秒）")


def _restore_sqlite(copy: Path, progress: Progress) -> None:
    started = time.perf_counter()
    connection.ensure_connection()
    if connection.in_atomic_block:
        raise RestoreError("SQLite 连接处于事务中，无法恢复")
    raw: sqlite3.Connection = connection.connection
    source = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    try:
        # The backup API replaces every page of the target, schema and triggers included.
        source.backup(raw, pages=-1)
    finally:
        source.close()
    progress(f"数据库已恢复（SQLite 备份接口，{time.perf_counter() - started:.1f} 秒）")


def _plain_parts(root: Path, manifest: dict[str, Any], into: Path) -> tuple[Path, Path]:
    """The dump and the signing key as plaintext. An encrypted platform's backup seals both: they
    are decrypted into ``into`` (a private temporary folder) before anything is touched, so a wrong
    ``XIETONG_FILES_KEK`` or an altered dump is refused with the target unchanged."""
    dump, key = root / manifest["database"]["file"], root / KEY_FILE
    if not manifest["database"].get("sealed"):
        return dump, key
    sealer = _sealer()
    try:
        plain_dump = into / Path(manifest["database"]["file"]).name
        sealer.unseal_to(sealed_name(manifest["database"]["file"]), dump, plain_dump)
        if manifest["ledger"].get("key_sealed") and key.exists():
            plain_key = into / Path(KEY_FILE).name
            sealer.unseal_to(sealed_name(KEY_FILE), key, plain_key)
            key = plain_key
    except InvalidTag as exc:
        raise RestoreError(
            "备份中的数据库导出或签名密钥无法解密（已损坏，或 XIETONG_FILES_KEK 与备份时不同），未做任何改动"
        ) from exc
    return plain_dump, key


def _install_key(source: Path, manifest: dict[str, Any], force: bool, progress: Progress) -> None:
    from xietong.ledger import keys

    target = Path(settings.XIETONG_LEDGER_KEY_FILE)
    if not source.exists():
        progress("备份中不含账本签名密钥：使用本机已配置的密钥（须与备份时相同，否则树头签名校验失败）")
        return
    if target.exists() and target.read_bytes() != source.read_bytes():
        if not force:
            raise RestoreError(f"本机已有不同的账本签名密钥 {target}；确认要替换请加 --force")
        shutil.copyfile(target, target.with_suffix(".replaced"))
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    target.chmod(0o600)
    keys.signing_key.cache_clear()
    progress(f"账本签名密钥已安装（{manifest['ledger'].get('key_id')}）")


def _sealer() -> blobs.EncryptedBlobs:
    """What reads a backup's sealed files: the store itself when it encrypts, else the same
    envelope (and ``XIETONG_FILES_KEK``) over it, used only to decrypt."""
    store = blobs.backend()
    return store if isinstance(store, blobs.EncryptedBlobs) else blobs.EncryptedBlobs(store)


def _put_files(root: Path, manifest: dict[str, Any], force: bool, progress: Progress) -> None:
    """Every file of the backup into the configured store. Sealed files (an encrypted platform's
    backup) go in as they are when the store encrypts too, and are decrypted on the way in when it
    does not; plain files are sealed by an encrypting store as any upload is."""
    store = blobs.backend()
    sealed = bool(manifest.get("files_encrypted"))
    local = store.inner if isinstance(store, blobs.EncryptedBlobs) else store
    unsealer = _sealer() if sealed and store is local else None  # decrypts for a plain store
    for i, item in enumerate(manifest["files"], 1):
        key = blobs.blob_key(item["sha256"])
        if (
            force
            and isinstance(local, blobs.LocalBlobs)
            and local.exists(key)
            and _hash_in_store(store, key) != item["sha256"]
        ):
            # A damaged copy in the target store: content addressing would otherwise keep it.
            path = local.path(key)
            path.chmod(0o644)
            path.unlink()
        source = root / BLOB_DIR / key
        if not sealed:
            store.put_file(key, source)
        elif isinstance(store, blobs.EncryptedBlobs):
            store.put_stored(key, source)
        elif unsealer is not None:
            with tempfile.TemporaryDirectory(prefix="xietong-restore-") as tmp:
                plain = Path(tmp) / "plain"
                unsealer.unseal_to(key, source, plain)
                store.put_file(key, plain)
        if i % 500 == 0:
            progress(f"文件 {i}/{len(manifest['files'])}")
    progress(f"文件已写入存储：{len(manifest['files'])} 个")


def _hash_in_store(store: Any, key: str) -> str | None:
    digest = hashlib.sha256()
    try:
        with store.open(key) as fh:
            while chunk := fh.read(blobs.CHUNK):
                digest.update(chunk)
    except (FileNotFoundError, InvalidTag):  # missing, or sealed and altered
        return None
    return digest.hexdigest()


def platform_check(report: RestoreReport) -> None:
    """Ledger verify (the same code as ``xietong ledger verify``), every manifest file and every file
    the database references hashed in the store, row counts against the manifest."""
    from xietong.dossier.models import Blob
    from xietong.ledger.verify import ledger_verify

    manifest = report.manifest
    verified = ledger_verify()
    report.ledger_entries, report.tree_heads = verified.entries, verified.tree_heads
    report.problems.extend(f"账本校验失败：{p}" for p in verified.problems[:10])
    head = manifest["ledger"]["tree_head"]
    if head.get("root_hash"):
        from xietong.ledger.models import TreeHead

        if not TreeHead.objects.filter(size=head["size"], root_hash=head["root_hash"]).exists():
            report.problems.append(f"备份时最新的签名树头（size={head['size']}）在恢复后的账本中不存在")
    store = blobs.backend()
    for item in manifest["files"]:
        if _hash_in_store(store, blobs.blob_key(item["sha256"])) != item["sha256"]:
            report.problems.append(f"文件缺失或损坏：{item['sha256']}")
        report.files_checked += 1
    known = {item["sha256"] for item in manifest["files"]}
    for sha, size in Blob.objects.values_list("sha256", "size").iterator():
        report.referenced_checked += 1
        if sha in known:
            continue  # just hashed above
        if _hash_in_store(store, blobs.blob_key(sha)) != sha:
            report.problems.append(f"数据库引用的文件缺失或损坏：{sha}（{size} 字节）")
    tables = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for table, expected in manifest["database"]["counts"].items():
            if table not in KEY_TABLES or table not in tables:
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 (fixed names)
            actual = int(cursor.fetchone()[0])
            if actual != expected:
                report.problems.append(f"表 {table} 行数 {actual}，备份时为 {expected}")


def restore_run(src: Path, *, force: bool = False, progress: Progress = _quiet) -> RestoreReport:
    """Replace the configured database and fill the file store from the backup at ``src``, then
    check everything. Refuses a database that already holds a platform unless ``force``."""
    started = time.perf_counter()
    with _opened(src) as root, tempfile.TemporaryDirectory(prefix="xt-restore-plain-") as plain:
        manifest = _load_manifest(root)
        _check_backup(root, manifest, progress)
        db_file, key_file = _plain_parts(root, manifest, Path(plain))
        if database_has_content() and not force:
            raise RestoreError("目标数据库非空（已有用户、案件、账本或文件）；确认要覆盖请加 --force")
        _install_key(key_file, manifest, force, progress)
        if connection.vendor == "postgresql":
            _restore_postgresql(db_file, progress)
        else:
            _restore_sqlite(db_file, progress)
        _put_files(root, manifest, force, progress)
    report = RestoreReport(manifest=manifest)
    progress("正在校验账本与文件……")
    platform_check(report)
    report.seconds = time.perf_counter() - started
    return report
