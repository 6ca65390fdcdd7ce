"""Pages of 大数据分析研判 (F11, F12, F15-考评): the leaders' dashboard with drill-down from city to
district to town to the cases, standard reports with Excel export, the 智能查询 with saved queries,
correlation analysis, risk warnings and the annual report. Every figure is over ``facts_visible_to``."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xietong.analytics import export, selectors, services
from xietong.analytics.memo import memo
from xietong.analytics.models import CaseFact, SavedQuery, TrendWarning
from xietong.analytics.selectors import DIMENSIONS, DURATION_FIELDS, OUTCOME_LABELS, PERIODS, Filters
from xietong.cases.procedure import STAGE_LABELS
from xietong.errors import ValidationFailed
from xietong.orgs.models import Level, Region, User
from xietong.security.models import AuditKind
from xietong.security.services import audit_record
from xietong.web.views import _me, _redirect, domain_errors

TREND_MONTHS = 36
CASE_PAGE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_DIMENSIONS = {
    k: DIMENSIONS[k][1]
    for k in (
        "police_unit",
        "procuratorate_unit",
        "court_unit",
        "police_handler",
        "prosecutor",
        "judge",
        "county",
        "charge",
    )
}
INDICATORS: list[tuple[str, str]] = [
    ("label", "名称"),
    ("total", "案件数"),
    ("concluded", "已办结"),
    ("days_total", "平均办结用时（天）"),
    ("on_time_rate", "按期率%"),
    ("return_rate", "退补率%"),
    ("not_prosecuted_rate", "不起诉率%"),
    ("acquittal_rate", "无罪判决率%"),
]


def _year(request: HttpRequest) -> int:
    raw = request.GET.get("year", "").strip()
    if not raw:
        return timezone.localdate().year
    if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
        raise ValidationFailed("年份应为 2000–2100 之间的整数", code="bad_filter")
    return int(raw)


def _month(raw: str) -> date:
    try:
        return date.fromisoformat(raw.strip()[:7] + "-01")
    except ValueError as exc:
        raise ValidationFailed("月份格式不对（应为 2025-03）", code="bad_filter") from exc


def _area(filters: Filters) -> tuple[Region | None, Region | None]:
    town = (
        Region.objects.filter(pk=filters.town, level=Level.TOWN).select_related("parent").first()
        if filters.town
        else None
    )
    county = town.parent if town else None
    if county is None and filters.county:
        county = Region.objects.filter(pk=filters.county, level=Level.COUNTY).first()
    return county, town


def _url(name: str, **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return reverse(name) + (f"?{query}" if query else "")


def _same_day_year_before(day: date) -> date:
    return (
        day.replace(year=day.year - 1, day=28)
        if (day.month, day.day) == (2, 29)
        else day.replace(year=day.year - 1)
    )


@login_required
@domain_errors
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """态势总览: figures of a year for the user's area, drilled city → district → town → cases."""
    user = _me(request)
    filters = Filters.parse(request.GET)
    year = _year(request)
    county, town = _area(filters)
    today = timezone.localdate()
    # every figure groups the facts the user sees: kept until they change (``memo``); the key is
    # the user's view (the units he sees), so the leaders of one unit share them
    figures = memo(
        "dashboard",
        (selectors.visible_unit_ids(user), filters, year, today),
        lambda: _dashboard_figures(user, filters, year, county, today),
    )
    context = {
        **figures,
        "filters": filters,
        "year": year,
        "years": list(range(today.year, today.year - 10, -1)),
        "county": county,
        "town": town,
        "cases_url": _url("analytics:cases", **filters.as_params(), year=year),
        "warnings": _area_warnings(user, county, town)[:8],
    }
    return render(request, "analytics/dashboard.html", context)


