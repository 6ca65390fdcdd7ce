"""Web pages (Simplified Chinese, server-rendered, HTMX for dialogs). Thin: every write calls one
service; every read goes through a permission-scoped selector."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from xietong import faults
from xietong.cases import deadlines, selectors, services
from xietong.cases.api import parse_deadline_query
from xietong.cases.clocks import compute
from xietong.cases.models import Case
from xietong.cases.procedure import ACTIONS, PENALTY_LABELS, STAGE_LABELS, TRIAL_PROCEDURES, Stage
from xietong.courtroom import services as courtroom
from xietong.courtroom.models import Hearing
from xietong.errors import DomainError, NotAllowed, ValidationFailed
from xietong.execution import selectors as execution_selectors
from xietong.execution.sweeps import take_effect_if_due
from xietong.instruments import catalogue
from xietong.ledger.selectors import case_timeline
from xietong.orgs.models import Region, User
from xietong.supervision.selectors import open_alerts_of
from xietong.web.forms import ActForm, LoginForm, RegisterForm

View = Callable[..., HttpResponseBase]


def domain_errors(view: View) -> View:
    """A refused act shows its Chinese message with the right status (403/404/409), never a 500."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            template = "web/_error.html" if request.headers.get("HX-Request") else "web/error.html"
            return render(request, template, {"error": exc}, status=exc.status)

    return wrapper


def _me(request: HttpRequest) -> User:
    """The signed-in user (views are behind ``login_required``)."""
    user = request.user
    if not isinstance(user, User):
        raise NotAllowed("请先登录", code="not_authenticated")
    return user


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("web:login")


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    board = selectors.workbench(user=_me(request))
    alerts = open_alerts_of(user=_me(request), limit=10)
    return render(request, "web/workbench.html", {"board": board, "now": timezone.now(), "alerts": alerts})


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    stage = request.GET.get("stage", "")
    qs = selectors.case_search(user=_me(request), query=query, stage=stage)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    context = {"page": page, "q": query, "stage": stage, "stages": STAGE_LABELS.items()}
    template = "web/_case_rows.html" if request.headers.get("HX-Request") else "web/case_list.html"
    return render(request, template, context)


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    unit = _me(request).unit
    towns = Region.objects.filter(level="town").select_related("parent").order_by("parent__code", "code")
    if unit is not None and unit.region.level in {"county", "town"}:
        county = unit.region if unit.region.level == "county" else unit.region.parent
        towns = towns.filter(parent=county)
    form = RegisterForm(request.POST or None, towns=towns)
    if request.method == "POST" and form.is_valid():
        result = services.case_register(
            user=_me(request), data=form.to_input(), claimed_date=form.cleaned_data.get("claimed_date")
        )
        if result.status == "pending_approval":
            messages.success(request, "立案呈请已提交，待负责人审批")
            return redirect("web:workbench")
        case = _case_of(result)
        messages.success(request, f"已立案：{case.number}")
        return redirect("web:case-detail", case_id=case.pk)
    return render(request, "web/case_new.html", {"form": form})


@login_required
@domain_errors
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _me(request)
    case = selectors.case_get_visible(user=user, case_id=case_id)
    if take_effect_if_due(case.pk, case.stage):  # 判决生效 computed by the platform (刑诉法第259条)
        case = selectors.case_get_visible(user=user, case_id=case_id)
    pending = selectors.pending_transfer(case=case)
    context = {
        "case": case,
        "parties": list(case.parties.all()),
        "clocks": selectors.case_clocks(case=case),
        "timeline": case_timeline(case_id=case.pk, viewer_agency=selectors.timeline_agency(user)),
        "actions": selectors.actions_available(user=user, case=case),
        "pending": pending,
        "can_decide_pending": pending is not None and pending.to_unit_id == getattr(user, "unit_id", None),
        "instruments": list(case.instruments.select_related("unit").all()),
        "instrument_kinds": catalogue.kinds_for_agency(user.unit.agency) if user.unit else [],
        "hearings": [h for h in Hearing.objects.filter(case=case) if courtroom.role_of(user, h) is not None],
        "can_open_hearing": case.stage in courtroom.TRIAL_STAGES and case.holder_unit_id == user.unit_id,
        "verdict": case.verdict,
        "penalty_labels": PENALTY_LABELS,
        "trial_procedures": TRIAL_PROCEDURES,
        "stage": Stage(case.stage),
        "progress": execution_selectors.case_progress(case=case, user=user),
    }
    return render(request, "web/case_detail.html", context)


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def case_act(request: HttpRequest, case_id: int, action: str) -> HttpResponse:
    user = _me(request)
    case = selectors.case_get_visible(user=user, case_id=case_id)
    spec = ACTIONS.get(action)
    if spec is None:
        raise ValidationFailed("未知的办案操作", code="unknown_action")
    form = ActForm(request.POST or None, spec=spec, case=case)
    if request.method == "POST":
        if not form.is_valid():
            return render(
                request, "web/_act_form.html", {"form": form, "case": case, "spec": spec}, status=400
            )
        result = services.case_act(
            user=user,
            case_id=case.pk,
            action=action,
            party_ids=form.party_ids(),
            reason=form.cleaned_data.get("reason", ""),
            claimed_date=form.cleaned_data.get("claimed_date"),
            options=form.options(),
            expected_version=form.cleaned_data.get("version"),
        )
        if result.status == "pending_approval":
            messages.success(request, f"「{spec.label}」呈请已提交，待负责人审批")
        else:
            extra = "；".join(result.messages)
            messages.success(request, f"已办理「{spec.label}」{('：' + extra) if extra else ''}")
        return _redirect(request, reverse("web:case-detail", args=[case.pk]))
    return render(request, "web/_act_form.html", {"form": form, "case": case, "spec": spec})


