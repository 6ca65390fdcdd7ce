"""From 判决生效 to execution: the platform's own effect, handoff by sentence, intake, 报到, terms,
parole and revocation, and the refusals of bad input."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from tests.factories import City, register_case
from xietong.cases import services as cases
from xietong.cases.models import Case, Clock, Party, Transfer
from xietong.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from xietong.execution import services
from xietong.execution.models import CustodyEvent, Sentence, Supervisee
from xietong.execution.sweeps import execution_sweep
from xietong.instruments import services as instruments
from xietong.instruments.models import Instrument, Service
from xietong.ledger.models import LedgerEntry
from xietong.supervision.models import Alert


@pytest.fixture(autouse=True)
def _blobs(tmp_path: Path, settings: Any) -> None:
    settings.XIETONG_BLOB_ROOT = tmp_path / "blobs"


def act(city: City, who: str, case_id: int, action: str, **kwargs: Any) -> cases.ActResult:
    return cases.case_act(user=city.u(who), case_id=case_id, action=action, **kwargs)


def accept(city: City, who: str, case_id: int, **options: Any) -> cases.ActResult:
    transfer = Transfer.objects.get(case_id=case_id, status="pending")
    return cases.transfer_accept(user=city.u(who), transfer_id=transfer.pk, options=options)


def kinds(case_id: int) -> list[str]:
    return list(
        CustodyEvent.objects.filter(case_id=case_id).order_by("at", "id").values_list("kind", flat=True)
    )


def to_judgment(city: City, verdict: dict[str, Any], *, held: bool = True, address: str | None = None) -> int:
    """A case through arrest (or bail), prosecution and trial to the pronounced judgment."""
    case_id = register_case(city)
    party = Party.objects.get(case_id=case_id)
    if address is not None:
        Party.objects.filter(pk=party.pk).update(address=address)
    if held:
        act(city, "gusu.police_leader", case_id, "detain", party_ids=[party.pk])
        act(city, "gusu.police_leader", case_id, "request_arrest", party_ids=[party.pk])
        accept(city, "gusu.procu", case_id)
        act(city, "gusu.procu_leader", case_id, "approve_arrest")
    else:
        act(city, "gusu.police_leader", case_id, "bail", party_ids=[party.pk])
    act(city, "gusu.police_leader", case_id, "transfer_for_prosecution")
    accept(city, "gusu.procu", case_id)
    act(city, "gusu.procu_leader", case_id, "indict")
    accept(city, "gusu.judge", case_id, procedure="ordinary")
    act(city, "gusu.judge", case_id, "pronounce", options={"verdict": verdict})
    return case_id


def seal_all(city: City, case_id: int) -> None:
    """签发 and seal every draft of the case by its unit's staff."""
    who = {
        city.counties["gusu"].police.pk: ("gusu.police", "gusu.police_leader"),
        city.counties["gusu"].procuratorate.pk: ("gusu.procu", "gusu.procu_leader"),
        city.counties["gusu"].court.pk: ("gusu.judge", "gusu.court_leader"),
    }
    for instrument in Instrument.objects.filter(case_id=case_id, status="draft").order_by("pk"):
        handler, leader = who[instrument.unit_id]
        instruments.instrument_submit(user=city.u(handler), instrument_id=instrument.pk)
        instruments.instrument_approve(user=city.u(leader), instrument_id=instrument.pk)
        instruments.instrument_seal(user=city.u(handler), instrument_id=instrument.pk)


PROBATION = {"penalty": "fixed_term", "months": 10, "probation_months": 12}


