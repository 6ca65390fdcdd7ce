"""Chinese search words: the same phrase is found however jieba cut the page."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.factories import City, register_case
from xietong.cases.models import Case
from xietong.dossier import search
from xietong.dossier.models import Blob, Page, Volume


def _indexed_page(city: City, text: str) -> int:
    case_id = register_case(city)
    blob = Blob.objects.create(sha256="0" * 64, size=1, content_type="image/jpeg", created_at=timezone.now())
    volume = Volume.objects.create(
        case_id=case_id,
        number=1,
        title="卷",
        source=blob,
        source_name="a.pdf",
        page_count=1,
        uploaded_by=city.u("gusu.police"),
        uploaded_at=timezone.now(),
    )
    page = Page.objects.create(volume=volume, number=1, image=blob, thumb=blob, width=1, height=1, text=text)
    search.index_page(page_id=page.pk, case_id=case_id, text=text)
    return case_id


@pytest.mark.parametrize(
    ("page", "query", "found"),
    [
        ("张伟在木渎镇盗窃电动自行车一辆。", "电动自行车", True),
        ("经鉴定，涉案电动自行车价值三千二百元。", "电动自行车", True),
        ("被害人通过支付宝转账人民币三千元。", "支付宝 转账", True),
        ("被害人通过支付宝转账人民币三千元。", "微信", False),
        ("犯罪嫌疑人李某冒充客服实施诈骗。", "冒充客服", True),
    ],
)
def test_phrases_are_found_however_the_page_was_cut(city: City, page: str, query: str, found: bool) -> None:
    _indexed_page(city, page)
    assert bool(search.search_pages(cases=Case.objects.all(), query=query)) is found


def test_search_is_limited_to_the_cases_given(city: City) -> None:
    case_id = _indexed_page(city, "被害人通过支付宝转账人民币三千元。")
    assert search.search_pages(cases=Case.objects.exclude(pk=case_id), query="支付宝") == []


def test_snippet_marks_the_query_words() -> None:
    text, spans = search.snippet("前文" * 30 + "被害人通过支付宝转账人民币三千元。", "支付宝")
    assert text.startswith("…")
    assert [text[a:b] for a, b in spans] == ["支付宝"]
