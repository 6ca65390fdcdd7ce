"""The library's pages: search with facets, a record, similar cases, the 类案 panel of a case page
and the leaders' 同案不同判 list."""

from __future__ import annotations

from django.test import Client

from tests.factories import City, register_case
from xietong.cases.models import Case
from xietong.library.consistency import consistency_refresh
from xietong.library.models import Record


def login(city: City, who: str) -> Client:
    c = Client()
    c.force_login(city.u(who))
    return c


def test_search_page_shows_hits_and_facets_that_narrow_it(library: City) -> None:
    page = login(library, "gusu.police").get("/library/", {"q": "支付宝"}).content.decode()
    assert '共 <strong id="lib-total">2</strong> 件' in page and "罪名" in page and "诈骗罪" in page
    narrowed = (
        login(library, "gusu.police").get("/library/", {"q": "支付宝", "charge": "诈骗罪"}).content.decode()
    )
    assert '共 <strong id="lib-total">1</strong> 件' in narrowed and "陈某" in narrowed
    assert "year_from=2019&amp;year_to=2019" in page  # a year facet narrows to that year
    one_year = login(library, "gusu.police").get("/library/", {"year_from": 2019, "year_to": 2019})
    assert '共 <strong id="lib-total">1</strong> 件' in one_year.content.decode()
    bad = login(library, "gusu.police").get("/library/", {"months_min": "x"})
    assert bad.status_code == 400 and "检索条件有误" in bad.content.decode()


def test_a_record_page_offers_the_original_only_to_the_entitled(library: City) -> None:
    record = Record.objects.get(external_id="w-theft-1")
    police = (
        login(library, "gusu.police")
        .get(f"/library/records/{record.pk}/", {"original": "1"})
        .content.decode()
    )
    assert "王建国" not in police and "脱敏文本" in police and "坦白" in police
    keeper = login(library, "librarian")
    assert "王建国" in keeper.get(f"/library/records/{record.pk}/", {"original": "1"}).content.decode()
    form = keeper.get(f"/library/records/{record.pk}/edit")
    assert form.status_code == 200 and "修改说明" in form.content.decode()
    saved = keeper.post(f"/library/records/{record.pk}/edit", {"months": "9", "note": "更正"}, follow=True)
    assert "案例已修改" in saved.content.decode() and Record.objects.get(pk=record.pk).months == 9
    refused = login(library, "gusu.police").post(f"/library/records/{record.pk}/edit", {"months": "1"})
    assert refused.status_code == 403


def test_similar_page_and_the_case_panel_show_how_similar_cases_were_decided(library: City) -> None:
    page = (
        login(library, "gusu.procu")
        .post("/library/similar/", {"text": "被告人用被害人手机通过支付宝转账到自己账户"})
        .content.decode()
    )
    assert "类案如何定罪量刑" in page and "盗窃罪" in page and "similar-chart" in page
    case_id = register_case(library)
    Case.objects.filter(pk=case_id).update(
        facts="被告人趁被害人不备用其手机通过支付宝转账12000元到自己账户。"
    )
    panel = login(library, "gusu.police").get(f"/cases/{case_id}/library-panel").content.decode()
    assert "library-panel" in panel and "盗窃罪" in panel
    assert "类案定性不一" in panel  # 盗窃 and 诈骗 both among the similar cases of a payment-app case
    assert login(library, "wuzhong.police").get(f"/cases/{case_id}/library-panel").status_code == 404
    whole = login(library, "gusu.police").get("/library/similar/", {"case_id": case_id}).content.decode()
    assert "类案如何定罪量刑" in whole and "盗窃罪" in whole
    assert login(library, "wuzhong.police").get("/library/similar/", {"case_id": case_id}).status_code == 404


def test_the_consistency_list_is_for_leaders_and_lists_what_is_far_outside_the_range(library: City) -> None:
    Record.objects.filter(external_id="w-theft-2").update(
        months=180, penalty_kind="fixed_term", penalty_label="有期徒刑十五年"
    )
    from xietong.library.services import collection_touch

    collection_touch(Record.objects.get(external_id="w-theft-2").collection_id)
    assert consistency_refresh() >= 3
    assert login(library, "gusu.police").get("/library/consistency/").status_code == 403
    page = login(library, "committee").get("/library/consistency/").content.decode()
    assert "同案不同判" in page and "有期徒刑十五年" in page and "偏重" in page


def test_a_life_sentence_far_above_its_range_reads_heavier(library: City) -> None:
    Record.objects.filter(external_id="w-theft-1").update(
        months=None, penalty_kind="life", penalty_label="无期徒刑"
    )
    from xietong.library.consistency import consistency_report
    from xietong.library.services import collection_touch

    collection_touch(Record.objects.get(external_id="w-theft-1").collection_id)
    consistency_refresh()
    flags = {f.record.external_id: f.direction for f in consistency_report().flagged}
    assert flags.get("w-theft-1") == "偏重"