def test_the_platform_makes_the_judgment_effective_and_warns_corrections_at_once(city: City) -> None:
    case_id = to_judgment(city, PROBATION, held=False)
    assert execution_sweep().took_effect == 0  # the appeal period runs
    due = Clock.objects.get(case_id=case_id, rule="appeal_judgment").due
    with time_machine.travel(timezone.now() + timedelta(days=12)):
        assert execution_sweep().took_effect == 1
        assert execution_sweep().took_effect == 0  # idempotent
    case = Case.objects.get(pk=case_id)
    assert case.stage == "effective"
    entry = LedgerEntry.objects.filter(case_id=case_id, action="judgment_effective").get()
    assert entry.actor_name == "协同平台" and "自动" in entry.actor_duty
    sentence = Sentence.objects.get(case_id=case_id)
    assert sentence.effective_basis == "appeal_expired" and sentence.effective_on > due
    assert (sentence.body, sentence.term_start) == ("corrections", sentence.effective_on)
    assert sentence.term_end == date(
        sentence.effective_on.year + 1, sentence.effective_on.month, sentence.effective_on.day
    ) - timedelta(days=1)
    supervisee = Supervisee.objects.get(case_id=case_id)
    assert (
        supervisee.status == "notified" and supervisee.corrections_unit == city.counties["gusu"].corrections
    )
    assert supervisee.office == city.counties["gusu"].office
    assert supervisee.report_due == sentence.effective_on + timedelta(days=10)
    running = set(Clock.objects.filter(case_id=case_id, status="running").values_list("rule", flat=True))
    assert "corrections_notice" not in running and "corrections_report" in running
    # the 司法所 sees the case before the documents arrive
    assert cases.case_act
    from xietong.cases.selectors import case_visible_to

    assert case_visible_to(user=city.u("gusu.office"), case=case)
    assert not case_visible_to(user=city.u("wuzhong.office"), case=case)


def test_community_sentence_from_effect_to_report_at_the_justice_office(city: City) -> None:
    case_id = to_judgment(city, PROBATION, held=True)
    party = Party.objects.get(case_id=case_id)
    # the defendant is held: the judgment orders his release (刑诉法第260条)
    assert kinds(case_id)[-1] == "pronounce"
    assert CustodyEvent.objects.get(case_id=case_id, kind="pronounce").variant == "release"
    act(city, "gusu.judge", case_id, "release_defendant", party_ids=[party.pk])
    assert kinds(case_id)[-1] == "release"
    with time_machine.travel(timezone.now() + timedelta(days=12)):
        execution_sweep()
        seal_all(city, case_id)  # 判决书, 起诉书, ... sealed
        delivered = act(city, "gusu.clerk", case_id, "deliver_for_execution")
        assert (
            delivered.transfer is not None and delivered.transfer.to_unit == city.counties["gusu"].corrections
        )
        seal_all(city, case_id)  # 执行通知书, 结案登记表
        corrections = city.counties["gusu"].corrections
        served = set(
            Service.objects.filter(recipient_unit=corrections).values_list("instrument__kind", flat=True)
        )
        assert {"刑事判决书", "起诉书", "执行通知书", "结案登记表"} <= served
        accept(city, "gusu.corrections", case_id)
        assert Supervisee.objects.get(case_id=case_id).status == "awaiting"
        # another county's 司法所 may not register him; his own does, once
        with pytest.raises(NotFound):
            act(city, "wuzhong.office", case_id, "offender_report", party_ids=[party.pk])
        act(city, "gusu.office", case_id, "offender_report", party_ids=[party.pk])
        with pytest.raises(Conflict) as twice:
            act(city, "gusu.office", case_id, "offender_report", party_ids=[party.pk])
        assert twice.value.code == "already_reported"
    supervisee = Supervisee.objects.get(case_id=case_id)
    assert supervisee.status == "supervised" and supervisee.reported_to == city.counties["gusu"].office
    assert kinds(case_id)[-1] == "corrections_start"
    # the officer, the plan, the 禁止令
    services.supervisee_update(
        user=city.u("gusu.office"),
        supervisee_id=supervisee.pk,
        supervisor_id=city.u("gusu.office").pk,
        plan="每月到司法所报告一次；参加公益活动",
        prohibitions="禁止进入夜总会、酒吧",
    )
    with pytest.raises(ValidationFailed):
        services.supervisee_update(
            user=city.u("gusu.office"), supervisee_id=supervisee.pk, supervisor_id=city.u("wuzhong.office").pk
        )
    with pytest.raises(Conflict) as early:
        services.supervisee_discharge(user=city.u("gusu.office"), supervisee_id=supervisee.pk)
    assert early.value.code == "term_running"
    with time_machine.travel(timezone.now() + timedelta(days=400)):
        assert execution_sweep().term_ending == 1  # the term is over and he is not discharged yet
        services.supervisee_discharge(user=city.u("gusu.office"), supervisee_id=supervisee.pk)
    assert Supervisee.objects.get(pk=supervisee.pk).status == "discharged"
    assert kinds(case_id)[-1] == "corrections_end"
    assert Instrument.objects.filter(case_id=case_id, kind="解除社区矫正证明书").exists()


