"""``/api/v1/library/…``: similar cases as ``[{"id", "score", "why"}]`` in rank order (GET and POST),
search with facets, a record published or original, bad input as 4xx with a stable code."""

from __future__ import annotations

from rest_framework.test import APIClient

from tests.factories import City
from xietong.library.models import Record, RecordView

PHONE_THEFT = "被告人趁被害人不备，拿走其手机，通过支付宝把被害人账户里的钱转到自己账户，后被抓获。"


def client(city: City, who: str) -> APIClient:
    c = APIClient()
    c.force_authenticate(city.u(who))
    return c


def test_similar_cases_come_ranked_with_their_reasons_by_get_and_post(library: City) -> None:
    api = client(library, "gusu.procu")
    got = api.get("/api/v1/library/similar", {"text": PHONE_THEFT, "k": 3})
    assert got.status_code == 200
    rows = got.json()
    assert len(rows) == 3 and all(set(r) == {"id", "score", "why"} for r in rows)
    assert rows[0]["id"] in {"w-theft-1", "w-theft-2"}
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    assert "盗窃罪" in rows[0]["why"]["charges"]
    posted = api.post("/api/v1/library/similar", {"text": PHONE_THEFT, "k": 3, "passages": 1}, format="json")
    assert [r["id"] for r in posted.json()] == [r["id"] for r in rows]
    assert posted.json()[0]["why"]["passages"]
    only = api.get("/api/v1/library/similar", {"text": PHONE_THEFT, "collection": "nope"}).json()
    assert only == []


def test_bad_similar_requests_get_a_4xx_with_a_stable_code(library: City) -> None:
    api = client(library, "gusu.procu")
    assert api.get("/api/v1/library/similar").json()["code"] == "text_required"
    bad_k = api.get("/api/v1/library/similar", {"text": "盗窃", "k": 0})
    assert bad_k.status_code == 400 and bad_k.json()["code"] == "invalid"
    not_json = api.post("/api/v1/library/similar", "[1]", content_type="application/json")
    assert not_json.status_code == 400
    other_case = api.get("/api/v1/library/similar", {"case_id": 999_999})
    assert other_case.status_code == 404
    assert APIClient().get("/api/v1/library/similar", {"text": "盗窃"}).status_code in {401, 403}


def test_search_filters_and_counts_facets(library: City) -> None:
    api = client(library, "gusu.judge")
    body = api.get("/api/v1/library/records", {"q": "支付宝"}).json()
    assert {r["id"] for r in body["results"]} == {"w-theft-1", "w-fraud-1"}
    assert {f["value"]: f["count"] for f in body["facets"]["charges"]} == {"盗窃罪": 1, "诈骗罪": 1}
    theft = api.get("/api/v1/library/records", {"charge": "盗窃罪", "months_max": 6}).json()
    assert [r["id"] for r in theft["results"]] == ["w-theft-2"]
    assert api.get("/api/v1/library/records", {"months_min": "很多"}).status_code == 400


def test_the_original_is_for_the_entitled_and_every_reading_is_logged(library: City) -> None:
    record = Record.objects.get(external_id="w-theft-1")
    url = f"/api/v1/library/records/{record.pk}"
    judge = client(library, "gusu.judge").get(url, {"original": "1"}).json()
    assert judge["original"] is False and "王建国" not in judge["facts"] and "王某" in judge["facts"]
    keeper = client(library, "librarian").get(url, {"original": "1"}).json()
    assert keeper["original"] is True and "王建国" in keeper["facts"]
    views = list(
        RecordView.objects.filter(record=record).order_by("at").values_list("user__username", "original")
    )
    assert views == [(library.u("gusu.judge").username, False), ("librarian", True)]
    assert client(library, "gusu.judge").get("/api/v1/library/records/999999").status_code == 404
