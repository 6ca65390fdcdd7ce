"""Supervision pages: the alerts (监督预警) with their evidence and answers, and leaders' oversight
(监督管理)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from xietong.cases.selectors import sees_everything
from xietong.errors import NotAllowed
from xietong.orgs.models import LEADER_DUTIES
from xietong.supervision import oversight, selectors, services
from xietong.supervision.engine import rules
from xietong.supervision.models import AlertKind, AlertStatus, ResponseKind, Severity
from xietong.web.views import _me, domain_errors


@login_required
@domain_errors
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    alerts = selectors.alerts_visible_to(user=_me(request))
    kind = request.GET.get("kind", "")
    status = request.GET.get("status", "")
    severity = request.GET.get("severity", "")
    rule = request.GET.get("rule", "")
    if kind in AlertKind.values:
        alerts = alerts.filter(kind=kind)
    if status in AlertStatus.values:
        alerts = alerts.filter(status=status)
    if severity in Severity.values:
        alerts = alerts.filter(severity=severity)
    if rule:
        alerts = alerts.filter(rule=rule)
    return render(
        request,
        "supervision/alerts.html",
        {
            "alerts": alerts[:200],
            "total": alerts.count(),
            "kinds": AlertKind.choices,
            "statuses": AlertStatus.choices,
            "severities": Severity.choices,
            "rules": [(r.code, r.title) for r in rules()],
            "kind": kind,
            "status": status,
            "severity": severity,
            "rule": rule,
        },
    )


@login_required
@domain_errors
@require_GET
def alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = selectors.alert_get_visible(user=_me(request), alert_id=alert_id)
    if alert is None:
        raise Http404
    spec = next((r for r in rules() if r.code == alert.rule), None)
    return render(
        request,
        "supervision/alert_detail.html",
        {
            "alert": alert,
            "spec": spec,
            "responses": alert.responses.select_related("user"),
            "kinds": ResponseKind.choices,
        },
    )


@login_required
@domain_errors
@require_POST
def alert_respond(request: HttpRequest, alert_id: int) -> HttpResponse:
    user = _me(request)
    if selectors.alert_get_visible(user=user, alert_id=alert_id) is None:
        raise Http404
    services.alert_respond(
        user=user, alert_id=alert_id, kind=request.POST.get("kind", ""), note=request.POST.get("note", "")
    )
    return redirect("supervision:alert", alert_id=alert_id)


@login_required
@require_GET
def alert_count(request: HttpRequest) -> JsonResponse:
    """The nav badge: open alerts this user sees (the live socket adds to it as alerts arrive)."""
    return JsonResponse({"open": selectors.open_count(user=_me(request))})


@login_required
@domain_errors
@require_GET
def oversight_page(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    if not (sees_everything(user) or (user.unit and user.has_duty(*LEADER_DUTIES))):
        raise NotAllowed("监督管理仅供单位负责人、分管领导和政法委使用", code="leaders_only")
    query = oversight.ClockQuery.parse(request.GET)
    return render(
        request,
        "supervision/oversight.html",
        {
            "query": query,
            "families": [(k, v[0]) for k, v in oversight.FAMILIES.items()],
            "counties": oversight.counties(),
            "hits": oversight.clocks_past(user=user, query=query),
            "alerts": oversight.alert_summary(user=user),
            "units": oversight.unit_indicators(user=user),
            "handlers": oversight.handler_indicators(user=user),
        },
    )