def test_the_place_of_residence_decides_the_corrections_unit(city: City) -> None:
    town = city.counties["wuzhong"].towns[0]
    case_id = to_judgment(city, PROBATION, held=False, address=f"江苏省苏州市吴中区{town.name}和平路3号")
    with time_machine.travel(timezone.now() + timedelta(days=12)):
        execution_sweep()
        result = act(city, "gusu.clerk", case_id, "deliver_for_execution")
    assert result.transfer is not None and result.transfer.to_unit == city.counties["wuzhong"].corrections


def test_an_address_without_a_corrections_unit_is_refused_and_alerted(
    city: City, django_capture_on_commit_callbacks: Any
) -> None:
    case_id = to_judgment(city, PROBATION, held=False, address="浙江省杭州市西湖区某路1号")
    with time_machine.travel(timezone.now() + timedelta(days=12)):
        with django_capture_on_commit_callbacks(execute=True):
            execution_sweep()
        alert = Alert.objects.get(kind="handoff_refused", case_id=case_id)
        assert "无法确定执行地社区矫正机构" in alert.message
        with pytest.raises(Conflict) as refused:
            act(city, "gusu.clerk", case_id, "deliver_for_execution")
    assert refused.value.code == "no_executing_unit" and "社区矫正法第17条" in refused.value.message
    assert Case.objects.get(pk=case_id).stage == "effective"


def test_an_impossible_term_is_refused(city: City) -> None:
    with pytest.raises(ValidationFailed) as refused:
        to_judgment(city, {"penalty": "fixed_term", "months": 24, "probation_months": 12}, held=False)
    assert refused.value.code == "verdict_invalid" and "刑法第73条" in refused.value.message


