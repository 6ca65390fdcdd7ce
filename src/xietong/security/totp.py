"""RFC 6238 time-based one-time passwords (TOTP, HMAC-SHA1, 6 digits, 30 s): pure, no Django.

Written out rather than taken from pyotp because it is twenty lines of the standard library and
the platform runs offline; the RFC's own test vectors are in ``tests/security/test_two_factor.py``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from urllib.parse import quote

STEP = 30
DIGITS = 6


def secret_new() -> str:
    """A fresh 160-bit secret, base32 without padding (what authenticator apps expect)."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _key(secret: str) -> bytes:
    return base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))


def code_at(secret: str, counter: int, digits: int = DIGITS) -> str:
    digest = hmac.new(_key(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def counter_at(unix_time: float) -> int:
    return int(unix_time // STEP)


def match(secret: str, code: str, unix_time: float, *, window: int = 1, after: int = -1) -> int | None:
    """The counter the code belongs to, within ``window`` steps of now and later than ``after``
    (a code once used is not accepted again), else ``None``."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    now = counter_at(unix_time)
    for counter in range(now - window, now + window + 1):
        if counter > after and hmac.compare_digest(code_at(secret, counter), code):
            return counter
    return None


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    label = quote(f"{issuer}:{account}")
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer)}&digits={DIGITS}&period={STEP}"
