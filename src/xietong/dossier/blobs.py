"""Content-addressed storage of files (F3): each blob is stored once, under its SHA-256, and never
overwritten. Local folder by default (``XIETONG_HOME/blobs``). The write is a temp file plus an
atomic ``os.link``, so two uploads of the same bytes at once leave one copy and neither fails."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import IntegrityError, transaction

from xietong import servertime
from xietong.dossier.models import Blob

CHUNK = 1024 * 1024


def blob_root() -> Path:
    root = Path(settings.XIETONG_BLOB_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    return root


def blob_path(sha256: str) -> Path:
    return blob_root() / sha256[:2] / sha256[2:4] / sha256


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _link_into_place(source: Path, sha256: str) -> None:
    target = blob_path(sha256)
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{sha256}.{os.getpid()}.tmp")
    with source.open("rb") as src, staged.open("wb") as dst:
        while chunk := src.read(CHUNK):
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    staged.chmod(0o444)
    try:
        os.link(staged, target)
    except FileExistsError:
        pass  # the same bytes arrived from elsewhere first
    finally:
        staged.unlink(missing_ok=True)


def _row(sha256: str, size: int, content_type: str) -> Blob:
    existing = Blob.objects.filter(sha256=sha256).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Blob.objects.create(
                sha256=sha256, size=size, content_type=content_type, created_at=servertime.now()
            )
    except IntegrityError:
        return Blob.objects.get(sha256=sha256)


def blob_put_file(path: Path, *, content_type: str, sha256: str | None = None) -> Blob:
    """Store the file at ``path`` (left in place) and return its row."""
    digest = sha256 or sha256_of_file(path)
    _link_into_place(path, digest)
    return _row(digest, path.stat().st_size, content_type)


def blob_put_bytes(data: bytes, *, content_type: str) -> Blob:
    digest = hashlib.sha256(data).hexdigest()
    if not blob_path(digest).exists():
        with tempfile.NamedTemporaryFile(dir=blob_root(), delete=False) as tmp:
            tmp.write(data)
        try:
            _link_into_place(Path(tmp.name), digest)
        finally:
            Path(tmp.name).unlink(missing_ok=True)
    return _row(digest, len(data), content_type)


def blob_open(blob: Blob) -> BinaryIO:
    return blob_path(blob.sha256).open("rb")


def blob_read_range(blob: Blob, start: int, end: int) -> Iterator[bytes]:
    """Bytes ``start..end`` inclusive, for HTTP range requests on audio and video."""
    with blob_open(blob) as fh:
        fh.seek(start)
        remaining = end - start + 1
        while remaining > 0:
            chunk = fh.read(min(CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk
