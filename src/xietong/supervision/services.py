"""Raising supervision alerts (F14) and answering them."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from xietong import servertime, tasks
from xietong.cases.models import Case
from xietong.errors import NotAllowed, NotFound, ValidationFailed
from xietong.ledger.services import actor_of, ledger_append
from xietong.orgs.models import LEADER_DUTIES, Duty, User
from xietong.supervision.models import Alert, AlertResponse, AlertStatus, ResponseKind


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
    """One alert per missed statutory service deadline (F5, F14): the rules engine's ``service.late``
    over the clocks that ran out (拘留通知书 24 小时, 判决书 5 日, 执行通知书 10 日, …). Idempotent (the
    alert's key is the clock). Returns how many new alerts were raised."""
    from xietong.supervision.engine import clocks_sweep

    return clocks_sweep(codes={"service.late"}).raised


# What each answer makes of the alert. 知悉 only says the alert was read; 说明 and 整改 close it.
STATUS_AFTER = {
    ResponseKind.ACKNOWLEDGE: AlertStatus.ACKNOWLEDGED,
    ResponseKind.EXPLAIN: AlertStatus.EXPLAINED,
    ResponseKind.RECTIFY: AlertStatus.RECTIFIED,
}


def _may_answer(user: User, alert: Alert, kind: str) -> bool:
    """The handler whose act it was and the leaders of his unit (or above) explain or rectify; the
    supervising procuratorate's leaders, and 政法委, may acknowledge what they were shown."""
    from xietong.cases.selectors import sees_everything

    own = alert.user_id == user.pk
    mine = user.unit.path if user.unit is not None and user.has_duty(*LEADER_DUTIES) else None
    over_acting = bool(mine and alert.unit and alert.unit.path.startswith(mine))
    over_supervisor = bool(mine and alert.supervisor_unit and alert.supervisor_unit.path.startswith(mine))
    if kind == ResponseKind.ACKNOWLEDGE:
        return own or over_acting or over_supervisor or sees_everything(user)
    return own or over_acting


def alert_respond(*, user: User, alert_id: int, kind: str, note: str = "") -> AlertResponse:
    """Record an answer to an alert and move its status; on a case it is a ledger entry too, so the
    trail shows who explained what and when."""
    if kind not in ResponseKind.values:
        raise ValidationFailed("请选择知悉、说明情况或整改完毕", code="bad_response")
    note = note.strip()
    if kind != ResponseKind.ACKNOWLEDGE and not note:
        raise ValidationFailed("说明情况或整改完毕须写明具体内容", code="note_required")
    alert = Alert.objects.select_related("unit", "supervisor_unit").filter(pk=alert_id).first()
    if alert is None:
        raise NotFound("预警不存在", code="alert_not_found")
    if not _may_answer(user, alert, kind):
        raise NotAllowed(
            "只有承办人及其所在单位领导可说明或整改；监督单位领导可标记知悉", code="not_your_alert"
        )
    with transaction.atomic():
        # The case row lock orders this entry in the case's chain like every other write.
        if (
            alert.case_id is not None
            and not Case.objects.select_for_update().filter(pk=alert.case_id).exists()
        ):
            raise NotFound("案件不存在", code="case_not_found")
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if (
            locked.status in (AlertStatus.EXPLAINED, AlertStatus.RECTIFIED)
            and kind == ResponseKind.ACKNOWLEDGE
        ):
            raise ValidationFailed("该预警已处理完毕", code="alert_closed")
        now = servertime.now()
        response = AlertResponse.objects.create(alert=locked, user=user, kind=kind, note=note[:2000], at=now)
        locked.status = STATUS_AFTER[ResponseKind(kind)]
        if locked.status in (AlertStatus.EXPLAINED, AlertStatus.RECTIFIED):
            locked.resolved_at = now
        locked.save(update_fields=["status", "resolved_at"])
        if alert.case_id is not None:
            ledger_append(
                case_id=alert.case_id,
                actor=actor_of(user, preferred=(Duty.LEADER, Duty.DEPT_HEAD, Duty.HANDLER, Duty.CLERK)),
                action="alert_response",
                payload={
                    "label": f"预警{ResponseKind(kind).label}",
                    "alert": {"id": alert.pk, "kind": alert.kind, "rule": alert.rule},
                    "note": note[:2000],
                },
            )
            transaction.on_commit(lambda: tasks.request("ledger.integrate"))
    return response
