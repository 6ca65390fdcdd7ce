"""Raising supervision alerts (F14)."""

from __future__ import annotations

from typing import Any

from xietong import servertime
from xietong.supervision.models import Alert


def alert_raise(
    *,
    kind: str,
    message: str,
    case_id: int | None = None,
    unit_id: int | None = None,
    user_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> Alert:
    """Record an alert. Services call it *before* they open the transaction of the act they are
    about to refuse, so that the refusal (a rollback) does not erase the record of the attempt."""
    return Alert.objects.create(
        kind=kind,
        message=message[:500],
        case_id=case_id,
        unit_id=unit_id,
        user_id=user_id,
        details=details or {},
        raised_at=servertime.now(),
    )