def _dashboard_figures(
    user: User, filters: Filters, year: int, county: Region | None, today: date
) -> dict[str, Any]:
    facts = selectors.facts_visible_to(user=user)
    scoped = filters.apply(facts)
    in_year = scoped.filter(month__year=year)
    base = {"year": year, "charge": filters.charge}
    area_facts = dataclasses.replace(filters, town=None).apply(facts)
    within = county
    regions = selectors.region_comparison(
        area_facts, year=year, level="town" if within else "county", county=within.pk if within else None
    )
    if within is None and len(regions) == 1:
        # A county's own agencies see one county: one bar says nothing, its towns are the comparison.
        within = Region.objects.get(pk=regions[0]["id"])
        regions = selectors.region_comparison(area_facts, year=year, level="town", county=within.pk)
    for r in regions:
        r["url"] = (
            _url("analytics:dashboard", **base, county=within.pk, town=r["id"])
            if within
            else _url("analytics:dashboard", **base, county=r["id"])
        )
    end = date(year, 12, 1) if year < today.year else today.replace(day=1)
    trend = selectors.trend(
        scoped.filter(month__gte=services.months_back(end, TREND_MONTHS - 1), month__lte=end)
    )
    last_complete = services.months_back(today.replace(day=1), 1)
    trend_end = min(end, last_complete)
    trends = selectors.charge_trends(dataclasses.replace(filters, charge="").apply(facts), end=trend_end)
    charges = selectors.grouped(in_year, "charge", limit=10)
    for c in charges:
        c["url"] = _url(
            "analytics:dashboard", **{**base, "charge": c["key"]}, county=filters.county, town=filters.town
        )
    summary = selectors.summary(in_year)
    # A year still running is compared with the same days of the year before (上年同期).
    to_date = year == today.year
    last_year_end = date(year - 1, 12, 31) if not to_date else _same_day_year_before(today)
    previous = scoped.filter(
        registered_on__gte=date(year - 1, 1, 1), registered_on__lte=last_year_end
    ).count()
    return {
        "summary": summary,
        "previous": previous,
        "previous_label": "上年同期" if to_date else "上年",
        "yoy": round(100 * (summary["total"] - previous) / previous, 1) if previous else None,
        "regions": regions,
        "level_label": "镇（街道）" if within else "区县",
        "trends": trends,
        "trend_span": f"{services.months_back(trend_end, 59):%Y年%m月}至{trend_end:%Y年%m月}",
        "charges": charges,
        "charts": {
            "trend": trend,
            "regions": [
                {"name": r["name"], "count": r["count"], "per_10k": r["per_10k"], "url": r["url"]}
                for r in regions
            ],
            "charges": [{"name": c["label"], "value": c["total"], "url": c["url"]} for c in charges],
            "funnel": selectors.funnel(in_year),
            "durations": selectors.duration_histogram(in_year, "days_total"),
            "heat": selectors.hour_heat(in_year),
        },
        "all_charges": _charges(facts),
    }


def _area_warnings(user: User, county: Region | None, town: Region | None) -> QuerySet[TrendWarning]:
    """The open warnings of the area in view: a town's own, or a county's and its towns'."""
    warnings = selectors.warnings_visible_to(user=user).filter(status="open")
    if town is not None:
        return warnings.filter(region=town)
    if county is not None:
        return warnings.filter(Q(region=county) | Q(region__parent=county))
    return warnings


def _charges(facts: QuerySet[CaseFact]) -> list[str]:
    return list(facts.order_by().values_list("charge", flat=True).distinct()[:200])


@login_required
@domain_errors
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    """The cases behind a figure (the last step of the drill-down), each linked to its case page."""
    user = _me(request)
    filters = Filters.parse(request.GET)
    qs = filters.apply(selectors.facts_visible_to(user=user))
    if request.GET.get("year"):
        qs = qs.filter(month__year=_year(request))
    if request.GET.get("month"):
        qs = qs.filter(month=_month(request.GET["month"]))
    qs = qs.select_related("case", "town", "county").order_by("-registered_on", "-pk")
    if request.GET.get("format") == "xlsx":
        return _xlsx_response(
            request, "案件清单", _CASE_COLUMNS, (_case_row(f) for f in qs[:100_000]), filters
        )
    page = Paginator(qs, CASE_PAGE).get_page(request.GET.get("page"))
    for fact in page:
        fact.stage_label = STAGE_LABELS.get(fact.stage, fact.stage)  # type: ignore[attr-defined, call-overload]
        fact.outcome_label = OUTCOME_LABELS.get(fact.outcome, fact.outcome)  # type: ignore[attr-defined]
    county, town = _area(filters)
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "analytics/cases.html",
        {
            "page": page,
            "filters": filters,
            "county": county,
            "town": town,
            "query": params.urlencode(),
        },
    )


_CASE_COLUMNS = [
    ("number", "案件编号"),
    ("title", "案件名称"),
    ("charge", "罪名"),
    ("county", "区县"),
    ("town", "镇街"),
    ("registered_on", "立案日期"),
    ("stage", "阶段"),
    ("outcome", "办理结果"),
    ("days_total", "立案至办结（天）"),
    ("amount_yuan", "涉案金额（元）"),
]


