"""Pages of the case library (F9, F10, F15): search with facets, a record (published or original,
its versions, the keeper's edit form), similar cases for pasted facts, the 类案 panel of a case
page, and the leaders' 同案不同判 list."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from rest_framework.exceptions import ValidationError

from xietong.cases import selectors as case_selectors
from xietong.errors import NotAllowed, ValidationFailed
from xietong.library import consistency, selectors, services
from xietong.library.api import filters_from
from xietong.library.collect import outcome_of
from xietong.library.models import EDITABLE_FIELDS, Record
from xietong.web.views import _me, _redirect, domain_errors

PANEL_SIZE = 30  # similar cases behind the chart
PANEL_SHOWN = 8  # of them listed on the case page (all on the similar-cases page)


def _filters(request: HttpRequest) -> tuple[selectors.Filters, int]:
    data = {k: str(v) for k, v in request.GET.items() if str(v).strip()}
    try:
        return filters_from(data)
    except ValidationError as exc:
        raise ValidationFailed(
            "检索条件有误：" + "；".join(str(k) for k in exc.detail), code="invalid"
        ) from exc


@login_required
@domain_errors
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """案例库: full text and filters, facets that narrow the search when clicked."""
    _me(request)
    filters, page = _filters(request)
    result = selectors.library_search(filters=filters, page=page)
    base = {k: str(v) for k, v in request.GET.items() if str(v).strip() and k != "page"}
    facet_links = {
        name: [
            (
                selectors.PENALTY_KIND_LABELS.get(value, value) if name == "penalty_kind" else value,
                count,
                "?" + urlencode({**base, **_facet_filter(name, value)}),
                base.get(_FACET_PARAM[name]) == value,
            )
            for value, count in rows
        ]
        for name, rows in result.facets.items()
        if name in _FACET_PARAM
    }
    context = {
        "filters": filters,
        "result": result,
        "facets": [(selectors.FACET_LABELS[n], links) for n, links in facet_links.items()],
        "collections": selectors.collections(),
        "penalty_kinds": selectors.PENALTY_KIND_LABELS.items(),
        "page": page,
        "next_page": "?" + urlencode({**base, "page": page + 1}) if page * 20 < result.total else "",
        "prev_page": "?" + urlencode({**base, "page": page - 1}) if page > 1 else "",
        "clear": reverse("library:search"),
    }
    template = "library/_results.html" if request.headers.get("HX-Request") else "library/search.html"
    return render(request, template, context)


def _facet_filter(name: str, value: str) -> dict[str, str]:
    """The filter a facet link adds: a year is one year (from and to), the others one value."""
    if name == "year":
        return {"year_from": value, "year_to": value}
    return {_FACET_PARAM[name]: value}


_FACET_PARAM = {
    "charges": "charge",
    "penalty_kind": "penalty_kind",
    "year": "year_from",
    "region": "region",
    "court": "court",
    "circumstances": "circumstance",
}


@login_required
@domain_errors
@require_GET
def record(request: HttpRequest, record_id: int) -> HttpResponse:
    user = _me(request)
    rec = selectors.record_get(record_id=record_id)
    entitled = selectors.may_read_original(user=user, record=rec)
    original = entitled and request.GET.get("original") == "1"
    services.record_view_log(user=user, record=rec, original=original)
    texts = (
        {"title": rec.title, "facts": rec.facts, "reasoning": rec.reasoning, "judgment": rec.judgment}
        if original
        else rec.published
    )
    return render(
        request,
        "library/record.html",
        {
            "rec": rec,
            "texts": texts,
            "entitled": entitled,
            "original": original,
            "keeper": services.may_keep_library(user),
            "versions": list(rec.versions.select_related("by").order_by("-version")[:20]),
            "details": rec.details,
            "penalty_kind_label": selectors.PENALTY_KIND_LABELS.get(rec.penalty_kind, rec.penalty_kind),
        },
    )


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def record_edit(request: HttpRequest, record_id: int) -> HttpResponse:
    """The keeper's edit form; the record as it was is kept as a version."""
    user = _me(request)
    if not services.may_keep_library(user):
        raise NotAllowed("只有案例库管理员可以修改案例", code="library_keeper_only")
    rec = selectors.record_get(record_id=record_id)
    if request.method == "POST":
        changes: dict[str, Any] = {}
        for name in EDITABLE_FIELDS:
            if name not in request.POST:
                continue
            value: Any = request.POST[name]
            if name in {"charges", "articles", "circumstances"}:
                value = [
                    v.strip() for v in value.replace("，", ",").replace("、", ",").split(",") if v.strip()
                ]
            changes[name] = value
        services.record_edit(user=user, record_id=rec.pk, changes=changes, note=request.POST.get("note", ""))
        messages.success(request, "案例已修改，原版本已保存")
        return _redirect(request, reverse("library:record", args=[rec.pk]) + "?original=1")
    return render(request, "library/record_edit.html", {"rec": rec, "fields": _edit_fields(rec)})


