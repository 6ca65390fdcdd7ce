"""Canonical form and hash of a ledger entry. Pure: shared by the writer, ``ledger verify`` and any
outside verifier. The form is a fixed field order joined by the ASCII unit separator, so verifying a
million entries needs no JSON re-encoding (the payload is hashed as the text that is stored)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
SEPARATOR = "\x1f"
FORMAT_VERSION = "xt1"


def canonical_payload(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def timestamp_text(moment: datetime) -> str:
    """UTC, microseconds, fixed width: the same text whichever database returned the value."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    *,
    case_id: int,
    seq: int,
    recorded_at: str,
    actor_id: int | None,
    actor_name: str,
    actor_duty: str,
    unit_id: int | None,
    unit_name: str,
    action: str,
    payload: str,
    prev_hash: str,
) -> str:
    fields = (
        FORMAT_VERSION,
        str(case_id),
        str(seq),
        recorded_at,
        "" if actor_id is None else str(actor_id),
        actor_name,
        actor_duty,
        "" if unit_id is None else str(unit_id),
        unit_name,
        action,
        payload,
        prev_hash,
    )
    return hashlib.sha256(SEPARATOR.join(fields).encode()).hexdigest()
