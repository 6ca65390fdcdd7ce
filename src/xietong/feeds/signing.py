"""Webhook signatures (pure: no Django, so a receiver can copy this file as it is).

The sender puts two headers on every POST::

    X-Xietong-Timestamp: 1795862400                 (Unix seconds, the sender's clock)
    X-Xietong-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>

The timestamp is inside the MAC so that a captured request cannot be replayed later with a fresh
timestamp; a receiver refuses a timestamp further than ``tolerance`` seconds from its own clock
and compares in constant time."""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Xietong-Signature"
TIMESTAMP_HEADER = "X-Xietong-Timestamp"
VERSION = "v1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The value of ``X-Xietong-Signature`` for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{VERSION}={mac}"


def verify(
    secret: str,
    *,
    timestamp: str | int | None,
    signature: str | None,
    body: bytes,
    tolerance: int = 300,
    now: float | None = None,
) -> bool:
    """True when ``signature`` is ours over ``body`` and ``timestamp`` is fresh. Several
    signatures may be sent comma-separated (during a secret rotation); one match is enough."""
    if timestamp is None or not signature:
        return False
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance:
        return False
    expected = sign(secret, ts, body)
    return any(hmac.compare_digest(expected, part.strip()) for part in signature.split(","))
