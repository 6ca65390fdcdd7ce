"""Pages of the message board: the inbox (to and from my unit), a thread with its messages and the
reply form (HTMX), the new-thread dialog of the case page, closing, and attachment downloads. Thin:
every write calls one service; every read goes through a scoped selector."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xietong import servertime
from xietong.board import selectors, services
from xietong.board.models import STATE_LABELS, Thread, ThreadKind, ThreadStatus
from xietong.board.rules import ANSWER_WORKING_DAYS, last_day
from xietong.cases.procedure import STAGE_LABELS
from xietong.cases.selectors import case_get_visible
from xietong.dossier import blobs
from xietong.errors import DomainError, ValidationFailed
from xietong.orgs.models import User
from xietong.web.views import _me, domain_errors

BOX_LABELS = {"in": "收到的留言", "out": "发出的留言", "all": "全部"}


def citations_from_post(request: HttpRequest) -> list[services.CitationInput]:
    """The picker's rows: a volume and a page number per row (blank rows are skipped), plus the
    ticked instruments."""
    volumes = request.POST.getlist("cite_volume")
    pages = request.POST.getlist("cite_page")
    out: list[services.CitationInput] = []
    for volume, page in zip(volumes, pages, strict=False):
        volume, page = volume.strip(), page.strip()
        if not volume and not page:
            continue
        if not volume.isdigit() or not page.isdigit():
            raise ValidationFailed("引用卷宗须选择卷并填写页码", code="citation_invalid")
        out.append(services.CitationInput(volume_id=int(volume), page_number=int(page)))
    for instrument in request.POST.getlist("cite_instrument"):
        if not instrument.isdigit():
            raise ValidationFailed("引用的文书无效", code="citation_invalid")
        out.append(services.CitationInput(instrument_id=int(instrument)))
    return out


def attachments_from_post(request: HttpRequest) -> list[services.AttachmentInput]:
    return [
        services.AttachmentInput(name=f.name or "", size=f.size or 0, file=f)
        for f in request.FILES.getlist("attachments")
    ]


def _optional_int(raw: str | None, what: str) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise ValidationFailed(f"{what}无效", code="bad_input")
    return int(raw)


def _may_write(user: User) -> bool:
    return user.unit_id is not None and user.has_duty(*services.POSTERS)


def thread_context(user: User, thread: Thread) -> dict[str, Any]:
    now = servertime.now()
    party = user.unit_id in {thread.from_unit_id, thread.to_unit_id}
    return {
        "thread": thread,
        "case": thread.case,
        "state": thread.state(now),
        "state_label": thread.state_label(now),
        "due_day": last_day(thread.due_at),
        "posts": selectors.messages_of(thread=thread),
        "can_post": party and _may_write(user) and thread.status != ThreadStatus.CLOSED,
        "can_close": thread.status != ThreadStatus.CLOSED
        and (
            user.pk == thread.opened_by_id
            or (user.unit_id == thread.from_unit_id and user.has_duty("leader", "dept_head"))
        ),
        "choices": selectors.citation_choices(case=thread.case),
        "stage_label": STAGE_LABELS.get(thread.stage, "") if thread.stage else "",  # type: ignore[call-overload]
    }


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    box = request.GET.get("box", "in")
    if box not in selectors.BOXES:
        box = "in"
    state = request.GET.get("state", "")
    if state not in STATE_LABELS:
        state = ""
    threads = list(selectors.board_inbox(user=user, box=box, state=state)[:200])
    now = servertime.now()
    rows = [(t, t.state(now), t.state_label(now), last_day(t.due_at)) for t in threads]
    context = {
        "rows": rows,
        "box": box,
        "state": state,
        "boxes": BOX_LABELS,
        "states": STATE_LABELS,
        "answer_days": [(ThreadKind(k).label, d) for k, d in ANSWER_WORKING_DAYS.items()],
    }
    return render(request, "board/inbox.html", context)


@login_required
@domain_errors
@require_GET
def thread(request: HttpRequest, thread_id: int) -> HttpResponse:
    user = _me(request)
    found = selectors.thread_get_visible(user=user, thread_id=thread_id)
    return render(request, "board/thread.html", thread_context(user, found))


@login_required
@domain_errors
@require_POST
def post(request: HttpRequest, thread_id: int) -> HttpResponseBase:
    """A reply. With HTMX the thread body is swapped in place (messages and a fresh form); a refusal
    re-renders the form with the message and the 4xx status, keeping what was typed."""
    user = _me(request)
    try:
        services.message_post(
            user=user,
            thread_id=thread_id,
            text=request.POST.get("text", ""),
            citations=citations_from_post(request),
            attachments=attachments_from_post(request),
        )
    except DomainError as exc:
        if not request.headers.get("HX-Request"):
            raise
        found = selectors.thread_get_visible(user=user, thread_id=thread_id)
        context = {**thread_context(user, found), "error": exc, "text": request.POST.get("text", "")}
        return render(request, "board/_thread_body.html", context, status=exc.status)
    if request.headers.get("HX-Request"):
        found = selectors.thread_get_visible(user=user, thread_id=thread_id)
        return render(request, "board/_thread_body.html", {**thread_context(user, found), "posted": True})
    messages.success(request, "已回复")
    return redirect("board:thread", thread_id=thread_id)


@login_required
@domain_errors
@require_POST
def close(request: HttpRequest, thread_id: int) -> HttpResponse:
    services.thread_close(user=_me(request), thread_id=thread_id, note=request.POST.get("note", ""))
    messages.success(request, "留言已关闭")
    return redirect("board:thread", thread_id=thread_id)


@login_required
@domain_errors
@require_GET
def attachment(request: HttpRequest, attachment_id: int) -> HttpResponseBase:
    found = selectors.attachment_get_visible(user=_me(request), attachment_id=attachment_id)
    response = FileResponse(
        blobs.blob_open(found.blob), content_type=found.blob.content_type, filename=found.name
    )
    response["Cache-Control"] = "private, max-age=86400, immutable"
    return response


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def thread_new(request: HttpRequest, case_id: int) -> HttpResponse:
    """The 发起留言 dialog of the case page (HTMX into ``#dlg-body``): on success the browser goes
    to the new thread; a refusal shows the form again with the message."""
    user = _me(request)
    case = case_get_visible(user=user, case_id=case_id)
    context: dict[str, Any] = {
        "case": case,
        "units": selectors.addressable_units(user=user, case=case),
        "kinds": [(k.value, k.label, ANSWER_WORKING_DAYS[k.value]) for k in ThreadKind],
        "stages": list(STAGE_LABELS.items()),
        "choices": selectors.citation_choices(case=case),
        "form": request.POST,
    }
    if request.method == "POST":
        try:
            created = services.thread_open(
                user=user,
                case_id=case.pk,
                to_unit_id=_optional_int(request.POST.get("to_unit"), "收件单位") or 0,
                kind=request.POST.get("kind", ""),
                subject=request.POST.get("subject", ""),
                text=request.POST.get("text", ""),
                stage=request.POST.get("stage", ""),
                instrument_id=_optional_int(request.POST.get("instrument"), "所涉文书"),
                citations=citations_from_post(request),
                attachments=attachments_from_post(request),
            )
        except DomainError as exc:
            return render(request, "board/_thread_form.html", {**context, "error": exc}, status=exc.status)
        messages.success(request, f"已向{created.to_unit.name}发起{created.get_kind_display()}")
        url = reverse("board:thread", args=[created.pk])
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)
    return render(request, "board/_thread_form.html", context)
