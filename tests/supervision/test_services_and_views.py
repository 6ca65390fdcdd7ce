"""Answering alerts (who may, what it records), who sees which alert, the pages and the live push."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import City, register_case
from xietong import servertime
from xietong.errors import NotAllowed, ValidationFailed
from xietong.ledger.models import LedgerEntry
from xietong.supervision import selectors, services
from xietong.supervision.models import Alert


def planted(city: City, **fields: object) -> Alert:
    case_id = register_case(city)
    county = city.counties["gusu"]
    values = {
        "kind": "time_borrowing",
        "rule": "supplementary.hollow",
        "severity": "warning",
        "case_id": case_id,
        "unit": county.police,
        "user": city.u("gusu.police"),
        "supervisor_unit": county.procuratorate,
        "message": "退回补充侦查后未补充材料即重新移送",
        "details": {
            "entries": [{"seq": 1, "action": "resubmit", "label": "重新移送", "at": "2026-03-01 10:00"}]
        },
        "raised_at": servertime.now(),
        "key": f"test:{case_id}",
        **fields,
    }
    return Alert.objects.create(**values)


def test_the_handler_explains_and_it_is_recorded_in_the_case_ledger(city: City) -> None:
    alert = planted(city)
    services.alert_respond(
        user=city.u("gusu.police"), alert_id=alert.pk, kind="explain", note="补充材料已当面移交"
    )
    alert.refresh_from_db()
    assert alert.status == "explained" and alert.resolved_at is not None
    entry = LedgerEntry.objects.filter(case_id=alert.case_id).order_by("-seq").first()
    assert entry is not None and entry.action == "alert_response" and "补充材料已当面移交" in entry.payload


def test_who_may_answer_what(city: City) -> None:
    alert = planted(city)
    with pytest.raises(NotAllowed):  # another county's leader
        services.alert_respond(user=city.u("wuzhong.police_leader"), alert_id=alert.pk, kind="acknowledge")
    with pytest.raises(NotAllowed):  # the supervisor acknowledges but does not explain for the police
        services.alert_respond(user=city.u("gusu.procu_leader"), alert_id=alert.pk, kind="explain", note="x")
    services.alert_respond(user=city.u("gusu.procu_leader"), alert_id=alert.pk, kind="acknowledge")
    with pytest.raises(ValidationFailed, match="须写明"):
        services.alert_respond(user=city.u("gusu.police_leader"), alert_id=alert.pk, kind="rectify", note=" ")
    with pytest.raises(ValidationFailed):
        services.alert_respond(user=city.u("gusu.police_leader"), alert_id=alert.pk, kind="shrug", note="x")
    services.alert_respond(
        user=city.u("gusu.police_leader"), alert_id=alert.pk, kind="rectify", note="已整改"
    )
    assert [r.kind for r in alert.responses.all()] == ["acknowledge", "rectify"]


def test_who_sees_an_alert(city: City) -> None:
    alert = planted(city)
    sees = {
        name: selectors.alerts_visible_to(user=city.u(name)).filter(pk=alert.pk).exists()
        for name in (
            "gusu.police", "gusu.police_leader", "gusu.procu_leader", "committee", "city_police_leader",
            "wuzhong.police_leader", "wuzhong.procu_leader", "gusu.procu", "gusu.judge",
        )
    }  # fmt: skip
    assert sees == {
        "gusu.police": True,  # his own act
        "gusu.police_leader": True,
        "gusu.procu_leader": True,  # the supervising procuratorate
        "committee": True,
        "city_police_leader": True,  # the unit above
        "wuzhong.police_leader": False,
        "wuzhong.procu_leader": False,
        "gusu.procu": False,  # a prosecutor who is not a leader
        "gusu.judge": False,
    }


def test_pages_answer_and_refuse_in_chinese(city: City, client: Client) -> None:
    alert = planted(city)
    client.force_login(city.u("gusu.police"))
    assert "退回补充侦查后未补充材料" in client.get("/supervision/alerts/").content.decode()
    page = client.get(f"/supervision/alerts/{alert.pk}/").content.decode()
    assert "重新移送" in page and "supplementary.hollow" in page
    assert client.get("/supervision/alerts/count").json() == {"open": 1}
    response = client.post(f"/supervision/alerts/{alert.pk}/respond", {"kind": "explain", "note": ""})
    assert response.status_code == 400 and "须写明" in response.content.decode()
    response = client.post(f"/supervision/alerts/{alert.pk}/respond", {"kind": "explain", "note": "已说明"})
    assert response.status_code == 302
    assert client.get("/supervision/oversight/").status_code == 403  # a handler is not a leader
    client.force_login(city.u("wuzhong.police_leader"))
    assert client.get(f"/supervision/alerts/{alert.pk}/").status_code == 404
    client.force_login(city.u("gusu.procu_leader"))
    page = client.get("/supervision/oversight/?family=prosecution_review&progress=0").content.decode()
    assert "按办案期限查询" in page and "单位指标" in page
    assert client.get("/supervision/oversight/?progress=abc").status_code == 400


def test_the_clock_query_shows_a_leader_only_the_cases_his_unit_took_part_in(city: City) -> None:
    """刑诉法第172条: 审查起诉 runs a month; a leader asks which cases have used any of it."""
    from tests.cases.test_services_lifecycle import accept, act
    from tests.factories import register_case
    from xietong.supervision import oversight

    case_id = register_case(city)
    act(city, "gusu.police_leader", case_id, "transfer_for_prosecution")
    accept(city, "gusu.procu", case_id)
    query = oversight.ClockQuery(family="prosecution_review", progress=0)

    def seen(who: str, **changes: object) -> set[int]:
        asked = oversight.ClockQuery(**{**query.__dict__, **changes})  # type: ignore[arg-type]
        return {hit.clock.case_id for hit in oversight.clocks_past(user=city.u(who), query=asked)}

    assert case_id in seen("gusu.procu_leader") and case_id in seen("gusu.police_leader")
    assert case_id not in seen("wuzhong.procu_leader")  # another district's procuratorate
    gusu, wuzhong = city.counties["gusu"].region.pk, city.counties["wuzhong"].region.pk
    assert case_id in seen("committee", county=gusu) and case_id not in seen("committee", county=wuzhong)
