"""Who sees which supervision alerts (F14): 政法委 and system administrators all of them; a leader
those of his unit's subtree and those his unit supervises (the procuratorate's 法律监督); a handler
those raised on his own acts."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from xietong.cases.selectors import sees_everything
from xietong.orgs.models import LEADER_DUTIES, User
from xietong.supervision.models import Alert, AlertStatus


def alerts_visible_to(*, user: User) -> QuerySet[Alert]:
    qs = Alert.objects.select_related("case", "unit", "user", "supervisor_unit")
    if sees_everything(user):
        return qs
    mine = Q(user_id=user.pk)
    if user.unit is None or not user.has_duty(*LEADER_DUTIES):
        return qs.filter(mine)
    path = user.unit.path
    return qs.filter(mine | Q(unit__path__startswith=path) | Q(supervisor_unit__path__startswith=path))


def alert_get_visible(*, user: User, alert_id: int) -> Alert | None:
    return alerts_visible_to(user=user).filter(pk=alert_id).first()


def open_alerts_of(*, user: User, limit: int = 20) -> list[Alert]:
    """The workbench's list: what waits for this user's answer (his own acts' alerts, and for a
    leader those of his subtree)."""
    qs = alerts_visible_to(user=user).filter(status=AlertStatus.OPEN)
    return list(qs.order_by("-raised_at")[:limit])


def open_count(*, user: User) -> int:
    return alerts_visible_to(user=user).filter(status=AlertStatus.OPEN).count()


def counts_by_kind(qs: QuerySet[Alert]) -> dict[str, int]:
    return dict(qs.values_list("kind").annotate(n=Count("pk")).order_by().values_list("kind", "n"))
