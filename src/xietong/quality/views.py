"""Pages of 网上案件评查 (F16): campaigns (create, reviewers, draw, assign, results and the PDF
report), the reviewer's workspace over the assigned case file, and the handling unit's feedback.
Thin: each write is one service call; each read a scoped selector."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from xietong.dossier import blobs
from xietong.dossier.models import Blob, Volume
from xietong.errors import ValidationFailed
from xietong.instruments.models import Instrument
from xietong.quality import draw, selectors, services, standards
from xietong.quality.models import CampaignStatus, ReviewStatus
from xietong.security.models import AuditKind
from xietong.security.services import audit_record
from xietong.web.views import _me, domain_errors


def _int(raw: str | None, what: str) -> int:
    try:
        return int((raw or "").strip())
    except ValueError as exc:
        raise ValidationFailed(f"{what}须为整数", code="not_a_number") from exc


def _optional_int(raw: str | None, what: str) -> int | None:
    return None if not (raw or "").strip() else _int(raw, what)


def _date(raw: str | None, what: str) -> date:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError as exc:
        raise ValidationFailed(f"请填写{what}（年-月-日）", code="date_invalid") from exc


def _image(blob: Blob) -> HttpResponseBase:
    response = FileResponse(blobs.blob_open(blob), content_type=blob.content_type)
    response["Cache-Control"] = "private, no-store"  # each view must reach the server to be logged
    return response


# ---------------------------------------------------------------- index and campaigns


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    context = {
        "campaigns": list(selectors.campaign_list_visible_to(user=user)[:50]),
        "assignments": list(selectors.assignments_of(user=user)[:100]),
        "feedback": list(selectors.feedback_list_for(user=user)[:100]),
        "may_organise": selectors.may_organise(user),
    }
    return render(request, "quality/index.html", context)


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def campaign_new(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    units = list(selectors.reviewable_units(user).select_related("region", "region__parent"))
    today = timezone.localdate()
    form: dict[str, Any] = {
        "name": f"{today.year}年度刑事案件网上交叉评查",
        "period_start": date(today.year, 1, 1).isoformat(),
        "period_end": today.isoformat(),
        "per_unit": 5,
        "seed": today.year,
        "rules": [],
        "unit_ids": [],
        "with_file_only": True,
    }
    error = None
    if request.method == "POST":
        post = request.POST
        form.update(
            name=post.get("name", ""),
            period_start=post.get("period_start", ""),
            period_end=post.get("period_end", ""),
            per_unit=post.get("per_unit", ""),
            seed=post.get("seed", ""),
            rules=post.getlist("rules"),
            unit_ids=post.getlist("units"),
            with_file_only=bool(post.get("with_file_only")),
        )
        try:
            data = services.CampaignInput(
                name=form["name"],
                period_start=_date(form["period_start"], "评查期间开始日期"),
                period_end=_date(form["period_end"], "评查期间结束日期"),
                unit_ids=[_int(u, "单位") for u in form["unit_ids"]],
                rules=list(form["rules"]),
                per_unit=_int(form["per_unit"], "每单位抽取件数"),
                seed=_int(form["seed"], "随机种子"),
                with_file_only=form["with_file_only"],
            )
            campaign = services.campaign_create(user=user, data=data)
        except ValidationFailed as exc:
            error = exc
        else:
            messages.success(request, f"已创建评查活动「{campaign.name}」，请添加评查员并抽取案件")
            return redirect("quality:campaign", campaign_id=campaign.pk)
    if not selectors.may_organise(user):
        from xietong.errors import NotAllowed

        raise NotAllowed("只有公安机关、检察院、法院的负责人或政法委可以组织案件评查", code="not_organiser")
    groups: dict[str, list[Any]] = {}
    for unit in units:
        region = unit.region.parent if unit.region.level == "town" else unit.region
        groups.setdefault(region.name if region else "", []).append(unit)
    context = {
        "form": form,
        "groups": groups,
        "rules": draw.RULES.items(),
        "error": error,
        "chosen": {str(u) for u in form["unit_ids"]},
    }
    return render(request, "quality/campaign_new.html", context, status=400 if error else 200)


@login_required
@domain_errors
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    user = _me(request)
    campaign = selectors.campaign_get_visible(user=user, campaign_id=campaign_id)
    manage = selectors.campaign_manageable(user, campaign)
    reviews = list(selectors.campaign_reviews(campaign=campaign))
    if not selectors.campaign_sees_results(user, campaign):
        reviews = [r for r in reviews if r.reviewer_id == user.pk]
    reviewers = selectors.campaign_reviewers(campaign=campaign)
    pages = {}
    if reviews:
        from django.db.models import Sum

        pages = dict(
            Volume.objects.filter(case_id__in=[r.case_id for r in reviews])
            .values("case_id")
            .annotate(n=Sum("pages_rendered"))
            .values_list("case_id", "n")
        )
    rows = []
    for r in reviews:
        eligible = (
            [m.user for m in reviewers if services.reviewer_conflict(m.user, r.case, r.unit) is None]
            if manage and r.status != ReviewStatus.SUBMITTED
            else []
        )
        rows.append({"review": r, "pages": pages.get(r.case_id, 0), "eligible": eligible})
    context = {
        "campaign": campaign,
        "manage": manage,
        "sees_results": selectors.campaign_sees_results(user, campaign),
        "rows": rows,
        "reviewers": reviewers,
        "candidates": list(selectors.reviewer_candidates(campaign=campaign)[:500]) if manage else [],
        "rules": [draw.RULES[r] for r in campaign.rules],
        "units": list(campaign.units.order_by("path")),
        "unassigned": sum(1 for r in reviews if r.status == ReviewStatus.UNASSIGNED),
    }
    return render(request, "quality/campaign_detail.html", context)


@login_required
@domain_errors
@require_POST
def campaign_reviewer_add(request: HttpRequest, campaign_id: int) -> HttpResponse:
    reviewer_id = _int(request.POST.get("reviewer"), "评查员")
    row = services.campaign_reviewer_add(user=_me(request), campaign_id=campaign_id, reviewer_id=reviewer_id)
    messages.success(request, f"已添加评查员：{row.user.full_name}")
    return redirect("quality:campaign", campaign_id=campaign_id)


@login_required
@domain_errors
@require_POST
def campaign_draw(request: HttpRequest, campaign_id: int) -> HttpResponse:
    n = services.campaign_draw(user=_me(request), campaign_id=campaign_id)
    messages.success(request, f"已抽取 {n} 件案件")
    return redirect("quality:campaign", campaign_id=campaign_id)


@login_required
@domain_errors
@require_POST
def campaign_assign_auto(request: HttpRequest, campaign_id: int) -> HttpResponse:
    assigned, left = services.campaign_assign_auto(user=_me(request), campaign_id=campaign_id)
    text = f"已交叉分配 {assigned} 件"
    if left:
        text += f"；{left} 件没有可回避的评查员，请添加其他区县的评查员"
    messages.success(request, text)
    return redirect("quality:campaign", campaign_id=campaign_id)


@login_required
@domain_errors
@require_POST
def review_assign(request: HttpRequest, review_id: int) -> HttpResponse:
    reviewer_id = _int(request.POST.get("reviewer"), "评查员")
    review = services.review_assign(user=_me(request), review_id=review_id, reviewer_id=reviewer_id)
    messages.success(request, f"已将 {review.case.number} 分配给 {review.reviewer}")
    return redirect("quality:campaign", campaign_id=review.campaign_id)


@login_required
@domain_errors
@require_POST
def campaign_close(request: HttpRequest, campaign_id: int) -> HttpResponse:
    services.campaign_close(user=_me(request), campaign_id=campaign_id)
    messages.success(request, "评查活动已结束")
    return redirect("quality:campaign", campaign_id=campaign_id)


@login_required
@domain_errors
def campaign_results(request: HttpRequest, campaign_id: int) -> HttpResponseBase:
    user = _me(request)
    campaign = selectors.campaign_get_visible(user=user, campaign_id=campaign_id)
    if not selectors.campaign_sees_results(user, campaign):
        from xietong.errors import NotAllowed

        raise NotAllowed("评查结果由活动组织者查看", code="results_forbidden")
    from xietong.quality import export

    report = export.campaign_report(campaign=campaign)
    if request.GET.get("format") == "pdf":
        response = HttpResponse(report.pdf(), content_type="application/pdf")
        audit_record(request, kind=AuditKind.EXPORT, what=f"评查结果：{report.filename}"[:200])
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{export.quote(report.filename)}"
        return response
    return render(
        request,
        "quality/results.html",
        {"campaign": campaign, "report": report, "chart": report.chart_data()},
    )


@login_required
@domain_errors
def review_overview(request: HttpRequest, review_id: int) -> HttpResponse:
    """The organiser's read-only view of one reviewed case: score, defects and answers."""
    review = selectors.review_get_for_organiser(user=_me(request), review_id=review_id)
    return render(
        request,
        "quality/review_overview.html",
        {
            "review": review,
            "defects": selectors.defects_of(review=review),
            "checklist": standards.CHECKLISTS[review.checklist],
        },
    )


