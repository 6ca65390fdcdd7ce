"""The ledger's Ed25519 signing key for tree heads. Kept in a PEM file outside the database, so that
someone who can rewrite the database still cannot sign a forged tree head."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _load_or_create(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise TypeError(f"{path} is not an Ed25519 private key")
        return key
    if not settings.XIETONG_LEDGER_KEY_CREATE:
        # Production: a worker on a new machine that made its own key would sign tree heads nobody
        # can verify against the published key. The key is made once and copied, never made here.
        raise ImproperlyConfigured(
            f"账本签名密钥 {path} 不存在：请从已有节点复制该文件（或首次部署时在一台机器上设置 "
            "XIETONG_LEDGER_KEY_CREATE=1 运行一次 xietong ledger integrate 生成）"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    with contextlib.suppress(FileExistsError):
        os.link(tmp, path)  # atomic create: two processes starting at once keep the same key
    tmp.unlink(missing_ok=True)
    return _load_or_create(path)


@lru_cache(maxsize=1)
def signing_key() -> Ed25519PrivateKey:
    return _load_or_create(Path(settings.XIETONG_LEDGER_KEY_FILE))


def public_key_bytes(key: Ed25519PublicKey | None = None) -> bytes:
    key = key or signing_key().public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_b64() -> str:
    return base64.b64encode(public_key_bytes()).decode()


def key_id(raw_public: bytes | None = None) -> str:
    return hashlib.sha256(raw_public or public_key_bytes()).hexdigest()[:16]


def tree_head_message(size: int, root_hex: str, signed_at: str) -> bytes:
    return f"xietong-tree-head:v1:{size}:{root_hex}:{signed_at}".encode()


def sign_tree_head(size: int, root_hex: str, signed_at: str) -> str:
    return signing_key().sign(tree_head_message(size, root_hex, signed_at)).hex()


def verify_tree_head(size: int, root_hex: str, signed_at: str, signature_hex: str, raw_public: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(raw_public).verify(
            bytes.fromhex(signature_hex), tree_head_message(size, root_hex, signed_at)
        )
    except (InvalidSignature, ValueError):
        return False
    return True
