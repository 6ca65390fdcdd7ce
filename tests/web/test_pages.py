"""Server-rendered pages: each page a person uses, its refusals, and an act through a dialog."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import PASSWORD, City, register_case
from xietong.cases.models import Case, Transfer


def login(city: City, who: str) -> Client:
    client = Client()
    client.force_login(city.u(who))
    return client


def test_login_page_and_redirect(city: City) -> None:
    client = Client()
    assert client.get("/").status_code == 302
    page = client.get("/login/")
    assert page.status_code == 200 and "登录" in page.content.decode()
    wrong = client.post("/login/", {"username": "gusu_police", "password": "wrong"})
    assert "用户名或密码错误" in wrong.content.decode()
    ok = client.post("/login/", {"username": "gusu_police", "password": PASSWORD})
    assert ok.status_code == 302


@pytest.mark.parametrize("path", ["/", "/cases/", "/cases/new/", "/deadlines/", "/cases/?q=张1"])
def test_pages_render_for_a_police_handler(city: City, path: str) -> None:
    register_case(city)
    response = login(city, "gusu.police").get(path)
    assert response.status_code == 200
    assert "协同" in response.content.decode()


def test_case_page_shows_parties_clocks_timeline_and_actions(city: City) -> None:
    case_id = register_case(city)
    page = login(city, "gusu.police").get(f"/cases/{case_id}/").content.decode()
    for text in ("张1", "侦查", "办案轨迹", "立案", "刑事拘留", "移送审查起诉"):
        assert text in page


def test_case_of_another_county_is_a_404_page(city: City) -> None:
    case_id = register_case(city)
    response = login(city, "wuzhong.police").get(f"/cases/{case_id}/")
    assert response.status_code == 404 and "案件不存在或无权查看" in response.content.decode()


def test_act_through_the_dialog_then_accept_in_the_other_agency(city: City) -> None:
    case_id = register_case(city)
    police = login(city, "gusu.police_leader")
    form = police.get(f"/cases/{case_id}/act/transfer_for_prosecution/", HTTP_HX_REQUEST="true")
    assert form.status_code == 200 and "起诉意见书" in form.content.decode()
    version = Case.objects.get(pk=case_id).version
    done = police.post(
        f"/cases/{case_id}/act/transfer_for_prosecution/", {"version": version}, HTTP_HX_REQUEST="true"
    )
    assert done.status_code == 204 and done["HX-Redirect"] == f"/cases/{case_id}/"
    transfer = Transfer.objects.get(case_id=case_id)
    procu = login(city, "gusu.procu")
    assert "待受理移送" in procu.get("/").content.decode()
    accepted = procu.post(f"/transfers/{transfer.pk}/accept/")
    assert accepted.status_code == 302
    assert Case.objects.get(pk=case_id).holder_unit == city.counties["gusu"].procuratorate


def test_refused_act_shows_the_reason_in_the_dialog(city: City) -> None:
    case_id = register_case(city)
    response = login(city, "gusu.police_leader").post(
        f"/cases/{case_id}/act/resubmit/", {"version": 1}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 409 and "不能办理「补充侦查完毕重新移送」" in response.content.decode()


def test_stale_form_is_refused(city: City) -> None:
    case_id = register_case(city)
    response = login(city, "gusu.police_leader").post(
        f"/cases/{case_id}/act/transfer_for_prosecution/", {"version": 99}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 409 and "已被他人更新" in response.content.decode()


def test_register_through_the_form_as_handler_needs_approval(city: City) -> None:
    client = login(city, "gusu.police")
    town = city.counties["gusu"].towns[0]
    response = client.post(
        "/cases/new/",
        {
            "charge": "盗窃罪",
            "town": town.pk,
            "occurred_at": "2026-11-01T10:00",
            "facts": "盗窃电动车一辆。",
            "suspect_name": "王五",
            "suspect_gender": "男",
            "more_suspects": "赵六,女",
        },
    )
    assert response.status_code == 302 and Case.objects.count() == 0
    leader = login(city, "gusu.police_leader")
    assert "新立案：盗窃罪，王五" in leader.get("/").content.decode()


def test_deadline_calculator_page_is_public(db: None) -> None:
    response = Client().get("/deadlines/?rule=arrest_request&start=2025-03-01T22:00&in_custody=true")
    assert response.status_code == 200 and "2025年3月4日" in response.content.decode()
    bad = Client().get("/deadlines/?rule=arrest_request&start=nonsense")
    assert bad.status_code == 400 and "ISO-8601" in bad.content.decode()


def test_healthz(db: None) -> None:
    assert Client().get("/healthz").json()["status"] == "ok"
