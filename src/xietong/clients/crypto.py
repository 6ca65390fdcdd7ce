"""The secrets of system clients: generation, hashing, and sealing for HMAC checks.

A request signature is an HMAC keyed with the client's secret, so the server must be able to
recover the secret; it is kept encrypted (AES-256-GCM) under ``XIETONG_CLIENT_KEK`` so a database
dump alone yields neither usable secrets nor the means to sign. Built on ``cryptography``."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from xietong.keywrap import KeyWrap


def new_secret() -> str:
    """32 random bytes, URL-safe: typed into a config file by an agency's administrator."""
    return secrets.token_urlsafe(32)


def new_client_id() -> str:
    return f"xtc_{secrets.token_hex(8)}"


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


_WRAP = KeyWrap("XIETONG_CLIENT_KEK", salt=b"xietong-client-kek", aad=b"xietong-client-secret")


def seal_secret(raw: str) -> bytes:
    return _WRAP.seal(raw.encode())


def unseal_secret(blob: bytes) -> str:
    return _WRAP.open(blob).decode()


def signing_string(*, timestamp: str, method: str, path: str, body: bytes) -> bytes:
    """What a client signs: ``timestamp \\n METHOD \\n path?query \\n sha256hex(body)``."""
    return "\n".join([timestamp, method.upper(), path, hashlib.sha256(body).hexdigest()]).encode()


def sign(*, secret: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    """The ``X-Xietong-Signature`` value; used by the server to check and by clients and tests."""
    message = signing_string(timestamp=timestamp, method=method, path=path, body=body)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
