"""The analytics pages: dashboard and drill-down, reports and exports, 智能查询 with saved queries,
correlation, warnings and the annual report form; bad input and other units' cases."""

from __future__ import annotations

import io
from datetime import date

from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from tests.analytics.factories import make_facts
from tests.factories import City
from xietong.analytics.models import SavedQuery, TrendWarning
from xietong.security.models import AuditEvent

THIS_YEAR = timezone.localdate().year


def login(city: City, who: str) -> Client:
    c = Client()
    c.force_login(city.u(who))
    return c


def some_facts(city: City) -> None:
    month = date(THIS_YEAR, 1, 1)
    make_facts(city, [{"county": "gusu", "town": 0, "charge": "诈骗罪", "month": month}] * 3)
    make_facts(city, [{"county": "gusu", "town": 1, "month": month, "outcome": "pending"}] * 2)
    make_facts(city, [{"county": "wuzhong", "town": 0, "month": month, "charge": "抢劫罪"}] * 4)


def test_dashboard_drills_from_city_to_district_to_town_to_cases(city: City) -> None:
    some_facts(city)
    committee = login(city, "committee")
    page = committee.get("/analytics/").content.decode()
    gusu, wuzhong = city.counties["gusu"].region, city.counties["wuzhong"].region
    assert "全市" in page and f"county={gusu.pk}" in page and "吴中区" in page and "抢劫罪" in page
    assert '<span class="num">9</span>' in page and "上年同期 0" in page  # the year runs: same days last year
    district = committee.get("/analytics/", {"county": gusu.pk}).content.decode()
    town = city.counties["gusu"].towns[0]
    assert (
        '<span class="num">5</span>' in district
        and f"town={town.pk}" in district
        and ">吴中区<" not in district
    )
    in_town = committee.get("/analytics/", {"county": gusu.pk, "town": town.pk}).content.decode()
    assert '<span class="num">3</span>' in in_town and "案件清单（3 件）" in in_town
    cases = committee.get("/analytics/cases/", {"town": town.pk, "year": THIS_YEAR}).content.decode()
    assert "共 3 件" in cases and cases.count("/cases/") >= 3
    assert wuzhong.name not in cases


def test_a_unit_sees_only_its_own_cases_in_every_figure(city: City) -> None:
    some_facts(city)
    gusu = login(city, "gusu.procu")
    page = gusu.get("/analytics/").content.decode()
    assert '<span class="num">5</span>' in page and "抢劫罪" not in page
    wuzhong_region = city.counties["wuzhong"].region
    other = gusu.get("/analytics/", {"county": wuzhong_region.pk}).content.decode()
    assert '<span class="num">0</span>' in other
    listed = gusu.get("/analytics/cases/", {"county": wuzhong_region.pk}).content.decode()
    assert "共 0 件" in listed
    report = gusu.get("/analytics/reports/", {"by": "court_unit", "year": THIS_YEAR}).content.decode()
    assert "姑苏区人民法院" in report and "吴中区人民法院" not in report


def test_a_county_unit_compares_the_towns_of_its_county_not_one_bar(city: City) -> None:
    some_facts(city)
    page = login(city, "gusu.procu").get("/analytics/").content.decode()
    gusu = city.counties["gusu"]
    towns = gusu.towns[0], gusu.towns[1]
    assert "各镇（街道）比较" in page and "各区县比较" not in page
    for town in towns:
        assert f"county={gusu.region.pk}&amp;town={town.pk}" in page  # a bar drills into its town
        assert f">{town.name}<" in page
    # 政法委 sees the city: the counties are compared
    assert "各区县比较" in login(city, "committee").get("/analytics/").content.decode()


def test_bad_parameters_get_a_clear_400(city: City) -> None:
    committee = login(city, "committee")
    for url, params in (
        ("/analytics/", {"year": "明年"}),
        ("/analytics/", {"county": "-3"}),
        ("/analytics/cases/", {"month": "2025/13"}),
        ("/analytics/reports/", {"by": "salary"}),
        ("/analytics/reports/", {"period": "decade"}),
        ("/analytics/query/", {"group": "nothing"}),
        ("/analytics/query/", {"amount_min": "很多"}),
        ("/analytics/annual/", {"format": "pdf", "year": "1800"}),
    ):
        response = committee.get(url, params)
        assert response.status_code == 400, (url, params)
        assert (
            "应为" in response.content.decode()
            or "不能" in response.content.decode()
            or "格式" in response.content.decode()
        )


