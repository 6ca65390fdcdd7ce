"""The whole lifecycle through the one door, with the agencies' own users."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.factories import City, register_case, register_input
from xietong.cases import services
from xietong.cases.models import ActionRequest, Case, Clock, Transfer
from xietong.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from xietong.instruments.models import Instrument
from xietong.ledger.models import LedgerEntry
from xietong.ledger.services import ledger_integrate_all
from xietong.ledger.verify import ledger_verify


def act(city: City, who: str, case_id: int, action: str, **kwargs: object) -> services.ActResult:
    return services.case_act(user=city.u(who), case_id=case_id, action=action, **kwargs)  # type: ignore[arg-type]


def accept(city: City, who: str, case_id: int, **options: object) -> services.ActResult:
    transfer = Transfer.objects.get(case_id=case_id, status="pending")
    return services.transfer_accept(user=city.u(who), transfer_id=transfer.pk, options=options)


def running(case_id: int) -> set[str]:
    return set(Clock.objects.filter(case_id=case_id, status="running").values_list("rule", flat=True))


def test_case_walks_from_filing_to_community_corrections(city: City) -> None:
    case_id = register_case(city, parties=2)
    case = Case.objects.get(pk=case_id)
    assert case.stage == "investigation" and case.title == "张1等盗窃案"
    parties = list(case.parties.values_list("pk", flat=True))

    act(city, "gusu.police_leader", case_id, "detain", party_ids=parties)
    assert {
        "detention_to_jail",
        "detention_family_notice",
        "detention_interrogation",
        "arrest_request",
    } <= running(case_id)
    act(city, "gusu.police_leader", case_id, "request_arrest", party_ids=parties)
    assert "arrest_request" not in running(case_id)
    assert Case.objects.get(pk=case_id).stage == "arrest_review"

    accept(city, "gusu.procu", case_id)
    assert "arrest_review_detained" in running(case_id)
    act(city, "gusu.procu_leader", case_id, "approve_arrest")
    case.refresh_from_db()
    assert case.stage == "investigation" and case.holder_unit == city.counties["gusu"].police
    assert set(case.parties.values_list("custody", flat=True)) == {"arrested"}
    assert "investigation_custody" in running(case_id)

    act(city, "gusu.police_leader", case_id, "transfer_for_prosecution")
    accept(city, "gusu.procu", case_id)
    assert "investigation_custody" not in running(case_id) and "prosecution_review" in running(case_id)

    act(city, "gusu.procu_leader", case_id, "indict")
    accept(city, "gusu.judge", case_id, procedure="summary")
    assert "summary_trial" in running(case_id)
    verdict = {"guilty": True, "penalty": "fixed_term", "months": 10, "probation_months": 12}
    act(city, "gusu.judge", case_id, "pronounce", options={"verdict": verdict})
    assert Case.objects.get(pk=case_id).stage == "appeal_period"

    with pytest.raises(Conflict) as running_period:
        act(city, "gusu.judge", case_id, "judgment_effective")
    assert running_period.value.code == "appeal_period_running"

    with time_machine.travel(timezone.now() + timedelta(days=16)):
        act(city, "gusu.judge", case_id, "judgment_effective")
        # the platform told the corrections unit at once (社区矫正法第20条: 5 days)
        assert {"corrections_documents", "corrections_report"} <= running(case_id)
        assert "corrections_notice" not in running(case_id)
        result = act(city, "gusu.clerk", case_id, "deliver_for_execution")
        assert result.transfer is not None and result.transfer.to_unit == city.counties["gusu"].corrections
        accept(city, "gusu.corrections", case_id)
        act(city, "gusu.corrections", case_id, "offender_report", party_ids=parties)

    case.refresh_from_db()
    assert case.stage == "execution" and case.execution_unit == city.counties["gusu"].corrections
    assert set(case.parties.values_list("custody", flat=True)) == {"serving"}
    assert "corrections_report" not in running(case_id)
    kinds = list(Instrument.objects.filter(case_id=case_id).values_list("kind", flat=True))
    assert kinds == [
        "立案决定书",
        "拘留证",
        "提请批准逮捕书",
        "批准逮捕决定书",
        "起诉意见书",
        "起诉书",
        "刑事判决书",
        "执行通知书",
        "结案登记表",
    ]
    assert LedgerEntry.objects.filter(case_id=case_id).count() == 14
    ledger_integrate_all()
    assert ledger_verify().ok


def test_a_long_prison_term_goes_to_the_prison(city: City) -> None:
    case_id = register_case(city)
    party = Case.objects.get(pk=case_id).parties.get()
    act(city, "gusu.police_leader", case_id, "bail", party_ids=[party.pk])
    act(city, "gusu.police_leader", case_id, "transfer_for_prosecution")
    accept(city, "gusu.procu", case_id)
    act(city, "gusu.procu_leader", case_id, "indict")
    accept(city, "gusu.judge", case_id)
    act(
        city, "gusu.judge", case_id, "pronounce", options={"verdict": {"penalty": "fixed_term", "months": 30}}
    )
    with time_machine.travel(timezone.now() + timedelta(days=20)):
        act(city, "gusu.judge", case_id, "judgment_effective")
        assert "execution_documents" in running(case_id)
        result = act(city, "gusu.judge", case_id, "deliver_for_execution")
    assert result.transfer is not None and result.transfer.to_unit.kind == "prison"


def test_appeal_goes_to_intermediate_court_and_its_ruling_is_final(city: City) -> None:
    case_id = register_case(city)
    party = Case.objects.get(pk=case_id).parties.get()
    act(city, "gusu.police_leader", case_id, "bail", party_ids=[party.pk])
    act(city, "gusu.police_leader", case_id, "transfer_for_prosecution")
    accept(city, "gusu.procu", case_id)
    act(city, "gusu.procu_leader", case_id, "indict")
    accept(city, "gusu.judge", case_id)
    act(
        city, "gusu.judge", case_id, "pronounce", options={"verdict": {"penalty": "fixed_term", "months": 24}}
    )
    act(city, "gusu.clerk", case_id, "appeal")
    accept(city, "mid_judge", case_id)
    assert "second_instance" in running(case_id)
    act(city, "mid_judge", case_id, "decide_appeal")
    case = Case.objects.get(pk=case_id)
    assert case.stage == "effective" and case.holder_unit == city.mid_court
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        result = act(city, "mid_judge", case_id, "deliver_for_execution")
    assert result.transfer is not None


def test_supplementary_investigation_is_limited_to_two(city: City) -> None:
    case_id = register_case(city)
    act(city, "gusu.police_leader", case_id, "transfer_for_prosecution")
    accept(city, "gusu.procu", case_id)
    for _ in range(2):
        act(city, "gusu.procu_leader", case_id, "return_for_supplementary", reason="补充鉴定意见")
        assert "supplementary_investigation" in running(case_id)
        act(city, "gusu.police_leader", case_id, "resubmit")
        accept(city, "gusu.procu", case_id)
        assert "prosecution_review" in running(case_id)
    before = LedgerEntry.objects.count()
    with pytest.raises(Conflict) as exc:
        act(city, "gusu.procu_leader", case_id, "return_for_supplementary", reason="第三次")
    assert exc.value.code == "supplementary_limit"
    assert LedgerEntry.objects.count() == before
    assert Case.objects.get(pk=case_id).supplementary_count == 2


def test_handler_act_waits_for_leader_approval_and_records_approver(city: City) -> None:
    case_id = register_case(city)
    party = Case.objects.get(pk=case_id).parties.get()
    pending = act(city, "gusu.police", case_id, "detain", party_ids=[party.pk])
    assert pending.status == "pending_approval"
    assert Case.objects.get(pk=case_id).parties.get().custody == "none"
    request = ActionRequest.objects.get(pk=pending.request.pk)  # type: ignore[union-attr]
    with pytest.raises(NotAllowed):
        services.request_decide(user=city.u("gusu.police"), request_id=request.pk, approve=True)
    done = services.request_decide(user=city.u("gusu.police_leader"), request_id=request.pk, approve=True)
    assert done.status == "done"
    assert Case.objects.get(pk=case_id).parties.get().custody == "detained"
    entry = LedgerEntry.objects.filter(case_id=case_id, action="detain").get()
    assert entry.actor_name == city.u("gusu.police").full_name
    assert '"approved_by":{' in entry.payload and city.u("gusu.police_leader").full_name in entry.payload


def test_handler_filing_waits_for_approval(city: City) -> None:
    result = services.case_register(user=city.u("gusu.police"), data=register_input(city))
    assert result.status == "pending_approval" and result.case is None
    assert Case.objects.count() == 0
    rejected = services.request_decide(
        user=city.u("gusu.police_leader"),
        request_id=result.request.pk,
        approve=False,
        reason="线索不足",  # type: ignore[union-attr]
    )
    assert rejected.status == "rejected" and Case.objects.count() == 0
    again = services.case_register(user=city.u("gusu.police"), data=register_input(city))
    done = services.request_decide(
        user=city.u("gusu.police_leader"), request_id=again.request.pk, approve=True
    )  # type: ignore[union-attr]
    assert done.case is not None and done.case.handler == city.u("gusu.police")


def test_returned_transfer_restores_stage_and_sender_clocks(city: City) -> None:
    case_id = register_case(city)
    party = Case.objects.get(pk=case_id).parties.get()
    act(city, "gusu.police_leader", case_id, "detain", party_ids=[party.pk])
    act(city, "gusu.police_leader", case_id, "request_arrest", party_ids=[party.pk])
    assert "arrest_request" not in running(case_id)
    transfer = Transfer.objects.get(case_id=case_id, status="pending")
    with pytest.raises(ValidationFailed):
        services.transfer_return(user=city.u("gusu.procu"), transfer_id=transfer.pk, reason=" ")
    services.transfer_return(user=city.u("gusu.procu"), transfer_id=transfer.pk, reason="证据材料不全")
    case = Case.objects.get(pk=case_id)
    assert case.stage == "investigation" and case.holder_unit == city.counties["gusu"].police
    assert "arrest_request" in running(case_id)


def test_act_in_wrong_stage_or_while_in_transit_is_refused_and_writes_nothing(city: City) -> None:
    case_id = register_case(city)
    before = (LedgerEntry.objects.count(), Case.objects.get(pk=case_id).version)
    with pytest.raises(Conflict) as wrong_stage:
        act(city, "gusu.police_leader", case_id, "resubmit")
    assert wrong_stage.value.code == "stage_conflict"
    act(city, "gusu.police_leader", case_id, "transfer_for_prosecution")
    with pytest.raises(Conflict) as in_transit:
        act(city, "gusu.police_leader", case_id, "withdraw", reason="x")
    assert in_transit.value.code in {"transfer_pending", "stage_conflict"}
    with pytest.raises(Conflict) as stale:
        act(city, "gusu.procu_leader", case_id, "indict", expected_version=before[1])
    assert stale.value.code == "version_conflict"
    assert LedgerEntry.objects.count() == before[0] + 1


def test_withdrawal_releases_custody_and_stops_every_clock(city: City) -> None:
    case_id = register_case(city)
    party = Case.objects.get(pk=case_id).parties.get()
    act(city, "gusu.police_leader", case_id, "detain", party_ids=[party.pk])
    act(city, "gusu.police_leader", case_id, "withdraw", reason="不应追究刑事责任")
    case = Case.objects.get(pk=case_id)
    assert case.stage == "withdrawn" and running(case_id) == set()
    assert case.parties.get().custody == "released"


def test_reason_and_parties_are_required_where_the_law_needs_them(city: City) -> None:
    case_id = register_case(city)
    with pytest.raises(ValidationFailed) as no_reason:
        act(city, "gusu.police_leader", case_id, "withdraw")
    assert no_reason.value.code == "reason_required"
    with pytest.raises(ValidationFailed) as no_parties:
        act(city, "gusu.police_leader", case_id, "detain")
    assert no_parties.value.code == "parties_required"
    with pytest.raises(ValidationFailed):
        act(city, "gusu.police_leader", case_id, "no_such_action")


def test_verdict_is_checked_against_the_criminal_law(city: City) -> None:
    case_id = register_case(city)
    act(city, "gusu.police_leader", case_id, "transfer_for_prosecution")
    accept(city, "gusu.procu", case_id)
    act(city, "gusu.procu_leader", case_id, "indict")
    accept(city, "gusu.judge", case_id)
    with pytest.raises(ValidationFailed) as long_probation:
        act(
            city,
            "gusu.judge",
            case_id,
            "pronounce",
            options={"verdict": {"penalty": "fixed_term", "months": 60, "probation_months": 60}},
        )
    assert long_probation.value.code == "verdict_invalid"
    with pytest.raises(NotFound):
        act(city, "wuzhong.judge", case_id, "pronounce", options={"verdict": {"penalty": "none"}})


def test_release_lets_a_holiday_move_the_last_day_again(city: City) -> None:
    """The 1-month 补充侦查 limit from 2025-09-01 ends on 10-01 (国庆): it stays there while a suspect
    is in custody and moves to 10-09 once he is released (刑诉法第105条: custody on the expiry day)."""
    with time_machine.travel("2025-08-20 10:00 +0800"):
        case_id = register_case(city)
        party = Case.objects.get(pk=case_id).parties.get()
        act(city, "gusu.police_leader", case_id, "detain", party_ids=[party.pk])
        act(city, "gusu.police_leader", case_id, "transfer_for_prosecution")
        accept(city, "gusu.procu", case_id)
    with time_machine.travel("2025-09-01 09:00 +0800"):
        act(city, "gusu.procu_leader", case_id, "return_for_supplementary", reason="补充鉴定")
    clock = Clock.objects.get(case_id=case_id, rule="supplementary_investigation")
    assert clock.in_custody and clock.due.isoformat() == "2025-10-01"
    with time_machine.travel("2025-09-02 09:00 +0800"):
        act(city, "gusu.police_leader", case_id, "release", party_ids=[party.pk], reason="变更强制措施")
    clock.refresh_from_db()
    assert not clock.in_custody and clock.due.isoformat() == "2025-10-09"
