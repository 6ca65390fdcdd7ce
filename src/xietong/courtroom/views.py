"""Courtroom pages: the hearing room of a signed-in participant (presenter controls, record,
advice), a courtroom screen joined by a one-time code, and the page images screens display."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from xietong.courtroom import services
from xietong.courtroom.models import COURT_ROLES, Hearing, Role
from xietong.dossier import blobs
from xietong.dossier.models import Page
from xietong.errors import NotAllowed, NotFound
from xietong.orgs.models import Duty, User
from xietong.web.views import _me, domain_errors


@login_required
@domain_errors
@require_POST
def hearing_open(request: HttpRequest, case_id: int) -> HttpResponse:
    hearing = services.hearing_open(user=_me(request), case_id=case_id)
    return redirect("courtroom:room", hearing_id=hearing.pk)


def _room_hearing(user: User, hearing_id: int) -> tuple[Hearing, str]:
    hearing = Hearing.objects.select_related("case", "case__procuratorate_unit").filter(pk=hearing_id).first()
    if hearing is None:
        raise NotFound("庭审不存在", code="hearing_not_found")
    role = services.role_of(user, hearing)
    if role is None:
        raise NotFound("庭审不存在", code="hearing_not_found")
    return hearing, role


@login_required
@domain_errors
@require_GET
def room(request: HttpRequest, hearing_id: int) -> HttpResponse:
    user = _me(request)
    hearing, role = _room_hearing(user, hearing_id)
    pages = list(
        Page.objects.filter(volume__case_id=hearing.case_id)
        .select_related("volume")
        .order_by("volume__number", "number")
    )
    from xietong.dossier.models import Evidence

    evidence = list(Evidence.objects.filter(case_id=hearing.case_id).order_by("number"))
    officers = []
    if role == Role.LEADER and hearing.case.procuratorate_unit_id:
        officers = list(
            User.objects.filter(
                unit_id=hearing.case.procuratorate_unit_id, appointments__duty=Duty.HANDLER
            ).distinct()
        )
    context = {
        "hearing": hearing,
        "role": role,
        "role_label": Role(role).label,
        "court": role in COURT_ROLES,
        "pages": pages,
        "evidence": evidence,
        "officers": officers,
        "code": request.session.pop("courtroom_code", None),
        "opinion_fields": OPINION_FIELDS,
    }
    return render(request, "courtroom/room.html", context)


@login_required
@domain_errors
@require_POST
def code_new(request: HttpRequest, hearing_id: int) -> HttpResponse:
    role = request.POST.get("role", "public")
    code = services.screen_code_issue(user=_me(request), hearing_id=hearing_id, role=role)
    request.session["courtroom_code"] = {"role": Role(role).label, "code": code}
    messages.success(request, f"{Role(role).label}接入码已生成")
    return redirect("courtroom:room", hearing_id=hearing_id)


@require_GET
@domain_errors
def screen(request: HttpRequest, hearing_id: int) -> HttpResponse:
    """A courtroom screen (公共显示屏, 被告人屏, 辩护人屏): no login; the page pairs with the code
    over the WebSocket and keeps the token it gets for reconnecting."""
    if not Hearing.objects.filter(pk=hearing_id).exists():
        raise NotFound("庭审不存在", code="hearing_not_found")
    return render(request, "courtroom/screen.html", {"hearing_id": hearing_id})


@require_GET
@domain_errors
def media(request: HttpRequest, hearing_id: int) -> HttpResponseBase:
    """Audio and video evidence for the screens, with range requests so that they can seek."""
    from xietong.dossier.views import blob_range_response

    evidence = services.media_evidence(hearing_id=hearing_id, token=request.GET.get("t", ""))
    return blob_range_response(request, evidence.blob)


@require_GET
@domain_errors
def image(request: HttpRequest, hearing_id: int) -> FileResponse:
    page = services.image_page(hearing_id=hearing_id, token=request.GET.get("t", ""))
    if page.image_id is None:
        raise NotAllowed("页面尚未生成图像", code="no_image")
    response = FileResponse(blobs.blob_open(page.image), content_type=page.image.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@domain_errors
@require_GET
def record(request: HttpRequest, hearing_id: int) -> HttpResponse:
    """举证质证记录: every presentation, cross-examination opinion and ruling, printable."""
    hearing, _ = _room_hearing(_me(request), hearing_id)
    events = list(hearing.events.exclude(kind="refused").select_related("user").order_by("at", "pk"))
    pages = {
        f"page:{p.pk}": f"卷{p.volume.number} 第{p.number}页"
        for p in Page.objects.filter(volume__case_id=hearing.case_id).select_related("volume")
    }
    rows = [
        {
            "event": e,
            "item": pages.get(e.item, e.item),
            "opinions": [(label, e.data.get("opinions", {}).get(key)) for key, label in OPINION_FIELDS]
            if e.kind == "cross"
            else [],
        }
        for e in events
    ]
    return render(request, "courtroom/record.html", {"hearing": hearing, "rows": rows})


OPINION_FIELDS = (("authenticity", "真实性"), ("legality", "合法性"), ("relevance", "关联性"))
