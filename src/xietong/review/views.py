"""The review workspace (F4): case file on the left, report editor on the right; saves and the other
writes are JSON posts from ``review/workspace.js``; DOCX and PDF downloads. Thin: every write calls one
service, every read goes through ``review.selectors``."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from xietong.dossier import selectors as dossier_selectors
from xietong.dossier.models import Volume
from xietong.dossier.render import QUALITY_LABELS
from xietong.errors import DomainError, NotFound, ValidationFailed
from xietong.review import export, selectors, services
from xietong.review.models import Report, ReportKind
from xietong.review.templates_catalog import QUOTE_SECTION, Kind
from xietong.security.models import AuditKind
from xietong.security.services import audit_record
from xietong.web.views import _me, domain_errors

View = Callable[..., HttpResponseBase]


def json_endpoint(view: View) -> View:
    """POST with a JSON body → JSON; a refusal is ``{"code", "message"}`` with its status, as in the
    API; not signed in is a 401 (a fetch must not follow a redirect to the login page)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return JsonResponse(
                {"code": "not_authenticated", "message": "登录已过期，请重新登录"}, status=401
            )
        if request.method != "POST":
            return JsonResponse({"code": "method_not_allowed", "message": "只接受 POST"}, status=405)
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return JsonResponse(exc.as_dict(), status=exc.status)

    return wrapper


def _json(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("请求内容不是有效的 JSON", code="bad_json") from exc
    if not isinstance(data, dict):
        raise ValidationFailed("请求内容格式错误", code="bad_json")
    return data


def _int(value: Any, what: str, *, required: bool = True) -> int | None:
    if value in (None, "") and not required:
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"{what}须为整数", code="bad_number") from exc


def _urls(report: Report) -> dict[str, str]:
    args = [report.case_id, report.pk]
    return {
        "workspace": reverse("review:workspace", args=args),
        "save": reverse("review:save", args=args),
        "finalise": reverse("review:finalise", args=args),
        "versions": reverse("review:versions", args=args),
        "docx": reverse("review:export-docx", args=args),
        "pdf": reverse("review:export-pdf", args=args),
        "reader": reverse("review:reader-first", args=args),
    }


# ---------------------------------------------------------------- pages


@login_required
@domain_errors
@require_POST
def report_new(request: HttpRequest, case_id: int) -> HttpResponse:
    report = services.report_create(user=_me(request), case_id=case_id, kind=request.POST.get("kind", ""))
    return redirect("review:workspace", case_id=case_id, report_id=report.pk)


@login_required
@domain_errors
def workspace(request: HttpRequest, case_id: int, report_id: int) -> HttpResponse:
    user = _me(request)
    report = selectors.report_get_visible(user=user, report_id=report_id, case_id=case_id)
    version = selectors.version_get(report=report)
    volumes = [v for v in Volume.objects.filter(case_id=case_id).order_by("number") if v.pages_rendered]
    urls = _urls(report)
    context = {
        "report": report,
        "case": report.case,
        "version": version,
        "body": version.body,
        "sections": export.blocks_for_render(version.body),
        "volumes": volumes,
        "urls": urls,
        "reader_url": reverse("review:reader", args=[case_id, report.pk, volumes[0].pk]) if volumes else "",
        "editable": selectors.may_edit(user, report) and not report.is_final,
        "quote_section": QUOTE_SECTION[Kind(report.kind)],
        "kind_label": ReportKind(report.kind).label,
    }
    return render(request, "review/workspace.html", context)


@login_required
@domain_errors
@require_GET
def versions(request: HttpRequest, case_id: int, report_id: int) -> HttpResponse:
    report = selectors.report_get_visible(user=_me(request), report_id=report_id, case_id=case_id)
    return render(
        request,
        "review/_versions.html",
        {"report": report, "versions": selectors.versions_of(report=report), "urls": _urls(report)},
    )


@login_required
@domain_errors
@require_GET
def version_view(request: HttpRequest, case_id: int, report_id: int, number: int) -> HttpResponse:
    user = _me(request)
    report = selectors.report_get_visible(user=user, report_id=report_id, case_id=case_id)
    version = selectors.version_get(report=report, number=number)
    return render(
        request,
        "review/_version_view.html",
        {
            "report": report,
            "version": version,
            "body": version.body,
            "sections": export.blocks_for_render(version.body),
            "urls": _urls(report),
            "can_restore": selectors.may_edit(user, report)
            and not report.is_final
            and version.number != report.current_version,
        },
    )


