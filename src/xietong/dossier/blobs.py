"""Content-addressed storage of files (F3): each blob is stored once, under its SHA-256, and never
overwritten. One interface, two backends:

- local folder (default, ``XIETONG_BLOB_ROOT``): a temp file plus an atomic ``os.link``, so two uploads
  of the same bytes at once leave one read-only copy and neither fails;
- S3-compatible object storage (``XIETONG_STORAGE_URL=s3://bucket/prefix?endpoint_url=…``) through
  django-storages; the key is written only if absent (a race writes identical bytes: harmless).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import parse_qs, urlparse

from django.conf import settings
from django.db import IntegrityError, transaction

from xietong import servertime
from xietong.dossier.models import Blob

CHUNK = 1024 * 1024


def blob_key(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


class BlobBackend(Protocol):
    def exists(self, key: str) -> bool: ...
    def put_file(self, key: str, path: Path) -> None: ...
    def open(self, key: str) -> BinaryIO: ...
    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]: ...
    def local_path(self, key: str) -> Any: ...  # context manager yielding a Path


class LocalBlobs:
    def __init__(self, root: Path):
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / key

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def put_file(self, key: str, path: Path) -> None:
        target = self.path(key)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with path.open("rb") as src, staged.open("wb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)
            dst.flush()
            os.fsync(dst.fileno())
        staged.chmod(0o444)
        try:
            os.link(staged, target)
        except FileExistsError:
            pass  # the same bytes arrived from elsewhere first
        finally:
            staged.unlink(missing_ok=True)

    def open(self, key: str) -> BinaryIO:
        return self.path(key).open("rb")

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        with self.open(key) as fh:
            fh.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = fh.read(min(CHUNK, remaining))
                if not chunk:
                    return
                remaining -= len(chunk)
                yield chunk

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        yield self.path(key)


class S3Blobs:
    """S3-compatible object storage (AWS, MinIO, Ceph RGW …) through django-storages' S3Storage."""

    def __init__(self, url: str):
        from storages.backends.s3 import S3Storage

        parsed = urlparse(url)
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        self.storage = S3Storage(
            bucket_name=parsed.netloc,
            location=parsed.path.strip("/"),
            endpoint_url=query.get("endpoint_url"),
            region_name=query.get("region"),
            access_key=query.get("access_key") or os.environ.get("AWS_ACCESS_KEY_ID"),
            secret_key=query.get("secret_key") or os.environ.get("AWS_SECRET_ACCESS_KEY"),
            file_overwrite=True,  # keys are content hashes: the same key always holds the same bytes
            default_acl=None,
            querystring_auth=True,
        )

    def exists(self, key: str) -> bool:
        return bool(self.storage.exists(key))

    def put_file(self, key: str, path: Path) -> None:
        if self.exists(key):
            return
        from django.core.files import File

        with path.open("rb") as fh:
            self.storage.save(key, File(fh))

    def open(self, key: str) -> BinaryIO:
        return self.storage.open(key, "rb")

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        client = self.storage.connection.meta.client
        body = client.get_object(
            Bucket=self.storage.bucket_name,
            Key=self.storage._normalize_name(key),
            Range=f"bytes={start}-{end}",
        )["Body"]
        yield from body.iter_chunks(CHUNK)

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        """Renderers need a file on disk: the object is copied to a temp file for the duration."""
        with tempfile.NamedTemporaryFile(prefix="blob-", suffix=".bin") as tmp, self.open(key) as src:
            shutil.copyfileobj(src, tmp, CHUNK)
            tmp.flush()
            yield Path(tmp.name)


@lru_cache(maxsize=4)
def _backend_for(url: str, root: str) -> BlobBackend:
    if url.startswith("s3://"):
        return S3Blobs(url)
    return LocalBlobs(Path(root))


def backend() -> BlobBackend:
    url = settings.XIETONG_STORAGE_URL
    root = Path(settings.XIETONG_BLOB_ROOT)
    if not url.startswith("s3://"):
        root.mkdir(parents=True, exist_ok=True)
    return _backend_for(url, str(root))


def blob_path(sha256: str) -> Path:
    """The file of a blob in the local backend (tests and tools)."""
    local = backend()
    if not isinstance(local, LocalBlobs):
        raise TypeError("blob_path is only meaningful for the local backend")
    return local.path(blob_key(sha256))


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


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
    """Store the file at ``path`` (left in place) and return its row. The bytes are stored before
    the row is written, so a row always points at stored bytes."""
    digest = sha256 or sha256_of_file(path)
    backend().put_file(blob_key(digest), path)
    return _row(digest, path.stat().st_size, content_type)


def blob_put_bytes(data: bytes, *, content_type: str) -> Blob:
    digest = hashlib.sha256(data).hexdigest()
    store = backend()
    if not store.exists(blob_key(digest)):
        with tempfile.NamedTemporaryFile(delete=False) as tmp:
            tmp.write(data)
        try:
            store.put_file(blob_key(digest), Path(tmp.name))
        finally:
            Path(tmp.name).unlink(missing_ok=True)
    return _row(digest, len(data), content_type)


def blob_open(blob: Blob) -> BinaryIO:
    return backend().open(blob_key(blob.sha256))


def blob_read_range(blob: Blob, start: int, end: int) -> Iterator[bytes]:
    """Bytes ``start..end`` inclusive, for HTTP range requests on audio and video."""
    return backend().read_range(blob_key(blob.sha256), start, end)


@contextmanager
def blob_local_path(blob: Blob) -> Iterator[Path]:
    with backend().local_path(blob_key(blob.sha256)) as path:
        yield path