def test_prison_intake_needs_the_documents_and_fixes_the_term(city: City) -> None:
    case_id = to_judgment(city, {"penalty": "fixed_term", "months": 18}, held=True)
    party = Party.objects.get(case_id=case_id)
    held_since = CustodyEvent.objects.get(case_id=case_id, kind="detain").on
    with time_machine.travel(timezone.now() + timedelta(days=12)):
        execution_sweep()
        sentence = Sentence.objects.get(case_id=case_id)
        assert (
            sentence.body == "prison" and sentence.credited_days == (sentence.effective_on - held_since).days
        )
        act(city, "gusu.clerk", case_id, "deliver_for_execution")
        with pytest.raises(Conflict) as refused:
            accept(city, "prison", case_id)
        assert refused.value.code == "documents_missing" and "监狱法第16条" in refused.value.message
        seal_all(city, case_id)
        accept(city, "prison", case_id)
    commit = CustodyEvent.objects.get(case_id=case_id, kind="commit")
    assert commit.until == sentence.term_end
    # eighteen months counted from the first day of custody, ending the day before (高法解释第202条)
    start = held_since
    month = start.month - 1 + 18
    assert sentence.term_end == date(start.year + month // 12, month % 12 + 1, start.day) - timedelta(days=1)
    assert sentence.term_end is not None
    with time_machine.travel(timezone.now() + timedelta(days=13)), pytest.raises(Conflict) as early:
        services.release_on_term(user=city.u("prison"), party_id=party.pk)
    assert early.value.code == "term_running"
    to_the_end = (sentence.term_end - timezone.localdate()).days
    with time_machine.travel(timezone.now() + timedelta(days=to_the_end, hours=1)):
        services.release_on_term(user=city.u("prison"), party_id=party.pk)
    assert kinds(case_id)[-1] == "term_end"
    assert Party.objects.get(pk=party.pk).custody == "released"


def test_intake_of_someone_held_in_another_case_is_refused_with_an_alert(city: City) -> None:
    case_id = to_judgment(city, PROBATION, held=False)
    Party.objects.filter(case_id=case_id).update(id_number="320508199001011234")
    other = register_case(city)
    other_party = Party.objects.get(case_id=other)
    Party.objects.filter(pk=other_party.pk).update(id_number="320508199001011234")
    act(city, "gusu.police_leader", other, "detain", party_ids=[other_party.pk])
    with time_machine.travel(timezone.now() + timedelta(days=12)):
        execution_sweep()
        act(city, "gusu.clerk", case_id, "deliver_for_execution")
        with pytest.raises(Conflict) as refused:
            accept(city, "gusu.corrections", case_id)
    assert refused.value.code == "held_elsewhere"
    assert Alert.objects.filter(kind="handoff_refused", case_id=case_id).exists()  # survives the refusal
    assert Transfer.objects.get(case_id=case_id, action="deliver_for_execution").status == "pending"


def test_report_overdue_is_alerted_once(city: City) -> None:
    case_id = to_judgment(city, PROBATION, held=False)
    with time_machine.travel(timezone.now() + timedelta(days=12)):
        execution_sweep()
    with time_machine.travel(timezone.now() + timedelta(days=30)):
        assert execution_sweep().report_overdue == 1
        assert execution_sweep().report_overdue == 0
    alert = Alert.objects.get(kind="report_overdue", case_id=case_id)
    assert alert.unit == city.counties["gusu"].corrections and "未报到" in alert.message


def test_parole_flows_to_corrections_and_revocation_flows_back(city: City) -> None:
    case_id = to_judgment(city, {"penalty": "fixed_term", "months": 36}, held=True)
    party = Party.objects.get(case_id=case_id)
    with time_machine.travel(timezone.now() + timedelta(days=12)):
        execution_sweep()
        act(city, "gusu.clerk", case_id, "deliver_for_execution")
        seal_all(city, case_id)
        accept(city, "prison", case_id)
    with pytest.raises(NotAllowed):
        services.parole_grant(user=city.u("prison"), party_id=party.pk)
    with time_machine.travel(timezone.now() + timedelta(days=400)):
        supervisee = services.parole_grant(user=city.u("mid_judge"), party_id=party.pk, reason="确有悔改表现")
        assert supervisee.kind == "parole" and supervisee.status == "awaiting"
        assert supervisee.term_end == Sentence.objects.get(party=party).term_end
        act(city, "gusu.office", case_id, "offender_report", party_ids=[party.pk])
        # the ruling, once sealed, reaches the corrections unit too; the prison drafts the 假释证明书
        ruling = Instrument.objects.get(case_id=case_id, kind="假释裁定书")
        instruments.instrument_submit(user=city.u("mid_judge"), instrument_id=ruling.pk)
        instruments.instrument_approve(user=city.u("mid_leader"), instrument_id=ruling.pk)
        instruments.instrument_seal(user=city.u("mid_judge"), instrument_id=ruling.pk)
        served = set(Service.objects.filter(instrument=ruling).values_list("recipient_unit", flat=True))
        assert city.counties["gusu"].corrections.pk in served
        assert Instrument.objects.get(case_id=case_id, kind="假释证明书").unit.kind == "prison"
        with pytest.raises(ValidationFailed):
            services.supervision_revoke(user=city.u("mid_judge"), supervisee_id=supervisee.pk, reason=" ")
        left = (supervisee.term_end - supervisee.term_start).days
        event = services.supervision_revoke(
            user=city.u("mid_judge"), supervisee_id=supervisee.pk, reason="假释考验期内再犯新罪"
        )
    assert kinds(case_id)[-3:] == ["parole", "corrections_start", "revoke"]
    assert event.until == event.on + timedelta(days=left)
    assert Supervisee.objects.get(pk=supervisee.pk).status == "revoked"
    assert Instrument.objects.filter(case_id=case_id, kind__in=["假释裁定书", "撤销缓刑裁定书"]).count() == 2


def test_custody_events_follow_the_case_through_every_agency(city: City) -> None:
    case_id = to_judgment(city, {"penalty": "fixed_term", "months": 36}, held=True)
    assert kinds(case_id) == [
        "detain",
        "request_arrest",
        "arrest",
        "transfer_prosecution",
        "court_accept",
        "pronounce",
    ]
    units = dict(CustodyEvent.objects.filter(case_id=case_id).values_list("kind", "unit_id"))
    assert units["arrest"] == city.counties["gusu"].police.pk  # executed by the police on approval
    assert units["transfer_prosecution"] == city.counties["gusu"].procuratorate.pk
    assert units["court_accept"] == city.counties["gusu"].court.pk


def test_the_api_tells_where_each_person_is_and_the_corrections_list(city: City) -> None:
    from rest_framework.test import APIClient

    case_id = to_judgment(city, PROBATION, held=True)
    party = Party.objects.get(case_id=case_id)
    client = APIClient()
    client.force_authenticate(city.u("gusu.judge"))
    persons = client.get(f"/api/v1/cases/{case_id}/custody").json()["persons"]
    assert persons[0]["state"] == "held" and persons[0]["until"] is not None
    assert [e["kind"] for e in persons[0]["events"]][-1] == "pronounce"
    act(city, "gusu.judge", case_id, "release_defendant", party_ids=[party.pk])
    with time_machine.travel(timezone.now() + timedelta(days=12)):
        execution_sweep()
        office = APIClient()
        office.force_authenticate(city.u("gusu.office"))
        listed = office.get("/api/v1/supervisees").json()["results"]
        assert [s["name"] for s in listed] == [party.name] and listed[0]["status"] == "notified"
        saved = office.post(
            f"/api/v1/supervisees/{listed[0]['id']}/plan", {"plan": "每周电话报告"}, format="json"
        ).json()
        assert saved["plan"] == "每周电话报告"
        early = office.post(f"/api/v1/supervisees/{listed[0]['id']}/discharge", {}, format="json")
        assert early.status_code == 409 and early.json()["code"] == "not_supervised"
        stranger = APIClient()
        stranger.force_authenticate(city.u("wuzhong.office"))
        assert stranger.get("/api/v1/supervisees").json()["results"] == []
        assert stranger.get(f"/api/v1/cases/{case_id}/custody").status_code == 404


def test_temporary_release_before_delivery_and_taking_him_back(city: City) -> None:
    case_id = to_judgment(city, {"penalty": "fixed_term", "months": 24}, held=True)
    party = Party.objects.get(case_id=case_id)
    with time_machine.travel(timezone.now() + timedelta(days=12)):
        execution_sweep()
        term_end = Sentence.objects.get(party=party).term_end
        # still in the 看守所 under the effective judgment: the court decides (刑诉法第265条)
        supervisee = services.temporary_release_grant(
            user=city.u("gusu.judge"), party_id=party.pk, reason="患有严重疾病需要保外就医"
        )
        assert (supervisee.kind, supervisee.term_end) == ("temporary", term_end)
        assert supervisee.conditions.startswith("社区矫正法第23条")
        with pytest.raises(Conflict) as twice:
            services.temporary_release_grant(user=city.u("gusu.judge"), party_id=party.pk)
        assert twice.value.code == "not_serving"
        act(city, "gusu.office", case_id, "offender_report", party_ids=[party.pk])
    with time_machine.travel(timezone.now() + timedelta(days=100)):
        event = services.supervision_revoke(
            user=city.u("gusu.judge"), supervisee_id=supervisee.pk, reason="保外就医情形消失，刑期未满"
        )
    assert event.until == term_end  # the time outside counted as served
    assert kinds(case_id)[-3:] == ["temporary_release", "corrections_start", "revoke"]
    assert (
        Instrument.objects.filter(case_id=case_id, kind__in=["暂予监外执行决定书", "收监执行决定书"]).count()
        == 2
    )
