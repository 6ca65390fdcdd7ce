"""Pages of execution and community corrections (F7): the corrections workbench (待报到、在矫、
期满), the prison's list, the custody check, and the forms of the executing units and courts."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from xietong.cases import services as cases
from xietong.cases.selectors import sees_everything
from xietong.errors import NotAllowed, ValidationFailed
from xietong.execution import selectors, services
from xietong.execution.reconcile import reconcile
from xietong.execution.sweeps import execution_sweep
from xietong.supervision.models import Alert
from xietong.web.views import _me, _redirect, domain_errors


@login_required
@domain_errors
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """社区矫正 / 刑罚执行: what the user's executing unit has to do today."""
    user = _me(request)
    execution_sweep()  # idempotent and indexed: the lists and alerts are never stale
    context = {
        "prisoners": selectors.prisoners_of(user),
        "is_corrections": selectors.is_corrections_staff(user),
    }
    if context["is_corrections"]:
        context.update(selectors.corrections_board(user))
    return render(request, "execution/board.html", context)


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else reverse("execution:board")


@login_required
@domain_errors
@require_POST
def report(request: HttpRequest, supervisee_id: int) -> HttpResponse:
    """报到 registered at the 司法所 or the corrections unit (the door's act ``offender_report``)."""
    user = _me(request)
    sv = selectors.supervisees_of(user).filter(pk=supervisee_id).first()
    if sv is None:
        raise NotAllowed("该社区矫正对象不在本单位", code="not_corrections_unit")
    cases.case_act(user=user, case_id=sv.case_id, action="offender_report", party_ids=[sv.party_id])
    messages.success(request, f"{sv.party.name}已报到，社区矫正开始")
    return _redirect(request, _back(request))


@login_required
@domain_errors
@require_POST
def plan(request: HttpRequest, supervisee_id: int) -> HttpResponse:
    supervisor = request.POST.get("supervisor", "")
    if supervisor and not supervisor.isdigit():
        raise ValidationFailed("矫正负责人无效", code="supervisor_invalid")
    sv = services.supervisee_update(
        user=_me(request),
        supervisee_id=supervisee_id,
        supervisor_id=int(supervisor) if supervisor else None,
        plan=request.POST.get("plan"),
        prohibitions=request.POST.get("prohibitions"),
    )
    messages.success(request, f"已保存{sv.party.name}的矫正小组和矫正方案")
    return _redirect(request, _back(request))


@login_required
@domain_errors
@require_POST
def discharge(request: HttpRequest, supervisee_id: int) -> HttpResponse:
    sv = services.supervisee_discharge(user=_me(request), supervisee_id=supervisee_id)
    messages.success(request, f"{sv.party.name}矫正期满，已解除社区矫正；请签发解除社区矫正证明书")
    return _redirect(request, _back(request))


@login_required
@domain_errors
@require_POST
def revoke(request: HttpRequest, supervisee_id: int) -> HttpResponse:
    event = services.supervision_revoke(
        user=_me(request), supervisee_id=supervisee_id, reason=request.POST.get("reason", "")
    )
    messages.success(request, f"已裁定撤销并收监执行，刑期至{event.until:%Y年%m月%d日}")
    return _redirect(request, _back(request))


@login_required
@domain_errors
@require_POST
def release(request: HttpRequest, party_id: int) -> HttpResponse:
    services.release_on_term(user=_me(request), party_id=party_id)
    messages.success(request, "已办理刑满释放；请签发刑满释放证明书")
    return _redirect(request, _back(request))


@login_required
@domain_errors
@require_POST
def parole(request: HttpRequest, party_id: int) -> HttpResponse:
    grant = (
        services.temporary_release_grant if request.POST.get("kind") == "temporary" else services.parole_grant
    )
    sv = grant(user=_me(request), party_id=party_id, reason=request.POST.get("reason", ""))
    messages.success(
        request,
        f"已{sv.get_kind_display()}，交{sv.corrections_unit.name}社区矫正，至{sv.term_end:%Y年%m月%d日}；"
        "须在十日内报到",
    )
    return _redirect(request, _back(request))


@login_required
@domain_errors
@require_GET
def custody_check(request: HttpRequest) -> HttpResponse:
    """羁押合法性核查: everyone held today without a legal basis, for the 政法委 (all) and for
    each unit (its own); the 政法委 may run the check at once."""
    user = _me(request)
    alerts = Alert.objects.filter(kind="custody_unlawful", resolved_at__isnull=True).select_related(
        "case", "unit"
    )
    if not sees_everything(user):
        alerts = alerts.filter(unit=user.unit)
    return render(
        request,
        "execution/custody_check.html",
        {"alerts": list(alerts.order_by("-raised_at")[:500]), "can_run": sees_everything(user)},
    )


@login_required
@domain_errors
@require_POST
def custody_check_run(request: HttpRequest) -> HttpResponse:
    if not sees_everything(_me(request)):
        raise NotAllowed("只有政法委可以发起全市核查", code="committee_only")
    result = reconcile()
    messages.success(request, f"已核查 {result.persons:,} 人：{result.flagged} 人在押无法律依据")
    return _redirect(request, reverse("execution:custody-check"))
