"""Pages for instruments: the draft editor with its live PDF preview, 签发/盖章/撤回 buttons, service
and receipts, the unit's 文号 register, and the public ``/verify`` page (no login). Thin: each write
calls one service."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xietong.errors import ValidationFailed
from xietong.instruments import crypto, services
from xietong.instruments.api import MAX_VERIFY_BYTES
from xietong.instruments.models import InstrumentStatus
from xietong.orgs.models import LEADER_DUTIES
from xietong.web.views import _me, domain_errors


def _date(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationFailed("日期格式应为 YYYY-MM-DD", code="bad_date") from exc


@login_required
@domain_errors
@require_POST
def instrument_new(request: HttpRequest, case_id: int) -> HttpResponse:
    i = services.instrument_create(user=_me(request), case_id=case_id, kind=request.POST.get("kind", ""))
    messages.success(request, f"已起草{i.kind}")
    return redirect("instruments:detail", instrument_id=i.pk)


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def instrument_detail(request: HttpRequest, instrument_id: int) -> HttpResponse:
    user = _me(request)
    if request.method == "POST":
        version = request.POST.get("version")
        services.instrument_edit(
            user=user,
            instrument_id=instrument_id,
            body=request.POST.get("body", ""),
            recipient=request.POST.get("recipient", ""),
            claimed_date=_date(request.POST.get("claimed_date")),
            expected_version=int(version) if version and version.isdigit() else None,
        )
        messages.success(request, "草稿已保存")
        return redirect("instruments:detail", instrument_id=instrument_id)
    i = services.instrument_get(user=user, instrument_id=instrument_id)
    body, closing = services.draft_text(i)
    own = user.unit_id == i.unit_id
    context = {
        "i": i,
        "body": body,
        "closing": closing,
        "own": own,
        "leader": own and user.has_duty(*LEADER_DUTIES),
        "services": list(i.services.select_related("recipient_unit", "opened_by")),
        "today": timezone.localdate(),
        "S": InstrumentStatus,
        "show_pdf": bool(i.pdf_id) or own,
        "uploadable": services.kind_of(i).uploadable,
    }
    return render(request, "instruments/detail.html", context)


@login_required
@domain_errors
@require_GET
@xframe_options_sameorigin
def instrument_pdf(request: HttpRequest, instrument_id: int) -> HttpResponse:
    i, data = services.instrument_pdf(user=_me(request), instrument_id=instrument_id)
    response = HttpResponse(data, content_type="application/pdf")
    name = f"{i.kind}-{i.number or '草稿'}.pdf"
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{_quote(name)}"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


_STEP_MESSAGES = {
    "submit": "已提交签发",
    "approve": "已签发",
    "reject": "已退回修改",
    "seal": "已盖章并送达",
    "change": "撤回/更正申请已提交，待领导审批",
    "decide": "已审批",
}


@login_required
@domain_errors
@require_POST
def instrument_step(request: HttpRequest, instrument_id: int, step: str) -> HttpResponse:
    if step not in services.STEPS:
        raise ValidationFailed("未知的文书操作", code="unknown_step")
    i = services.instrument_step(
        user=_me(request),
        instrument_id=instrument_id,
        step=step,
        reason=request.POST.get("reason", ""),
        change=request.POST.get("change", ""),
        approve=request.POST.get("approve") == "1",
    )
    messages.success(request, _STEP_MESSAGES[step] + (f"：{i.number}" if step == "seal" else ""))
    return redirect("instruments:detail", instrument_id=i.pk)


@login_required
@domain_errors
@require_POST
def upload_source(request: HttpRequest, instrument_id: int) -> HttpResponse:
    upload = request.FILES.get("file")
    if upload is None:
        raise ValidationFailed("请选择裁判文书 PDF", code="file_required")
    services.instrument_upload_source(user=_me(request), instrument_id=instrument_id, data=upload.read())
    messages.success(request, "裁判文书已上传，将以上传的文件盖章")
    return redirect("instruments:detail", instrument_id=instrument_id)


@login_required
@domain_errors
@require_POST
def receipt(request: HttpRequest, service_id: int) -> HttpResponse:
    upload = request.FILES.get("file")
    if upload is None:
        raise ValidationFailed("请选择送达回证扫描件", code="file_required")
    signed_on = _date(request.POST.get("signed_on"))
    if signed_on is None:
        raise ValidationFailed("请填写签收日期", code="signed_on_required")
    s = services.receipt_upload(
        user=_me(request),
        service_id=service_id,
        data=upload.read(),
        content_type=upload.content_type or "",
        signed_on=signed_on,
        recipient_name=request.POST.get("recipient_name", ""),
    )
    messages.success(request, "送达回证已上传，送达完成")
    return redirect("instruments:detail", instrument_id=s.instrument_id)


@login_required
@domain_errors
@require_GET
def register(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    if user.unit is None:
        raise ValidationFailed("您不属于任何单位", code="no_unit")
    this_year = timezone.localdate().year
    raw = request.GET.get("year") or str(this_year)
    if not raw.isdigit() or not 2000 <= int(raw) <= this_year:
        raise ValidationFailed(f"年份应在 2000 至 {this_year} 之间", code="bad_year")
    year = int(raw)
    rows = services.number_register(unit=user.unit, year=year)
    years = list(range(this_year, this_year - 5, -1))
    return render(
        request, "instruments/register.html", {"rows": rows, "year": year, "years": years, "unit": user.unit}
    )


@require_http_methods(["GET", "POST"])
@domain_errors
def verify(request: HttpRequest) -> HttpResponse:
    """Public: upload a PDF → who sealed it, when, under which number, intact or not, revoked or not,
    and its ledger inclusion proof."""
    result = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationFailed("请选择要核验的 PDF 文件", code="file_required")
        if upload.size and upload.size > MAX_VERIFY_BYTES:
            raise ValidationFailed("文件超过 50MB", code="file_too_large")
        result = services.verify_document(upload.read())
    context = {
        "result": result,
        "verdict_label": services.VERDICT_LABELS[result.verdict] if result else "",
        "filename": getattr(request.FILES.get("file"), "name", ""),
    }
    return render(request, "instruments/verify.html", context)


@require_GET
@domain_errors
def verify_token(request: HttpRequest, token: str) -> HttpResponse:
    """The page a QR code on a served instrument opens: what the platform registered under it. The
    document itself is not shown (it may hold personal data); upload the copy at hand to compare."""
    i = services.instrument_by_token(token)
    return render(request, "instruments/verify.html", {"registered": i})


@require_GET
@domain_errors
def verify_proof(request: HttpRequest, token: str) -> HttpResponse:
    """The ledger proof of a sealed instrument, for ``xietong instruments verify --proof``."""
    from django.http import JsonResponse

    response = JsonResponse(
        services.proof_bundle(services.instrument_by_token(token)), json_dumps_params={"ensure_ascii": False}
    )
    response["Content-Disposition"] = "attachment; filename=xietong-proof.json"
    return response


@require_GET
def ca_certificate(request: HttpRequest) -> HttpResponse:
    cert = crypto.load_certificate(services.authority_certificate_der())
    response = HttpResponse(crypto.pem(cert), content_type="application/x-pem-file")
    response["Content-Disposition"] = "attachment; filename=xietong-seal-ca.pem"
    return response