def _case_row(f: CaseFact) -> dict[str, Any]:
    return {
        "number": f.case.number,
        "title": f.case.title,
        "charge": f.charge,
        "county": f.county.name,
        "town": f.town.name,
        "registered_on": f.registered_on.isoformat(),
        "stage": STAGE_LABELS.get(f.stage, f.stage),  # type: ignore[call-overload]
        "outcome": OUTCOME_LABELS.get(f.outcome, f.outcome),
        "days_total": f.days_total,
        "amount_yuan": f.amount_yuan,
    }


def _xlsx_response(
    request: HttpRequest, title: str, columns: list[tuple[str, str]], rows: Any, filters: Filters
) -> HttpResponse:
    note = "查询条件：" + ("；".join(f"{k}={v}" for k, v in filters.as_params().items()) or "全部")
    body = export.xlsx(title=title, columns=columns, rows=rows, note=note)
    response = HttpResponse(body, content_type=XLSX)
    stamp = timezone.localdate().strftime("%Y%m%d")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(title)}-{stamp}.xlsx"
    audit_record(request, kind=AuditKind.EXPORT, what=f"导出表格：{title}", detail=filters.as_params())
    return response


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text)


@login_required
@domain_errors
@require_GET
def reports(request: HttpRequest) -> HttpResponse:
    """智能报表: a period's case statistics per unit or handler with the 考评 indicators, the
    trend by month/quarter/year, and stage durations; each table exports to Excel."""
    user = _me(request)
    filters = Filters.parse(request.GET)
    year = _year(request)
    period = request.GET.get("period", "month")
    dimension = request.GET.get("by", "police_unit")
    if dimension not in REPORT_DIMENSIONS:
        raise ValidationFailed("不能按这个维度统计", code="bad_filter")
    facts = filters.apply(selectors.facts_visible_to(user=user))
    in_year = facts.filter(month__year=year)
    trend = selectors.trend(facts.filter(month__year__in=[year, year - 1]), period=period)
    trend = [t for t in trend if t["period"].startswith(str(year))]
    rows = selectors.grouped(in_year, dimension)
    if request.GET.get("format") == "xlsx":
        title = f"{year}年案件统计（按{REPORT_DIMENSIONS[dimension]}）"
        return _xlsx_response(request, title, INDICATORS, rows, filters)
    durations = [selectors.duration_histogram(in_year, field) for field in DURATION_FIELDS]
    return render(
        request,
        "analytics/reports.html",
        {
            "filters": filters,
            "year": year,
            "years": list(range(timezone.localdate().year, timezone.localdate().year - 10, -1)),
            "period": period,
            "period_label": PERIODS[period],
            "dimension_label": REPORT_DIMENSIONS[dimension],
            "periods": PERIODS,
            "dimension": dimension,
            "dimensions": REPORT_DIMENSIONS,
            "indicators": INDICATORS[1:],
            "rows": rows,
            "trend": trend,
            "summary": selectors.summary(in_year),
            "durations": durations,
            "export_url": request.get_full_path() + ("&" if request.GET else "?") + "format=xlsx",
        },
    )


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def query(request: HttpRequest) -> HttpResponse:
    """智能查询: any combination of filters, grouped by one dimension or listed case by case;
    saved (and shared with the unit) and exported to Excel."""
    user = _me(request)
    if request.method == "POST":
        return _save_query(request, user)
    filters = Filters.parse(request.GET)
    group = request.GET.get("group", "")
    if group and group not in DIMENSIONS:
        raise ValidationFailed("不能按这个维度分组", code="bad_filter")
    facts = filters.apply(selectors.facts_visible_to(user=user))
    ran = bool(request.GET)
    rows = selectors.grouped(facts, group) if ran and group else []
    if request.GET.get("format") == "xlsx":
        if group:
            return _xlsx_response(request, f"查询结果（按{DIMENSIONS[group][1]}）", INDICATORS, rows, filters)
        return _xlsx_response(
            request,
            "查询结果",
            _CASE_COLUMNS,
            (_case_row(f) for f in facts.select_related("case", "town", "county")[:100_000]),
            filters,
        )
    saved = SavedQuery.objects.filter(Q(owner=user) | Q(shared=True, owner__unit=user.unit)).select_related(
        "owner"
    )
    counties = Region.objects.filter(level=Level.COUNTY).order_by("code")
    towns = (
        Region.objects.filter(level=Level.TOWN, parent_id=filters.county).order_by("code")
        if filters.county
        else []
    )
    return render(
        request,
        "analytics/query.html",
        {
            "filters": filters,
            "ran": ran,
            "group": group,
            "groups": {k: v[1] for k, v in DIMENSIONS.items()},
            "rows": rows,
            "summary": selectors.summary(facts) if ran else None,
            "cases_url": _url("analytics:cases", **filters.as_params()),
            "export_url": request.get_full_path() + ("&" if request.GET else "?") + "format=xlsx",
            "saved": saved,
            "counties": counties,
            "towns": towns,
            "charges": _charges(selectors.facts_visible_to(user=user)),
            "stages": [(s.value, label) for s, label in STAGE_LABELS.items()],
            "outcomes": OUTCOME_LABELS,
            "indicators": INDICATORS[1:],
            "group_label": DIMENSIONS[group][1] if group else "",
            "chart_data": {"query": [{"name": r["label"], "value": r["total"]} for r in rows[:30]]},
            "params": urlencode({**filters.as_params(), **({"group": group} if group else {})}),
        },
    )