# ---------------------------------------------------------------- the reviewer's workspace


def _workspace_context(request: HttpRequest, review_id: int) -> dict[str, Any]:
    user = _me(request)
    review = services.review_open(user=user, review_id=review_id)
    volumes = list(Volume.objects.filter(case_id=review.case_id).order_by("number"))
    pages = {
        v.pk: list(v.pages.only("id", "number", "width", "height", "quality").order_by("number"))
        for v in volumes
    }
    defects = selectors.defects_of(review=review)
    checklist = standards.CHECKLISTS[review.checklist]
    return {
        "review": review,
        "case": review.case,
        "volumes": [(v, pages[v.pk]) for v in volumes],
        "first_page": next((p for v in volumes for p in pages[v.pk]), None),
        "instruments": list(Instrument.objects.filter(case_id=review.case_id).order_by("issued_at", "pk")),
        "checklist": checklist,
        "severities": standards.SEVERITY_CHOICES,
        "defects": defects,
        "findings": selectors.findings_of(review=review),
        "deduction": sum(d.points for d in defects),
        "preview": standards.score([d.points for d in defects]),
        "max_adjustment": standards.MAX_ADJUSTMENT,
        "editable": review.status != ReviewStatus.SUBMITTED,
    }


@login_required
@domain_errors
def workspace(request: HttpRequest, review_id: int) -> HttpResponse:
    return render(request, "quality/workspace.html", _workspace_context(request, review_id))


