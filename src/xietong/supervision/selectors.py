"""Who sees which supervision alerts: 政法委 and system administrators all of them, a leader those
raised in his unit's subtree (F14)."""

from __future__ import annotations

from django.db.models import QuerySet

from xietong.cases.selectors import sees_everything
from xietong.orgs.models import LEADER_DUTIES, User
from xietong.supervision.models import Alert


def alerts_visible_to(*, user: User) -> QuerySet[Alert]:
    qs = Alert.objects.select_related("case", "unit", "user")
    if sees_everything(user):
        return qs
    if user.unit is None or not user.has_duty(*LEADER_DUTIES):
        return qs.none()
    return qs.filter(unit__path__startswith=user.unit.path)
