"""Alerts pushed to the browsers of those who must see them (Django Channels groups), the moment the
engine raises them. Who: the handler whose act it was, the leaders of his unit and of every unit above
it, the leaders of the supervising procuratorate and above, and 政法委. A browser joins the groups of
its user in ``consumers.AlertsConsumer``; the page also lists every alert, so a push that is lost (no
browser open, a restart) loses nothing but the toast."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from xietong.orgs.models import Unit
from xietong.supervision.models import Alert

logger = logging.getLogger(__name__)
EVERYONE = "alerts.all"


def user_group(user_id: int) -> str:
    return f"alerts.user.{user_id}"


def unit_group(unit_id: int) -> str:
    return f"alerts.unit.{unit_id}"


def groups_for(alert: Alert, paths: dict[int, str]) -> set[str]:
    """The groups an alert goes to; ``paths`` maps unit id → materialised path ("1.5.12.")."""
    groups = {EVERYONE}
    if alert.user_id:
        groups.add(user_group(alert.user_id))
    for unit_id in (alert.unit_id, alert.supervisor_unit_id):
        if unit_id and unit_id in paths:
            groups.update(unit_group(int(a)) for a in paths[unit_id].split(".") if a)
    return groups


def as_message(alert: Alert) -> dict[str, object]:
    return {
        "type": "alert.new",
        "alert": {
            "id": alert.pk,
            "kind": alert.get_kind_display(),
            "severity": alert.severity,
            "severity_label": alert.get_severity_display(),
            "message": alert.message,
            "case_id": alert.case_id,
            "url": f"/supervision/alerts/{alert.pk}/",
        },
    }


def push(alerts: Iterable[Alert]) -> None:
    """Send each alert to its groups, all in one event loop: a worker runs this after its batch
    commits, in sync code (``async_to_sync`` once, not once per group)."""
    alerts = list(alerts)
    layer = get_channel_layer()
    if layer is None or not alerts:
        return
    unit_ids = {u for a in alerts for u in (a.unit_id, a.supervisor_unit_id) if u}
    paths = dict(Unit.objects.filter(pk__in=unit_ids).values_list("pk", "path"))
    sends = [
        (alert.pk, group, as_message(alert)) for alert in alerts for group in sorted(groups_for(alert, paths))
    ]

    async def send_all() -> None:
        for alert_id, group, message in sends:
            try:
                await layer.group_send(group, message)
            except Exception:  # a push is a courtesy: the alert is stored and listed whatever happens
                logger.exception("could not push alert %s to %s", alert_id, group)

    async_to_sync(send_all)()