def _panel(request: HttpRequest, review_id: int, status: int = 200, error: Any = None) -> HttpResponse:
    context = _workspace_context(request, review_id)
    context["error"] = error
    return render(request, "quality/_panel.html", context, status=status)


@login_required
@domain_errors
def review_page_image(request: HttpRequest, review_id: int, page_id: int) -> HttpResponseBase:
    page = services.review_page_view(user=_me(request), review_id=review_id, page_id=page_id)
    return _image(page.image)


@login_required
@domain_errors
def review_instrument_pdf(request: HttpRequest, review_id: int, instrument_id: int) -> HttpResponseBase:
    instrument = services.review_instrument_open(
        user=_me(request), review_id=review_id, instrument_id=instrument_id
    )
    response = FileResponse(blobs.blob_open(instrument.pdf), content_type="application/pdf")  # type: ignore[arg-type]
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@domain_errors
@require_POST
def defect_add(request: HttpRequest, review_id: int) -> HttpResponse:
    post = request.POST
    try:
        data = services.DefectInput(
            item_code=post.get("item", ""),
            severity=post.get("severity", ""),
            comment=post.get("comment", ""),
            page_id=_optional_int(post.get("page"), "页面"),
            rect=services.parse_rect([post.get("x"), post.get("y"), post.get("w"), post.get("h")]),
            instrument_id=_optional_int(post.get("instrument"), "文书"),
        )
        services.defect_add(user=_me(request), review_id=review_id, data=data)
    except ValidationFailed as exc:
        if request.headers.get("HX-Request"):
            return _panel(request, review_id, status=400, error=exc)
        raise
    if request.headers.get("HX-Request"):
        return _panel(request, review_id)
    messages.success(request, "已记录问题")
    return redirect("quality:workspace", review_id=review_id)


