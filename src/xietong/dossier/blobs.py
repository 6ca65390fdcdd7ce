"""Content-addressed storage of files (F3): each blob is stored once, under its SHA-256, and never
overwritten. One interface, two backends:

- local folder (default, ``XIETONG_BLOB_ROOT``): a temp file plus an atomic ``os.link``, so two uploads
  of the same bytes at once leave one read-only copy and neither fails;
- S3-compatible object storage (``XIETONG_STORAGE_URL=s3://bucket/prefix?endpoint_url=…``) through
  django-storages; the key is written only if absent (a race writes identical bytes: harmless).

Either may be encrypted at rest (``XIETONG_FILES_ENCRYPTED=1``, ``EncryptedBlobs``).
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
from xietong.settings.env import env_str

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
        try:
            with path.open("rb") as src, staged.open("wb") as dst:
                shutil.copyfileobj(src, dst, CHUNK)
                dst.flush()
                os.fsync(dst.fileno())
        except BaseException:
            staged.unlink(missing_ok=True)  # a full disk leaves no torn copy taking up space
            raise
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
            # AWS_ACCESS_KEY_ID_FILE / AWS_SECRET_ACCESS_KEY_FILE (a mounted secret) count too
            access_key=query.get("access_key") or env_str("AWS_ACCESS_KEY_ID", "") or None,
            secret_key=query.get("secret_key") or env_str("AWS_SECRET_ACCESS_KEY", "") or None,
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


class EncryptedBlobs:
    """Files encrypted at rest (``XIETONG_FILES_ENCRYPTED=1``) over either backend, for sites whose
    disks or object store are not trusted with case files (等保 数据保密性 b).

    Envelope encryption with AES-256-GCM (``cryptography``): each file has its own random data key,
    stored in the file's header wrapped under the key-encryption key ``XIETONG_FILES_KEK``
    (``keywrap``), so the KEK can be rotated by rewrapping 60-byte headers. The body is sealed in
    64 KiB chunks, each with its own nonce (a random prefix and the chunk's index) and tag, and
    associated data naming the file, the index and whether it is the last chunk: a range of a long
    video is read by decrypting only its chunks, and a chunk moved, swapped between files or cut off
    is refused. The content address stays the SHA-256 of the plaintext, so deduplication and the
    ledger's hashes are unchanged. Backups copy the files as stored, sealed (``open_stored``,
    ``plaintext_digest``, ``put_stored``): a backup of an encrypted platform holds no plaintext.

    Written here because no maintained library offers random-access authenticated encryption of
    objects in S3 and on disk alike; the primitives are ``cryptography``'s. Files stored before
    encryption was switched on lack the magic and are read as they are."""

    MAGIC = b"XTE1"
    PLAIN_CHUNK = 64 * 1024
    TAG = 16
    _WRAPPED = 12 + 32 + 16  # KeyWrap.seal of a 32-byte key: nonce, key, tag
    HEADER = len(MAGIC) + _WRAPPED + 8 + 8  # magic, wrapped key, nonce prefix, plaintext size

    def __init__(self, inner: BlobBackend):
        from xietong.keywrap import KeyWrap

        self.inner = inner
        self.wrap = KeyWrap("XIETONG_FILES_KEK", salt=b"xietong-files-kek", aad=b"xietong-file-data-key")

    def _aad(self, key: str, index: int, last: bool) -> bytes:
        return f"{key}|{index}|{int(last)}".encode()

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def put_file(self, key: str, path: Path) -> None:
        if self.inner.exists(key):
            return
        with tempfile.NamedTemporaryFile(prefix="blob-enc-", delete=False) as tmp:
            staged = Path(tmp.name)
        try:
            self.seal_to(key, path, staged)
            self.inner.put_file(key, staged)
        finally:
            staged.unlink(missing_ok=True)

    def seal_to(self, key: str, plain: Path, sealed: Path) -> None:
        """``plain`` sealed as this class stores a file named ``key``, written to ``sealed`` (also
        what a backup of an encrypted platform does to its database dump and signing key)."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        data_key, prefix = os.urandom(32), os.urandom(8)
        size = plain.stat().st_size
        count = max(1, -(-size // self.PLAIN_CHUNK))
        aes = AESGCM(data_key)
        with plain.open("rb") as src, sealed.open("wb") as dst:
            dst.write(self.MAGIC + self.wrap.seal(data_key) + prefix + size.to_bytes(8, "big"))
            for index in range(count):
                nonce = prefix + index.to_bytes(4, "big")
                chunk = src.read(self.PLAIN_CHUNK)
                dst.write(aes.encrypt(nonce, chunk, self._aad(key, index, index == count - 1)))

    def _header(self, head: bytes) -> tuple[Any, bytes, int] | None:
        """(cipher, nonce prefix, plaintext size), or None for a file stored in the clear."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if len(head) < self.HEADER or not head.startswith(self.MAGIC):
            return None
        at = len(self.MAGIC)
        data_key = self.wrap.open(head[at : at + self._WRAPPED])
        at += self._WRAPPED
        return AESGCM(data_key), head[at : at + 8], int.from_bytes(head[at + 8 : at + 16], "big")

    def _chunks(self, key: str, fh: BinaryIO) -> Iterator[bytes]:
        """The plaintext of the whole file, chunk by chunk."""
        head = fh.read(self.HEADER)
        header = self._header(head)
        if header is None:  # stored before encryption was switched on
            yield head
            while chunk := fh.read(CHUNK):
                yield chunk
            return
        aes, prefix, size = header
        count = max(1, -(-size // self.PLAIN_CHUNK))
        for index in range(count):
            length = min(self.PLAIN_CHUNK, size - index * self.PLAIN_CHUNK) + self.TAG
            sealed = fh.read(length)
            nonce = prefix + index.to_bytes(4, "big")
            yield aes.decrypt(nonce, sealed, self._aad(key, index, index == count - 1))

    def open(self, key: str) -> BinaryIO:
        """The plaintext in a temporary file (in memory up to 8 MiB), positioned at its start."""
        out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (returned open)
        with self.inner.open(key) as fh:
            for chunk in self._chunks(key, fh):
                out.write(chunk)
        out.seek(0)
        return out  # type: ignore[return-value]

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        head = b"".join(self.inner.read_range(key, 0, self.HEADER - 1))
        header = self._header(head)
        if header is None:
            yield from self.inner.read_range(key, start, end)
            return
        aes, prefix, size = header
        end = min(end, size - 1)
        if start > end:
            return
        count = max(1, -(-size // self.PLAIN_CHUNK))
        sealed_chunk = self.PLAIN_CHUNK + self.TAG
        first, last = start // self.PLAIN_CHUNK, end // self.PLAIN_CHUNK
        for batch in range(first, last + 1, 16):  # 1 MiB of plaintext per request to the store
            upto = min(last, batch + 15)
            begin = self.HEADER + batch * sealed_chunk
            stop = self.HEADER + min(size + count * self.TAG, (upto + 1) * sealed_chunk) - 1
            data = b"".join(self.inner.read_range(key, begin, stop))
            offset = 0
            for index in range(batch, upto + 1):
                length = min(self.PLAIN_CHUNK, size - index * self.PLAIN_CHUNK) + self.TAG
                nonce = prefix + index.to_bytes(4, "big")
                plain = aes.decrypt(
                    nonce, data[offset : offset + length], self._aad(key, index, index == count - 1)
                )
                offset += length
                lo = start - index * self.PLAIN_CHUNK if index == first else 0
                hi = end - index * self.PLAIN_CHUNK + 1 if index == last else len(plain)
                yield plain[lo:hi]

    def open_stored(self, key: str) -> BinaryIO:
        """The file as stored: sealed (or in the clear if stored before encryption was on)."""
        return self.inner.open(key)

    def plaintext_digest(self, key: str, sealed: BinaryIO) -> tuple[str, int]:
        """SHA-256 and size of the plaintext of ``sealed`` (a file as stored under ``key``, e.g. a
        backup's copy), checking every chunk's tag on the way: ``InvalidTag`` if it was altered or
        sealed under another key-encryption key."""
        digest, size = hashlib.sha256(), 0
        for chunk in self._chunks(key, sealed):
            digest.update(chunk)
            size += len(chunk)
        return digest.hexdigest(), size

    def put_stored(self, key: str, path: Path) -> None:
        """Store ``path``, a file as this class stores it (a backup's copy), without sealing it again."""
        self.inner.put_file(key, path)

    def unseal_to(self, key: str, sealed: Path, plain: Path) -> None:
        """The plaintext of the sealed file ``sealed`` (stored under ``key``) written to ``plain``;
        ``InvalidTag`` if it was altered or sealed under another key-encryption key."""
        with sealed.open("rb") as src, plain.open("wb") as out:
            for chunk in self._chunks(key, src):
                out.write(chunk)

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        """Renderers need a file on disk: the plaintext in a private temp file for the duration."""
        with tempfile.NamedTemporaryFile(prefix="blob-", suffix=".bin") as tmp, self.inner.open(key) as fh:
            for chunk in self._chunks(key, fh):
                tmp.write(chunk)
            tmp.flush()
            yield Path(tmp.name)


@lru_cache(maxsize=4)
def _backend_for(url: str, root: str, encrypted: bool) -> BlobBackend:
    store: BlobBackend = S3Blobs(url) if url.startswith("s3://") else LocalBlobs(Path(root))
    return EncryptedBlobs(store) if encrypted else store


def backend() -> BlobBackend:
    url = settings.XIETONG_STORAGE_URL
    root = Path(settings.XIETONG_BLOB_ROOT)
    if not url.startswith("s3://"):
        root.mkdir(parents=True, exist_ok=True)
    return _backend_for(url, str(root), bool(getattr(settings, "XIETONG_FILES_ENCRYPTED", False)))


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
