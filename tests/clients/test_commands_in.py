"""What a person does to a case through the UI, an agency system does through /api/v1/ — through
the same services, under the same checks, and applied once when a command is retried."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.clients.conftest import api_as
from tests.dossier.conftest import pdf_bytes
from tests.factories import City, register_case, system_client
from xietong.cases.models import Case, Party
from xietong.dossier.models import Upload, Volume
from xietong.instruments.models import Instrument
from xietong.ledger.models import LedgerEntry


@pytest.fixture(autouse=True)
def _blobs(settings: Any, tmp_path: Path) -> None:
    settings.XIETONG_BLOB_ROOT = tmp_path / "blobs"


def _payload(city: City, county: str = "gusu") -> dict[str, Any]:
    return {
        "charge": "诈骗罪",
        "facts": "犯罪嫌疑人冒充客服骗取被害人人民币五万元。",
        "occurred_at": "2026-11-01T10:00:00+08:00",
        "town_id": city.counties[county].towns[0].pk,
        "parties": [{"name": "李四", "gender": "男", "address": "江苏省苏州市姑苏区姑苏区街道1幸福路8号"}],
    }


def _police(city: City, county: str = "gusu") -> APIClient:
    return api_as(*system_client(city.counties[county].police, ["handler", "leader"]))


def test_a_police_system_registers_acts_drafts_and_hands_over(city: City) -> None:
    police = _police(city)
    created = police.post("/api/v1/cases", _payload(city), format="json", HTTP_IDEMPOTENCY_KEY="reg-1")
    assert created.status_code == 201, created.content
    case_id = created.json()["case"]["id"]
    party_id = Party.objects.get(case_id=case_id).pk
    detained = police.post(
        f"/api/v1/cases/{case_id}/actions/detain",
        {"party_ids": [party_id]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="detain-1",
    )
    assert detained.status_code == 200, detained.content
    drafted = police.post(
        f"/api/v1/cases/{case_id}/instruments",
        {"kind": "拘留通知书"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="draft-1",
    )
    assert drafted.status_code == 201, drafted.content
    bailed = police.post(f"/api/v1/cases/{case_id}/actions/bail", {"party_ids": [party_id]}, format="json")
    assert bailed.status_code == 200, bailed.content
    sent = police.post(f"/api/v1/cases/{case_id}/actions/transfer_for_prosecution", {}, format="json")
    assert sent.status_code == 200, sent.content
    procu = api_as(*system_client(city.counties["gusu"].procuratorate, ["handler"]))
    inbox = procu.get("/api/v1/inbox").json()["results"]
    assert [t["id"] for t in inbox] == [sent.json()["transfer"]["id"]]
    accepted = procu.post(f"/api/v1/transfers/{inbox[0]['id']}/accept", {}, format="json")
    assert accepted.status_code == 200, accepted.content
    case = Case.objects.get(pk=case_id)
    assert case.holder_unit == city.counties["gusu"].procuratorate
    actions = list(
        LedgerEntry.objects.filter(case_id=case_id).order_by("seq").values_list("action", flat=True)
    )
    assert actions[:2] == ["register", "detain"] and "accept" in actions


def test_a_file_is_attached_through_the_dossier_api_once(city: City) -> None:
    police = _police(city)
    case_id = police.post("/api/v1/cases", _payload(city), format="json").json()["case"]["id"]
    data = pdf_bytes([["起诉意见书", "犯罪嫌疑人李四"]])
    start = {"filename": "卷一.pdf", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    first = police.post(f"/api/v1/cases/{case_id}/uploads", start, format="json", HTTP_IDEMPOTENCY_KEY="up-1")
    again = police.post(f"/api/v1/cases/{case_id}/uploads", start, format="json", HTTP_IDEMPOTENCY_KEY="up-1")
    assert first.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Upload.objects.filter(case_id=case_id).count() == 1
    upload_id = first.json()["id"]
    chunk = police.put(
        f"/api/v1/uploads/{upload_id}?offset=0",
        data,
        content_type="application/octet-stream",
        HTTP_X_CHUNK_SHA256=hashlib.sha256(data).hexdigest(),
    )
    assert chunk.status_code == 200, chunk.content
    finish = [
        police.post(
            f"/api/v1/uploads/{upload_id}/finish",
            {"title": "诉讼卷"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="fin",
        )
        for _ in range(2)
    ]
    assert [f.status_code for f in finish] == [201, 201] and finish[0].json() == finish[1].json()
    assert Volume.objects.filter(case_id=case_id).count() == 1


def test_a_duplicate_command_is_applied_once(city: City) -> None:
    police = _police(city)
    replies = [
        police.post("/api/v1/cases", _payload(city), format="json", HTTP_IDEMPOTENCY_KEY="same")
        for _ in range(3)
    ]
    assert [r.status_code for r in replies] == [201, 201, 201]
    assert replies[1].json() == replies[0].json() == replies[2].json()
    assert Case.objects.count() == 1
    reused = police.post(
        "/api/v1/cases", {**_payload(city), "charge": "盗窃罪"}, format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"
    assert Case.objects.count() == 1


def test_a_system_of_one_county_cannot_read_or_act_on_anothers_case(city: City) -> None:
    case_id = register_case(city, "gusu")
    party_id = Party.objects.get(case_id=case_id).pk
    before = LedgerEntry.objects.filter(case_id=case_id).count()
    instruments = Instrument.objects.filter(case_id=case_id).count()
    other = _police(city, "wuzhong")
    assert other.get(f"/api/v1/cases/{case_id}").status_code == 404
    assert other.get("/api/v1/cases").json()["count"] == 0
    acted = other.post(f"/api/v1/cases/{case_id}/actions/detain", {"party_ids": [party_id]}, format="json")
    assert acted.status_code == 404 and acted.json()["code"] == "case_not_found"
    drafted = other.post(f"/api/v1/cases/{case_id}/instruments", {"kind": "拘留通知书"}, format="json")
    assert drafted.status_code == 404
    uploaded = other.post(
        f"/api/v1/cases/{case_id}/uploads", {"filename": "a.pdf", "size": 10}, format="json"
    )
    assert uploaded.status_code == 404
    assert LedgerEntry.objects.filter(case_id=case_id).count() == before
    assert Instrument.objects.filter(case_id=case_id).count() == instruments
    assert not Upload.objects.filter(case_id=case_id).exists()


def test_a_system_holds_only_the_duties_it_was_granted(city: City) -> None:
    case_id = register_case(city, "gusu")
    clerk_only = api_as(*system_client(city.counties["gusu"].police, ["clerk"]))
    party_id = Party.objects.get(case_id=case_id).pk
    custody = Party.objects.get(pk=party_id).custody
    refused = clerk_only.post(
        f"/api/v1/cases/{case_id}/actions/detain", {"party_ids": [party_id]}, format="json"
    )
    assert refused.status_code == 403, refused.content
    assert Party.objects.get(pk=party_id).custody == custody
