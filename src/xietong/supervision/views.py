"""The supervision alerts page (监督预警)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from xietong.supervision.models import AlertKind
from xietong.supervision.selectors import alerts_visible_to
from xietong.supervision.services import service_overdue_sweep
from xietong.web.views import _me, domain_errors


@login_required
@domain_errors
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    service_overdue_sweep()  # cheap (an indexed query) and idempotent: the page is never stale
    alerts = alerts_visible_to(user=_me(request))
    kind = request.GET.get("kind", "")
    if kind in AlertKind.values:
        alerts = alerts.filter(kind=kind)
    return render(
        request,
        "supervision/alerts.html",
        {"alerts": alerts[:200], "kinds": AlertKind.choices, "kind": kind},
    )
