"""Reads of the case file, always through the case's visibility (F1)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from xietong.cases.selectors import case_get_visible, case_list_visible_to
from xietong.dossier import search
from xietong.dossier.models import CatalogueEntry, Evidence, Page, Volume
from xietong.errors import NotFound
from xietong.orgs.models import User


def volumes_of_case(*, user: User, case_id: int) -> QuerySet[Volume]:
    case = case_get_visible(user=user, case_id=case_id)
    return Volume.objects.filter(case=case).order_by("number")


def evidence_of_case(*, user: User, case_id: int) -> QuerySet[Evidence]:
    case = case_get_visible(user=user, case_id=case_id)
    return Evidence.objects.filter(case=case).select_related("blob").order_by("number")


def evidence_get_visible(*, user: User, evidence_id: int) -> Evidence:
    evidence = Evidence.objects.select_related("blob").filter(pk=evidence_id).first()
    if evidence is None:
        raise NotFound("证据不存在或无权查看", code="evidence_not_found")
    case_get_visible(user=user, case_id=evidence.case_id)
    return evidence


def volume_get_visible(*, user: User, volume_id: int) -> Volume:
    volume = Volume.objects.select_related("case", "source").filter(pk=volume_id).first()
    if volume is None:
        raise NotFound("卷宗不存在或无权查看", code="volume_not_found")
    case_get_visible(user=user, case_id=volume.case_id)  # raises NotFound when not visible
    return volume


def page_get_visible(*, user: User, page_id: int) -> Page:
    page = Page.objects.select_related("volume", "image", "thumb").filter(pk=page_id).first()
    if page is None:
        raise NotFound("页面不存在或无权查看", code="page_not_found")
    case_get_visible(user=user, case_id=page.volume.case_id)
    return page


def catalogue(*, volume: Volume, version: int | None = None) -> list[CatalogueEntry]:
    return list(CatalogueEntry.objects.filter(volume=volume, version=version or volume.catalogue_version))


@dataclass
class SearchResult:
    page: Page
    snippet: str
    spans: list[tuple[int, int]]


def search_case_files(
    *, user: User, query: str, case_id: int | None = None, limit: int = 30, offset: int = 0
) -> list[SearchResult]:
    """OCR text the user may read, best matches first; ``case_id`` narrows to one case."""
    cases = case_list_visible_to(user=user)
    if case_id is not None:
        cases = cases.filter(pk=case_id)
    hits = search.search_pages(cases=cases, query=query, limit=limit, offset=offset)
    pages = Page.objects.select_related("volume", "volume__case").in_bulk([h.page_id for h in hits])
    results = []
    for hit in hits:
        page = pages.get(hit.page_id)
        if page is None:
            continue
        text, spans = search.snippet(page.text, query)
        results.append(SearchResult(page=page, snippet=text, spans=spans))
    return results
