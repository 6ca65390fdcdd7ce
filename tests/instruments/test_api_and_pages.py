"""The instruments API (token) and the public verification endpoints."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.api.test_api import client_for
from tests.factories import City, register_case
from tests.instruments.conftest import act
from xietong.cases.models import Party
from xietong.instruments import services


def test_draft_approve_seal_and_verify_through_the_api(city: City) -> None:
    case_id = register_case(city)
    parties = list(Party.objects.filter(case_id=case_id).values_list("pk", flat=True))
    act(city, "gusu.police_leader", case_id, "detain", party_ids=parties)
    handler, leader = client_for(city, "gusu.police"), client_for(city, "gusu.police_leader")
    made = handler.post(f"/api/v1/cases/{case_id}/instruments", {"kind": "拘留通知书"}, format="json")
    assert made.status_code == 201, made.content
    pk = made.json()["id"]
    assert "刑事拘留" in made.json()["body"]
    edited = handler.patch(
        f"/api/v1/instruments/{pk}", {"body": "张1的家属：\n特此通知。", "expected_version": 1}, format="json"
    )
    assert edited.status_code == 200 and edited.json()["version"] == 2
    stale = handler.patch(f"/api/v1/instruments/{pk}", {"body": "x", "expected_version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "version_mismatch"
    assert handler.post(f"/api/v1/instruments/{pk}/submit").status_code == 200
    refused = handler.post(f"/api/v1/instruments/{pk}/approve")
    assert refused.status_code == 403 and refused.json()["code"] == "duty_required"
    assert leader.post(f"/api/v1/instruments/{pk}/approve").status_code == 200
    sealed = handler.post(f"/api/v1/instruments/{pk}/seal", HTTP_IDEMPOTENCY_KEY="seal-1")
    again = handler.post(f"/api/v1/instruments/{pk}/seal", HTTP_IDEMPOTENCY_KEY="seal-1")
    assert sealed.status_code == 200 and again.json() == sealed.json()  # a retried call seals once
    assert sealed.json()["number"].endswith("〕1号")
    assert handler.post(f"/api/v1/instruments/{pk}/bogus").status_code == 400
    pdf = handler.get(f"/api/v1/instruments/{pk}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"

    public = APIClient()
    checked = public.post(
        "/api/v1/verify", {"file": SimpleUploadedFile("a.pdf", pdf.content)}, format="multipart"
    )
    assert checked.status_code == 200 and checked.json()["verdict"] == "valid"
    assert checked.json()["instrument"]["number"] == sealed.json()["number"]
    missing = public.post("/api/v1/verify", {}, format="multipart")
    assert missing.status_code == 400 and missing.json()["code"] == "file_required"
    assert client_for(city, "wuzhong.police").get(f"/api/v1/instruments/{pk}").status_code == 404


def test_public_pages_need_no_login(city: City, client) -> None:
    page = client.get("/verify/")
    assert page.status_code == 200 and "电子印章文书核验" in page.content.decode()
    assert client.get("/verify/ca.pem").content.startswith(b"-----BEGIN CERTIFICATE-----")
    assert client.get("/verify/t/not-a-token").status_code == 404
    junk = client.post("/verify/", {"file": SimpleUploadedFile("x.pdf", b"garbage")})
    assert junk.status_code == 200 and "无法核验" in junk.content.decode()
    assert services.authority_certificate_der()


def test_alerts_are_shown_to_supervisors_not_to_handlers(city: City, client) -> None:
    from xietong.supervision.services import alert_raise

    alert_raise(kind="backdate", message="倒签测试", unit_id=city.counties["gusu"].police.pk)
    client.force_login(city.u("committee"))
    assert "倒签测试" in client.get("/supervision/alerts/").content.decode()
    client.force_login(city.u("gusu.police_leader"))
    assert "倒签测试" in client.get("/supervision/alerts/?kind=backdate").content.decode()
    client.force_login(city.u("wuzhong.police_leader"))
    assert "倒签测试" not in client.get("/supervision/alerts/").content.decode()
    client.force_login(city.u("gusu.police"))
    assert "倒签测试" not in client.get("/supervision/alerts/").content.decode()


def test_a_missed_service_deadline_raises_one_alert(city: City) -> None:
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from xietong.supervision.models import Alert
    from xietong.supervision.services import service_overdue_sweep

    case_id = register_case(city)
    parties = list(Party.objects.filter(case_id=case_id).values_list("pk", flat=True))
    act(city, "gusu.police_leader", case_id, "detain", party_ids=parties)  # 拘留通知书 within 24 hours
    assert service_overdue_sweep() == 0
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert service_overdue_sweep() == 1
        assert service_overdue_sweep() == 0  # once
    alert = Alert.objects.get(kind="service_overdue")
    assert "拘留通知书" in alert.message and alert.case_id == case_id


def test_the_number_register_refuses_a_bad_year(city: City, client) -> None:
    client.force_login(city.u("gusu.police"))
    assert client.get("/instruments/register/").status_code == 200
    bad = client.get("/instruments/register/?year=abc")
    assert bad.status_code == 400 and "年份" in bad.content.decode()
    assert client.get("/instruments/register/?year=1999").status_code == 400


def test_arrest_request_and_decision_through_the_api(city: City) -> None:
    case_id = register_case(city)
    parties = list(Party.objects.filter(case_id=case_id).values_list("pk", flat=True))
    police, police_leader = client_for(city, "gusu.police"), client_for(city, "gusu.police_leader")
    procu, procu_leader = client_for(city, "gusu.procu"), client_for(city, "gusu.procu_leader")
    assert (
        police_leader.post(
            f"/api/v1/cases/{case_id}/actions/detain", {"party_ids": parties}, format="json"
        ).status_code
        == 200
    )
    done = police_leader.post(
        f"/api/v1/cases/{case_id}/actions/request_arrest", {"party_ids": parties}, format="json"
    )
    request_id = done.json()["instrument"]["id"]
    assert police.post(f"/api/v1/instruments/{request_id}/submit").status_code == 200
    assert police_leader.post(f"/api/v1/instruments/{request_id}/approve").status_code == 200
    sealed = police.post(f"/api/v1/instruments/{request_id}/seal").json()
    assert sealed["status"] == "sealed" and sealed["services"][0]["recipient_unit"] == "姑苏区人民检察院"
    inbox = procu.get("/api/v1/inbox").json()
    transfer_id = next(t["id"] for t in inbox["results"] if t["case_id"] == case_id)
    assert procu.post(f"/api/v1/transfers/{transfer_id}/accept", {}, format="json").status_code == 200
    opened = procu.get(f"/api/v1/instruments/{request_id}/pdf")
    assert opened.status_code == 200
    assert police.get(f"/api/v1/instruments/{request_id}").json()["services"][0]["opened_at"]
    decided = procu_leader.post(f"/api/v1/cases/{case_id}/actions/approve_arrest", {}, format="json")
    decision_id = decided.json()["instrument"]["id"]
    assert sealed["number"] in procu.get(f"/api/v1/instruments/{decision_id}").json()["body"]
    assert procu.post(f"/api/v1/instruments/{decision_id}/submit").status_code == 200
    assert procu_leader.post(f"/api/v1/instruments/{decision_id}/approve").status_code == 200
    decision = procu.post(f"/api/v1/instruments/{decision_id}/seal").json()
    assert decision["services"][0]["recipient_unit"] == "姑苏区公安分局"
    for pk in (request_id, decision_id):
        pdf = police.get(f"/api/v1/instruments/{pk}/pdf").content
        upload = {"file": SimpleUploadedFile("x.pdf", pdf)}
        assert APIClient().post("/api/v1/verify", upload, format="multipart").json()["verdict"] == "valid"
