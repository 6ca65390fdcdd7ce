"""Pages of the case file: uploader, volume list with live progress, reader, search."""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_POST

from xietong.cases.selectors import case_get_visible
from xietong.dossier import blobs, selectors, services
from xietong.dossier.models import Blob, VolumeStatus
from xietong.dossier.render import QUALITY_LABELS
from xietong.errors import ValidationFailed
from xietong.web.views import _me, domain_errors


@login_required
@domain_errors
def case_files(request: HttpRequest, case_id: int) -> HttpResponse:
    """The volumes of a case with their progress; polled by HTMX while any is being processed."""
    user = _me(request)
    case = case_get_visible(user=user, case_id=case_id)
    volumes = list(selectors.volumes_of_case(user=user, case_id=case.pk))
    evidence = list(selectors.evidence_of_case(user=user, case_id=case.pk))
    context = {
        "case": case,
        "volumes": volumes,
        "evidence": evidence,
        "busy": any(v.status not in {VolumeStatus.READY, VolumeStatus.FAILED} for v in volumes),
        "can_upload": user.unit_id == case.holder_unit_id,
    }
    template = "dossier/_volumes.html" if request.headers.get("HX-Request") else "dossier/case_files.html"
    return render(request, template, context)


@login_required
@domain_errors
def volume_reader(request: HttpRequest, volume_id: int) -> HttpResponse:
    user = _me(request)
    volume = selectors.volume_get_visible(user=user, volume_id=volume_id)
    pages = list(volume.pages.only("id", "number", "width", "height", "ocr_status", "quality"))
    flagged = [(p.number, [QUALITY_LABELS[f] for f in p.quality]) for p in pages if p.quality]
    context = {
        "volume": volume,
        "case": volume.case,
        "pages": pages,
        "catalogue": selectors.catalogue(volume=volume),
        "kinds": services.CATALOGUE_KINDS,
        "flagged": flagged,
        "can_edit": user.unit_id == volume.case.holder_unit_id,
        "sealed": services.volume_is_sealed(volume),
    }
    return render(request, "dossier/reader.html", context)


def _blob_response(request: HttpRequest, blob: Blob) -> HttpResponseBase:
    etag = f'"{blob.sha256}"'
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified()
    response = FileResponse(blobs.blob_open(blob), content_type=blob.content_type)
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=86400, immutable"
    return response


@login_required
@domain_errors
def page_image(request: HttpRequest, page_id: int) -> HttpResponseBase:
    user = _me(request)
    page = selectors.page_get_visible(user=user, page_id=page_id)
    services.page_view_log(user=user, page=page)  # every page view is logged, cached or not
    return _blob_response(request, page.image)


@login_required
@domain_errors
def page_thumb(request: HttpRequest, page_id: int) -> HttpResponseBase:
    page = selectors.page_get_visible(user=_me(request), page_id=page_id)
    return _blob_response(request, page.thumb)


_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


@login_required
@domain_errors
def evidence_media(request: HttpRequest, evidence_id: int) -> HttpResponseBase:
    """Audio and video with HTTP range requests, so the browser can seek without downloading all."""
    user = _me(request)
    evidence = selectors.evidence_get_visible(user=user, evidence_id=evidence_id)
    services.evidence_view_log(user=user, evidence=evidence)
    return blob_range_response(request, evidence.blob)


def blob_range_response(request: HttpRequest, blob: Blob) -> HttpResponseBase:
    """A blob with HTTP range requests (RFC 9110 §14), so a player can seek without downloading all;
    also used by the courtroom's screens."""
    match = _RANGE.match(request.headers.get("Range", "").strip())
    if not match or not (match.group(1) or match.group(2)):
        response = _blob_response(request, blob)
        response["Accept-Ranges"] = "bytes"
        return response
    start_text, end_text = match.groups()
    if start_text:
        start = int(start_text)
        end = min(int(end_text), blob.size - 1) if end_text else blob.size - 1
    else:  # suffix range: the last N bytes
        start, end = max(0, blob.size - int(end_text)), blob.size - 1
    if start > end or start >= blob.size:
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{blob.size}"
        return refused
    partial = StreamingHttpResponse(
        blobs.blob_read_range(blob, start, end), status=206, content_type=blob.content_type
    )
    partial["Content-Range"] = f"bytes {start}-{end}/{blob.size}"
    partial["Content-Length"] = str(end - start + 1)
    partial["Accept-Ranges"] = "bytes"
    partial["Cache-Control"] = "private, max-age=86400"
    return partial


@login_required
@domain_errors
@require_POST
def catalogue_save(request: HttpRequest, volume_id: int) -> HttpResponse:
    user = _me(request)
    titles = request.POST.getlist("title")
    kinds = request.POST.getlist("kind")
    starts = request.POST.getlist("start_page")
    ends = request.POST.getlist("end_page")
    entries = []
    for title, kind, start, end in zip(titles, kinds, starts, ends, strict=False):
        if not title.strip() and not start and not end:
            continue
        try:
            entries.append(
                services.EntryInput(title=title, kind=kind, start_page=int(start), end_page=int(end))
            )
        except ValueError as exc:
            raise ValidationFailed("页码须为整数", code="catalogue_invalid") from exc
    try:
        expected = int(request.POST.get("version", "0"))
    except ValueError:
        expected = 0
    services.catalogue_save(user=user, volume_id=volume_id, entries=entries, expected_version=expected)
    volume = selectors.volume_get_visible(user=user, volume_id=volume_id)
    return render(
        request,
        "dossier/_catalogue.html",
        {
            "volume": volume,
            "catalogue": selectors.catalogue(volume=volume),
            "kinds": services.CATALOGUE_KINDS,
            "can_edit": True,
            "saved": True,
            "sealed": services.volume_is_sealed(volume),
        },
    )


@login_required
@domain_errors
def search_page(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    results = selectors.search_case_files(user=_me(request), query=query, limit=50) if query else []
    return render(request, "dossier/search.html", {"q": query, "results": results})