def _save_query(request: HttpRequest, user: User) -> HttpResponse:
    if request.POST.get("delete"):
        services.saved_query_delete(user=user, query_id=int(request.POST["delete"]))
        messages.success(request, "已删除")
        return _redirect(request, reverse("analytics:query"))
    params = Filters.parse(request.POST).as_params()
    group = request.POST.get("group", "")
    if group:
        if group not in DIMENSIONS:
            raise ValidationFailed("不能按这个维度分组", code="bad_filter")
        params["group"] = group
    saved = services.saved_query_save(
        user=user, name=request.POST.get("name", ""), params=params, shared=bool(request.POST.get("shared"))
    )
    messages.success(request, f"已保存查询「{saved.name}」")
    return _redirect(request, _url("analytics:query", **params))


@login_required
@domain_errors
@require_GET
def correlation(request: HttpRequest) -> HttpResponse:
    """相关性分析: repeat offenders and the charges that go together in one person's history; the
    towns where a charge is over-represented; the hours each charge happens at."""
    user = _me(request)
    filters = Filters.parse(request.GET)
    facts = filters.apply(selectors.facts_visible_to(user=user))
    persons = selectors.persons_for(user=user, filters=filters, facts=facts)
    repeat = selectors.repeat_offenders(persons, facts)
    return render(
        request,
        "analytics/correlation.html",
        {
            "filters": filters,
            "repeat": repeat,
            "places": selectors.co_occurring_places(facts),
            "charts": {
                "pairs": repeat["pairs"],
                "heat": selectors.hour_heat(facts),
            },
        },
    )


@login_required
@domain_errors
@require_POST
def warning_ack(request: HttpRequest, warning_id: int) -> HttpResponse:
    services.warning_acknowledge(user=_me(request), warning_id=warning_id)
    messages.success(request, "已标记为已研判")
    return _redirect(request, request.POST.get("next") or reverse("analytics:dashboard"))


@login_required
@domain_errors
@require_GET
def warning_list(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    warnings = selectors.warnings_visible_to(user=user)[:200]
    return render(
        request, "analytics/warnings.html", {"warnings": warnings, "method": services.WARNING_METHOD}
    )


@login_required
@domain_errors
@require_GET
def annual(request: HttpRequest) -> HttpResponse:
    """年度刑事犯罪实证分析报告: the form, and the PDF itself with ``format=pdf``."""
    user = _me(request)
    if request.GET.get("format") == "pdf":
        from xietong.analytics.annual import annual_report_pdf

        year = _year(request)
        county = Filters.parse(request.GET).county
        body = annual_report_pdf(user=user, year=year, county_id=county)
        audit_record(
            request, kind=AuditKind.EXPORT, what=f"{year}年度刑事犯罪实证分析报告", detail={"county": county}
        )
        response = HttpResponse(body, content_type="application/pdf")
        response["Content-Disposition"] = (
            f"inline; filename*=UTF-8''{_quote(f'{year}年度刑事犯罪实证分析报告')}.pdf"
        )
        return response
    return render(
        request,
        "analytics/annual.html",
        {
            "years": list(range(timezone.localdate().year, timezone.localdate().year - 10, -1)),
            "counties": Region.objects.filter(level=Level.COUNTY).order_by("code"),
            "default_year": timezone.localdate().year - 1,
        },
    )