def _edit_fields(rec: Record) -> list[tuple[str, str, str, bool]]:
    out = []
    for name in EDITABLE_FIELDS:
        value = getattr(rec, name)
        if isinstance(value, list):
            value = "、".join(value)
        label = str(getattr(Record._meta.get_field(name), "verbose_name", name))
        out.append(
            (name, label, "" if value is None else str(value), name in {"facts", "reasoning", "judgment"})
        )
    return out


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def similar(request: HttpRequest) -> HttpResponse:
    """类案推送 for pasted facts: the most similar judged cases, why, and how they were decided."""
    user = _me(request)
    text = (request.POST.get("text") or request.GET.get("text") or "").strip()
    exclude: tuple[str, ...] = ()
    case_id = request.GET.get("case_id", "")
    if case_id.isdigit() and not text:  # 「查看全部」 from a case page's panel
        case = case_selectors.case_get_visible(user=user, case_id=int(case_id))
        text, exclude = case.facts, (case.number,)
    if len(text) > 50_000:
        raise ValidationFailed("案件事实过长（最多 5 万字）", code="text_too_long")
    found = selectors.similar_cases(text=text, k=PANEL_SIZE, exclude_ids=exclude, passages=5) if text else []
    context = {"text": text, **_panel_context(found)}
    return render(request, "library/similar.html", context)


def _panel_context(
    found: list[selectors.SimilarCase], *, show: int | None = None, more_url: str = ""
) -> dict[str, Any]:
    split = selectors.charge_split(found)
    chart = {
        "charges": [{"name": c, "value": n} for c, n in split["charges"]],
        "terms": [{"charge": c, "months": m} for c, m in split["terms"].items()],
    }
    return {
        "found": found,
        "shown": found[:show] if show else found,
        "more_url": more_url if show and len(found) > show else "",
        "split": split,
        "chart_json": json.dumps(chart, ensure_ascii=False),
    }


@login_required
@domain_errors
@require_GET
def case_panel(request: HttpRequest, case_id: int) -> HttpResponse:
    """The 类案 panel of a case page (loaded by HTMX after the page): similar judged cases for the
    case's facts, the distribution of their charges and terms, a warning where they split."""
    user = _me(request)
    case = case_selectors.case_get_visible(user=user, case_id=case_id)
    # A concluded case goes into the library when it is next seen, should the background job not
    # have run yet (idempotent: an up-to-date record is left alone).
    if (
        outcome_of(case.stage) is not None
        and not Record.objects.filter(case=case, updated_at__gte=case.updated_at).exists()
    ):
        services.records_from_cases([case.pk])
    found = selectors.similar_cases(text=case.facts, k=PANEL_SIZE, exclude_ids=(case.number,), passages=3)
    more = reverse("library:similar") + f"?case_id={case.pk}"
    context = {"case": case, **_panel_context(found, show=PANEL_SHOWN, more_url=more)}
    return render(request, "library/_case_panel.html", context)


def _is_leader(request: HttpRequest) -> bool:
    user = _me(request)
    return case_selectors.sees_everything(user) or user.has_duty("leader", "dept_head")


@login_required
@domain_errors
@require_GET
def consistency_list(request: HttpRequest) -> HttpResponse:
    """同案不同判: judgments far outside the range their similar cases and the charge's model
    expect, for leaders (their own area) and 政法委 (the city)."""
    if not _is_leader(request):
        raise NotAllowed("同案不同判分析仅对领导和政法委开放", code="leaders_only")
    report = consistency.consistency_report(collection=request.GET.get("collection", ""))
    return render(
        request, "library/consistency.html", {"report": report, "collections": selectors.collections()}
    )


@login_required
@domain_errors
@require_POST
def collect_now(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    if not services.may_keep_library(user):
        raise NotAllowed("只有案例库管理员可以手动归集", code="library_keeper_only")
    count = services.library_collect()
    messages.success(request, f"已归集 {count} 件办结案件")
    return _redirect(request, reverse("library:search"))
