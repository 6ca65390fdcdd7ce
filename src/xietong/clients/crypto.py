"""The secrets of system clients: generation, hashing, and sealing for HMAC checks.

A request signature is an HMAC keyed with the client's secret, so the server must be able to
recover the secret; it is kept encrypted (AES-256-GCM) under ``XIETONG_CLIENT_KEK`` so a database
dump alone yields neither usable secrets nor the means to sign. Built on ``cryptography``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_NONCE = 12
_AAD = b"xietong-client-secret"


def new_secret() -> str:
    """32 random bytes, URL-safe: typed into a config file by an agency's administrator."""
    return secrets.token_urlsafe(32)


def new_client_id() -> str:
    return f"xtc_{secrets.token_hex(8)}"


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _kek() -> bytes:
    raw = settings.XIETONG_CLIENT_KEK
    if raw:
        key = base64.b64decode(raw)
        if len(key) != 32:
            raise ValueError("XIETONG_CLIENT_KEK must be 32 bytes, base64-encoded")
        return key
    # Demo only: derived from SECRET_KEY so that a fresh checkout works without configuration.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"xietong-client-kek", info=b"v1").derive(
        settings.SECRET_KEY.encode()
    )


def seal_secret(raw: str) -> bytes:
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(_kek()).encrypt(nonce, raw.encode(), _AAD)


def unseal_secret(blob: bytes) -> str:
    blob = bytes(blob)
    return AESGCM(_kek()).decrypt(blob[:_NONCE], blob[_NONCE:], _AAD).decode()


def signing_string(*, timestamp: str, method: str, path: str, body: bytes) -> bytes:
    """What a client signs: ``timestamp \\n METHOD \\n path?query \\n sha256hex(body)``."""
    return "\n".join([timestamp, method.upper(), path, hashlib.sha256(body).hexdigest()]).encode()


def sign(*, secret: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    """The ``X-Xietong-Signature`` value; used by the server to check and by clients and tests."""
    message = signing_string(timestamp=timestamp, method=method, path=path, body=body)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