def _export(request: HttpRequest, case_id: int, report_id: int, ext: str) -> HttpResponse:
    report = selectors.report_get_visible(user=_me(request), report_id=report_id, case_id=case_id)
    number = _int(request.GET.get("version"), "版本", required=False)
    ctx = export.export_context(report, selectors.version_get(report=report, number=number))
    if ext == "docx":
        data = export.report_docx(ctx)
        content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    else:
        data = export.report_pdf(ctx)
        content_type = "application/pdf"
    response = HttpResponse(data, content_type=content_type)
    audit_record(
        request,
        kind=AuditKind.EXPORT,
        what=f"审查报告：{ctx.filename(ext)}",
        case_id=case_id,
        detail={"report": report_id, "version": number, "format": ext},
    )
    response["Content-Disposition"] = content_disposition_header(True, ctx.filename(ext)) or "attachment"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@domain_errors
@require_GET
def export_docx(request: HttpRequest, case_id: int, report_id: int) -> HttpResponse:
    return _export(request, case_id, report_id, "docx")


@login_required
@domain_errors
@require_GET
def export_pdf(request: HttpRequest, case_id: int, report_id: int) -> HttpResponse:
    return _export(request, case_id, report_id, "pdf")


@login_required
@domain_errors
@require_GET
def reader_first(request: HttpRequest, case_id: int, report_id: int) -> HttpResponse:
    selectors.report_get_visible(user=_me(request), report_id=report_id, case_id=case_id)
    volume = Volume.objects.filter(case_id=case_id, pages_rendered__gt=0).order_by("number").first()
    if volume is None:
        raise NotFound("本案尚无可阅的卷宗", code="volume_not_found")
    return redirect("review:reader", case_id=case_id, report_id=report_id, volume_id=volume.pk)


@xframe_options_sameorigin  # shown in the workspace's frame; still no other site may frame it
@login_required
@domain_errors
@require_GET
def reader(request: HttpRequest, case_id: int, report_id: int, volume_id: int) -> HttpResponse:
    """The case file reader (``dossier/reader.html``) without the site's header, for the left pane
    and for the second window; quoting is on when the user may write the report."""
    user = _me(request)
    report = selectors.report_get_visible(user=user, report_id=report_id, case_id=case_id)
    volume = dossier_selectors.volume_get_visible(user=user, volume_id=volume_id)
    if volume.case_id != report.case_id:
        raise NotFound("卷宗不存在或无权查看", code="volume_not_found")
    pages = list(volume.pages.only("id", "number", "width", "height", "ocr_status", "quality"))
    context = {
        "reader_base": "review/reader_base.html",
        "volume": volume,
        "case": volume.case,
        "pages": pages,
        "catalogue": dossier_selectors.catalogue(volume=volume),
        "flagged": [(p.number, [QUALITY_LABELS[f] for f in p.quality]) for p in pages if p.quality],
        "can_edit": False,  # the catalogue is edited in the case file, not while writing a report
        "quote_enabled": selectors.may_edit(user, report) and not report.is_final,
        "report": report,
        "volumes": [
            (v, reverse("review:reader", args=[case_id, report.pk, v.pk]))
            for v in Volume.objects.filter(case_id=case_id, pages_rendered__gt=0).order_by("number")
        ],
        "urls": _urls(report),
    }
    return render(request, "review/reader_pane.html", context)


# ---------------------------------------------------------------- JSON writes


@json_endpoint
def save(request: HttpRequest, case_id: int, report_id: int) -> JsonResponse:
    data = _json(request)
    selectors.report_get_visible(user=_me(request), report_id=report_id, case_id=case_id)
    result = services.report_save(
        user=_me(request),
        report_id=report_id,
        body=data.get("body"),
        expected_version=_int(data.get("expected_version"), "版本") or 0,
        expected_revision=_int(data.get("expected_revision"), "修订号", required=False),
        autosave=bool(data.get("autosave")),
    )
    return JsonResponse(result.as_dict())


@json_endpoint
def restore(request: HttpRequest, case_id: int, report_id: int, number: int) -> JsonResponse:
    data = _json(request)
    selectors.report_get_visible(user=_me(request), report_id=report_id, case_id=case_id)
    result = services.report_restore(
        user=_me(request),
        report_id=report_id,
        number=number,
        expected_version=_int(data.get("expected_version"), "版本") or 0,
        expected_revision=_int(data.get("expected_revision"), "修订号", required=False),
    )
    return JsonResponse(result.as_dict())


@json_endpoint
def finalise(request: HttpRequest, case_id: int, report_id: int) -> JsonResponse:
    data = _json(request)
    selectors.report_get_visible(user=_me(request), report_id=report_id, case_id=case_id)
    report = services.report_finalise(
        user=_me(request),
        report_id=report_id,
        expected_version=_int(data.get("expected_version"), "版本") or 0,
    )
    return JsonResponse(
        {
            "report_id": report.pk,
            "status": report.status,
            "version": report.current_version,
            "sha256": report.final_sha256,
        }
    )