@login_required
@domain_errors
@require_POST
def defect_remove(request: HttpRequest, review_id: int, defect_id: int) -> HttpResponse:
    services.defect_remove(user=_me(request), defect_id=defect_id)
    if request.headers.get("HX-Request"):
        return _panel(request, review_id)
    return redirect("quality:workspace", review_id=review_id)


@login_required
@domain_errors
@require_POST
def finding_decide(request: HttpRequest, review_id: int, finding_id: int, decision: str) -> HttpResponse:
    if decision not in {"confirm", "dismiss"}:
        raise ValidationFailed("未知的操作", code="unknown_decision")
    services.finding_decide(
        user=_me(request),
        finding_id=finding_id,
        confirm=decision == "confirm",
        severity=request.POST.get("severity", ""),
        comment=request.POST.get("comment", ""),
    )
    if request.headers.get("HX-Request"):
        return _panel(request, review_id)
    return redirect("quality:workspace", review_id=review_id)


@login_required
@domain_errors
@require_POST
def review_prescreen(request: HttpRequest, review_id: int) -> HttpResponse:
    n = services.review_prescreen(user=_me(request), review_id=review_id)
    messages.success(request, f"机器预审完成，新增提示 {n} 条")
    return redirect("quality:workspace", review_id=review_id)


@login_required
@domain_errors
@require_POST
def review_submit(request: HttpRequest, review_id: int) -> HttpResponse:
    review = services.review_submit(
        user=_me(request),
        review_id=review_id,
        adjustment=services.parse_adjustment(request.POST.get("adjustment")),
        reason=request.POST.get("reason", ""),
        summary=request.POST.get("summary", ""),
    )
    messages.success(request, f"评查已提交：{review.score} 分（{review.grade}），已反馈承办单位")
    return redirect("quality:workspace", review_id=review_id)


@login_required
@domain_errors
def defect_crop(request: HttpRequest, defect_id: int) -> HttpResponseBase:
    defect = selectors.defect_get_visible(user=_me(request), defect_id=defect_id)
    if defect.crop is None:
        from xietong.errors import NotFound

        raise NotFound("该问题没有截图", code="crop_not_found")
    response = FileResponse(blobs.blob_open(defect.crop), content_type=defect.crop.content_type)
    response["Cache-Control"] = "private, max-age=86400"
    return response


# ---------------------------------------------------------------- the handling unit's feedback


@login_required
@domain_errors
def feedback(request: HttpRequest, review_id: int) -> HttpResponse:
    user = _me(request)
    review = selectors.feedback_get(user=user, review_id=review_id)
    return render(
        request,
        "quality/feedback.html",
        {
            "review": review,
            "defects": selectors.defects_of(review=review),
            "may_answer": services.may_answer(user, review),
            "checklist": standards.CHECKLISTS[review.checklist],
        },
    )


@login_required
@domain_errors
@require_POST
def defect_answer(request: HttpRequest, defect_id: int) -> HttpResponse:
    kind = request.POST.get("kind", "")
    if kind not in {"explain", "rectify"}:
        raise ValidationFailed("请选择「情况说明」或「已整改」", code="answer_kind")
    defect = services.defect_answer(
        user=_me(request), defect_id=defect_id, rectified=kind == "rectify", text=request.POST.get("text", "")
    )
    messages.success(request, "已整改" if kind == "rectify" else "已提交情况说明")
    return redirect("quality:feedback", review_id=defect.review_id)


__all__ = ["CampaignStatus"]