def _case_of(result: services.ActResult) -> Case:
    if result.case is None:
        raise ValidationFailed("操作未产生案件", code="no_case")
    return result.case


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@login_required
@domain_errors
@require_POST
def transfer_decide(request: HttpRequest, transfer_id: int, decision: str) -> HttpResponse:
    user = _me(request)
    if decision == "accept":
        options = {"procedure": request.POST.get("procedure")} if request.POST.get("procedure") else {}
        result = services.transfer_accept(user=user, transfer_id=transfer_id, options=options)
        messages.success(request, "已受理")
    elif decision == "return":
        result = services.transfer_return(
            user=user, transfer_id=transfer_id, reason=request.POST.get("reason", "")
        )
        messages.success(request, "已退回")
    else:
        raise ValidationFailed("未知操作", code="unknown_decision")
    return _redirect(request, reverse("web:case-detail", args=[_case_of(result).pk]))


@login_required
@domain_errors
@require_POST
def approval_decide(request: HttpRequest, request_id: int) -> HttpResponse:
    approve = request.POST.get("decision") == "approve"
    result = services.request_decide(
        user=_me(request),
        request_id=request_id,
        approve=approve,
        reason=request.POST.get("reason", ""),
    )
    messages.success(request, "已批准并办理" if approve else "已不批准")
    if result.case is not None:
        return _redirect(request, reverse("web:case-detail", args=[result.case.pk]))
    return _redirect(request, reverse("web:workbench"))


def deadline_calculator(request: HttpRequest) -> HttpResponse:
    """期限计算器: open to anyone, like the API, because the law is public."""
    result = None
    error = None
    if request.GET.get("rule"):
        try:
            rule, start, in_custody = parse_deadline_query(request.GET)
            result = compute(rule, start, in_custody=in_custody)
        except DomainError as exc:
            error = exc
    context = {
        "rules": deadlines.RULES.values(),
        "result": result,
        "error": error,
        "selected": request.GET.get("rule", ""),
        "start": request.GET.get("start", timezone.localtime().strftime("%Y-%m-%dT%H:%M")),
        "in_custody": request.GET.get("in_custody") in {"true", "1", "on"},
    }
    status = error.status if error else 200
    template = "web/_deadline_result.html" if request.headers.get("HX-Request") else "web/deadlines.html"
    return render(request, template, context, status=status)


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "time": timezone.now().isoformat(), "database": connection.vendor})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(
        request, "web/error.html", {"error": {"message": "页面不存在", "code": "not_found"}}, status=404
    )


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(
        request, "web/error.html", {"error": {"message": "无权访问", "code": "forbidden"}}, status=403
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """Django calls this inside the ``except`` that caught the error, so the error is at hand: a
    fault of the machinery (``xietong.faults``) gets its own status and message, rendered without
    the database (the page's frame would read the session and the user's alerts)."""
    fault = faults.classify(sys.exc_info()[1])
    if fault is not None:
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse(fault.as_dict(), status=fault.status)
        else:
            html = render_to_string("web/fault.html", {"fault": fault})
            response = HttpResponse(html, status=fault.status)
        response["Retry-After"] = str(faults.RETRY_AFTER_SECONDS)
        return response
    return render(
        request,
        "web/error.html",
        {"error": {"message": "系统内部错误，已记录", "code": "server_error"}},
        status=500,
    )
