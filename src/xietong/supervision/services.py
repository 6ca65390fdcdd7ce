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


def alerts_raise_once(alerts: list[Alert]) -> int:
    """Record keyed alerts (one per missed clock, late offender, ...): an alert whose key is already
    there is skipped, so a sweep may run any number of times. Returns how many were new."""
    if not alerts:
        return 0
    keys = [a.key for a in alerts]
    before = Alert.objects.filter(key__in=keys).count()
    Alert.objects.bulk_create(alerts, ignore_conflicts=True)
    return Alert.objects.filter(key__in=keys).count() - before


def service_overdue_sweep() -> int:
    """One alert per missed statutory service deadline (F5, F14): a running clock whose rule an
    instrument's service stops (拘留通知书 24 小时, 判决书 5 日, 执行通知书 10 日, …) and whose time is
    up. Idempotent (the alert's key is the clock), so the worker, the alerts page and a second
    worker may all run it. Returns how many new alerts were raised."""
    from xietong.cases.deadlines import RULES
    from xietong.cases.models import Clock, ClockStatus
    from xietong.instruments.catalogue import KINDS

    rules = {k.service_rule: k.title for k in KINDS.values() if k.service_rule}
    now = servertime.now()
    overdue = (
        Clock.objects.filter(status=ClockStatus.RUNNING, rule__in=list(rules), due_at__lt=now)
        .select_related("case", "party")
        .order_by("due_at")[:1000]
    )
    alerts = [
        Alert(
            kind="service_overdue",
            key=f"clock:{c.pk}",
            case_id=c.case_id,
            unit_id=c.unit_id,
            message=(
                f"{c.case.number} {rules[c.rule]}未在法定期限内送达（{RULES[c.rule].label}，"
                f"届满 {c.due_at:%Y-%m-%d %H:%M}）" + (f"：{c.party.name}" if c.party else "")
            ),
            details={"clock": c.pk, "rule": c.rule, "due_at": c.due_at.isoformat()},
            raised_at=now,
        )
        for c in overdue
    ]
    return alerts_raise_once(alerts)
