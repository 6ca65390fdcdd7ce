"""``/api/v1/analytics/…``: figures of the caller's visible cases, warnings, bad filters as 400."""

from __future__ import annotations

from datetime import date

from rest_framework.test import APIClient

from tests.analytics.factories import make_facts
from tests.factories import City
from xietong.analytics.models import TrendWarning


def client(city: City, who: str) -> APIClient:
    c = APIClient()
    c.force_authenticate(city.u(who))
    return c


def test_figures_cover_only_the_callers_cases_and_group_them(city: City) -> None:
    make_facts(city, [{"county": "gusu", "charge": "诈骗罪"}] * 3 + [{"county": "wuzhong"}] * 2)
    body = client(city, "gusu.judge").get("/api/v1/analytics/figures", {"group": "charge"}).json()
    assert body["summary"]["total"] == 3 and body["groups"][0]["label"] == "诈骗罪"
    assert body["trend"] == [{"period": "2025-01", "count": 3, "yoy": None, "mom": None}]
    city_wide = client(city, "committee").get("/api/v1/analytics/figures", {"period": "year"}).json()
    assert city_wide["summary"]["total"] == 5 and city_wide["trend"][0]["period"] == "2025"


def test_bad_filters_answer_400_with_a_stable_code(city: City) -> None:
    api = client(city, "committee")
    for params in ({"group": "salary"}, {"date_from": "去年"}, {"period": "week"}, {"amount_max": "-1"}):
        response = api.get("/api/v1/analytics/figures", params)
        assert response.status_code == 400 and response.json()["code"] == "bad_filter", params
    assert APIClient().get("/api/v1/analytics/figures").status_code in (401, 403)


def test_warnings_list_for_those_who_may_see_them(city: City) -> None:
    TrendWarning.objects.create(
        region=city.counties["gusu"].towns[0], charge="诈骗罪", month=date(2025, 10, 1), observed=20,
        expected=3.0, threshold=9.0, p_value=1e-6, reason="10 月 20 件", evidence={"series": [3, 20]},
    )  # fmt: skip
    rows = client(city, "committee").get("/api/v1/analytics/warnings").json()
    assert rows[0]["month"] == "2025-10" and rows[0]["observed"] == 20
    assert client(city, "wuzhong.police_leader").get("/api/v1/analytics/warnings").json() == []
