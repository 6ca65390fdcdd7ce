"""The REST API end to end: tokens, the case flow, error bodies, idempotency, the calculator."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import PASSWORD, City, register_case
from xietong.cases.models import Case, Transfer
from xietong.ledger.models import LedgerEntry


def client_for(city: City, who: str) -> APIClient:
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token", {"username": city.u(who).username, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
    return client


def test_token_with_wrong_password_is_refused_with_a_code(city: City) -> None:
    response = APIClient().post(
        "/api/v1/auth/token", {"username": "gusu_police", "password": "nope"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "invalid_credentials"


def test_bad_and_missing_tokens(city: City) -> None:
    assert APIClient().get("/api/v1/cases").status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    body = client.get("/api/v1/cases").json()
    assert body["code"] == "authentication_failed"


def test_lockout_after_repeated_failures(city: City) -> None:
    client = APIClient()
    for _ in range(5):
        client.post("/api/v1/auth/token", {"username": "gusu_police", "password": "wrong"}, format="json")
    response = client.post(
        "/api/v1/auth/token", {"username": "gusu_police", "password": PASSWORD}, format="json"
    )
    assert response.status_code in {403, 429}


def _register_payload(city: City) -> dict[str, Any]:
    return {
        "charge": "诈骗罪",
        "facts": "犯罪嫌疑人冒充客服骗取被害人人民币五万元。",
        "occurred_at": "2026-11-01T10:00:00+08:00",
        "town_id": city.counties["gusu"].towns[0].pk,
        "parties": [{"name": "李四", "gender": "男", "address": "江苏省苏州市姑苏区姑苏区街道1幸福路8号"}],
    }


def test_case_through_the_api_with_four_agencies(city: City) -> None:
    police = client_for(city, "gusu.police_leader")
    created = police.post("/api/v1/cases", _register_payload(city), format="json")
    assert created.status_code == 201, created.content
    case_id = created.json()["case"]["id"]
    detail = police.get(f"/api/v1/cases/{case_id}").json()
    assert detail["stage"] == "investigation" and "detain" in {a["code"] for a in detail["actions"]}
    party_id = detail["parties"][0]["id"]
    assert (
        police.post(
            f"/api/v1/cases/{case_id}/actions/bail", {"party_ids": [party_id]}, format="json"
        ).status_code
        == 200
    )
    sent = police.post(f"/api/v1/cases/{case_id}/actions/transfer_for_prosecution", {}, format="json").json()
    procu = client_for(city, "gusu.procu")
    inbox = procu.get("/api/v1/inbox").json()["results"]
    assert [t["id"] for t in inbox] == [sent["transfer"]["id"]]
    assert procu.post(f"/api/v1/transfers/{inbox[0]['id']}/accept", {}, format="json").status_code == 200
    procu_leader = client_for(city, "gusu.procu_leader")
    procu_leader.post(f"/api/v1/cases/{case_id}/actions/indict", {}, format="json")
    judge = client_for(city, "gusu.judge")
    transfer = judge.get("/api/v1/inbox").json()["results"][0]
    judge.post(
        f"/api/v1/transfers/{transfer['id']}/accept", {"options": {"procedure": "ordinary"}}, format="json"
    )
    verdict = {"verdict": {"penalty": "fixed_term", "months": 8, "probation_months": 12}}
    pronounced = judge.post(f"/api/v1/cases/{case_id}/actions/pronounce", {"options": verdict}, format="json")
    assert pronounced.status_code == 200 and pronounced.json()["case"]["stage"] == "appeal_period"
    timeline = judge.get(f"/api/v1/cases/{case_id}/timeline").json()["entries"]
    assert [e["action"] for e in timeline] == [
        "register",
        "bail",
        "transfer_for_prosecution",
        "accept",
        "indict",
        "accept",
        "pronounce",
    ]
    assert timeline[0]["approved_by"]["name"] == city.u("gusu.police_leader").full_name
    early = judge.post(f"/api/v1/cases/{case_id}/actions/judgment_effective", {}, format="json")
    assert early.status_code == 409 and early.json()["code"] == "appeal_period_running"
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        clerk = client_for(city, "gusu.clerk")
        assert (
            clerk.post(f"/api/v1/cases/{case_id}/actions/judgment_effective", {}, format="json").status_code
            == 200
        )
        delivered = clerk.post(
            f"/api/v1/cases/{case_id}/actions/deliver_for_execution", {}, format="json"
        ).json()
        assert delivered["transfer"]["to_unit"] == city.counties["gusu"].corrections.name
        corrections = client_for(city, "gusu.corrections")
        corrections.post(f"/api/v1/transfers/{delivered['transfer']['id']}/accept", {}, format="json")
        final = corrections.get(f"/api/v1/cases/{case_id}").json()
    assert final["stage"] == "execution" and final["execution_unit"] == city.counties["gusu"].corrections.name
    assert [p["custody"] for p in final["parties"]] == ["serving"]
    # another county's corrections officer sees nothing
    other = client_for(city, "wuzhong.corrections")
    assert other.get(f"/api/v1/cases/{case_id}").status_code == 404
    assert other.get("/api/v1/cases").json()["count"] == 0


def test_errors_have_stable_codes_and_chinese_messages(city: City) -> None:
    case_id = register_case(city)
    police = client_for(city, "gusu.police_leader")
    wrong_stage = police.post(f"/api/v1/cases/{case_id}/actions/resubmit", {}, format="json")
    assert wrong_stage.status_code == 409
    assert wrong_stage.json()["code"] == "stage_conflict" and "阶段" in wrong_stage.json()["message"]
    procu = client_for(city, "gusu.procu_leader")
    assert procu.post(f"/api/v1/cases/{case_id}/actions/indict", {}, format="json").status_code == 404
    bad = police.post("/api/v1/cases", {"charge": ""}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    garbage = police.post(
        f"/api/v1/cases/{case_id}/actions/detain", "{not json", content_type="application/json"
    )
    assert garbage.status_code == 400 and garbage.json()["code"] == "parse_error"


def test_idempotency_key_applies_a_retried_request_once(city: City) -> None:
    case_id = register_case(city)
    police = client_for(city, "gusu.police_leader")
    headers = {"HTTP_IDEMPOTENCY_KEY": "transfer-123"}
    first = police.post(
        f"/api/v1/cases/{case_id}/actions/transfer_for_prosecution", {}, format="json", **headers
    )
    again = police.post(
        f"/api/v1/cases/{case_id}/actions/transfer_for_prosecution", {}, format="json", **headers
    )
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Transfer.objects.filter(case_id=case_id).count() == 1
    assert LedgerEntry.objects.filter(case_id=case_id, action="transfer_for_prosecution").count() == 1
    reused = police.post(
        f"/api/v1/cases/{case_id}/actions/withdraw", {"reason": "x"}, format="json", **headers
    )
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"


def test_failed_request_is_not_remembered_under_its_key(city: City) -> None:
    case_id = register_case(city)
    police = client_for(city, "gusu.police_leader")
    headers = {"HTTP_IDEMPOTENCY_KEY": "withdraw-1"}
    missing = police.post(
        f"/api/v1/cases/{case_id}/actions/withdraw", {"reason": ""}, format="json", **headers
    )
    assert missing.status_code == 400
    assert Case.objects.get(pk=case_id).stage == "investigation"


@pytest.mark.parametrize(
    ("query", "due"),
    [
        ("rule=arrest_request&start=2025-03-01T22:00:00%2B08:00&in_custody=true", "2025-03-04"),
        ("rule=investigation_custody&start=2025-03-05T10:00:00%2B08:00&in_custody=true", "2025-05-05"),
        ("rule=prosecution_review&start=2025-09-01T09:00:00%2B08:00&in_custody=false", "2025-10-09"),
    ],
)
def test_deadline_compute_needs_no_login(db: None, query: str, due: str) -> None:
    response = APIClient().get(f"/api/v1/deadlines/compute?{query}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["due"] == due and body["articles"]


def test_deadline_compute_rejects_bad_input(db: None) -> None:
    assert (
        APIClient().get("/api/v1/deadlines/compute?rule=nope&start=2025-01-01").json()["code"]
        == "unknown_rule"
    )
    assert (
        APIClient().get("/api/v1/deadlines/compute?rule=arrest_request&start=yesterday").json()["code"]
        == "bad_start"
    )


def test_openapi_schema_is_served(db: None) -> None:
    response = APIClient().get("/api/schema/")
    assert response.status_code == 200 and b"/api/v1/cases" in response.content