def test_reports_and_case_lists_export_to_excel(city: City) -> None:
    some_facts(city)
    committee = login(city, "committee")
    response = committee.get("/analytics/reports/", {"by": "county", "year": THIS_YEAR, "format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][0].startswith(f"{THIS_YEAR}年案件统计") and rows[3][:2] == ("姑苏区", 5)
    listing = committee.get("/analytics/cases/", {"charge": "抢劫罪", "format": "xlsx"})
    sheet = list(load_workbook(io.BytesIO(listing.content)).active.iter_rows(values_only=True))
    assert sheet[2][0] == "案件编号" and len(sheet) == 3 + 4 and {r[2] for r in sheet[3:]} == {"抢劫罪"}
    exports = AuditEvent.objects.filter(kind="export", user=city.u("committee")).order_by("pk")
    assert [e.what for e in exports] == [f"导出表格：{THIS_YEAR}年案件统计（按区县）", "导出表格：案件清单"]
    assert exports[1].detail == {"charge": "抢劫罪"}


def test_smart_query_groups_saves_shares_and_exports(city: City) -> None:
    some_facts(city)
    police = login(city, "gusu.police")
    page = police.get("/analytics/query/", {"charge": "诈骗罪", "group": "town"}).content.decode()
    assert "结果：3 件" in page and city.counties["gusu"].towns[0].name in page
    saved = police.post(
        "/analytics/query/", {"name": "姑苏诈骗", "charge": "诈骗罪", "group": "town", "shared": "1"}
    )
    assert saved.status_code == 302 and SavedQuery.objects.get().params == {
        "charge": "诈骗罪",
        "group": "town",
    }
    colleague = login(city, "gusu.police_leader").get("/analytics/query/").content.decode()
    assert "姑苏诈骗" in colleague  # shared with his unit
    assert "姑苏诈骗" not in login(city, "wuzhong.police").get("/analytics/query/").content.decode()
    deleted = login(city, "gusu.police_leader").post(
        "/analytics/query/", {"delete": SavedQuery.objects.get().pk}
    )
    assert deleted.status_code == 403 and SavedQuery.objects.exists()
    excel = police.get("/analytics/query/", {"charge": "诈骗罪", "group": "town", "format": "xlsx"})
    assert load_workbook(io.BytesIO(excel.content)).active["B4"].value == 3


def test_correlation_page_and_warnings_with_their_evidence(city: City) -> None:
    some_facts(city)
    town = city.counties["gusu"].towns[0]
    warning = TrendWarning.objects.create(
        region=town,
        charge="诈骗罪",
        month=date(THIS_YEAR, 1, 1),
        observed=31,
        expected=8.2,
        threshold=17.5,
        p_value=1e-7,
        reason="本月 31 件，按往年同期预期 8.2 件",
        evidence={"series": [8, 9, 31], "baseline_months": [0, 1], "first_month": f"{THIS_YEAR - 1}-11-01"},
    )
    assert login(city, "committee").get("/analytics/correlation/").status_code == 200
    board = login(city, "committee").get("/analytics/").content.decode()
    assert "本月 31 件" in board and 'data-series="8,9,31"' in board
    assert login(city, "gusu.police").post(f"/analytics/warnings/{warning.pk}/ack").status_code == 403
    assert (
        "本月 31 件" not in login(city, "wuzhong.police_leader").get("/analytics/warnings/").content.decode()
    )
    assert login(city, "gusu.police_leader").post(f"/analytics/warnings/{warning.pk}/ack").status_code == 302
    warning.refresh_from_db()
    assert warning.status == "acknowledged"
    assert "研判方法" in login(city, "committee").get("/analytics/warnings/").content.decode()
