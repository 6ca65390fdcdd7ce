"""The engine on cases walked through the door: planted abnormalities are caught, clean cases are
not flagged, and nothing is raised twice however often (or however) a case is evaluated."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from django.utils import timezone

from tests.cases.test_services_lifecycle import accept, act
from tests.factories import City, register_case
from tests.instruments.conftest import seal_through
from xietong.cases.models import Case, Party
from xietong.instruments import services as instruments
from xietong.instruments.models import Instrument
from xietong.supervision import engine
from xietong.supervision.models import Alert, CaseEvaluation


def alerts(case_id: int) -> list[tuple[str, str]]:
    return sorted(Alert.objects.filter(case_id=case_id).values_list("rule", "severity"))


def clean_case(city: City) -> int:
    """Filed, on bail, transferred, indicted, judged and served in time."""
    case_id = register_case(city)
    parties = list(Party.objects.filter(case_id=case_id).values_list("pk", flat=True))
    act(city, "gusu.police_leader", case_id, "bail", party_ids=parties)
    with time_machine.travel(timezone.now() + timedelta(days=10)):
        act(city, "gusu.police_leader", case_id, "transfer_for_prosecution")
        accept(city, "gusu.procu", case_id)
    with time_machine.travel(timezone.now() + timedelta(days=25)):
        act(city, "gusu.procu_leader", case_id, "indict")
        accept(city, "gusu.judge", case_id, procedure="summary")
    with time_machine.travel(timezone.now() + timedelta(days=35)):
        verdict = {"guilty": True, "penalty": "fixed_term", "months": 10}
        act(city, "gusu.judge", case_id, "pronounce", options={"verdict": verdict})
        act(city, "gusu.judge", case_id, "serve_judgment")
    return case_id


def test_a_clean_case_raises_nothing(city: City) -> None:
    case_id = clean_case(city)
    outcome = engine.evaluate_cases([case_id])
    assert outcome.cases == 1 and alerts(case_id) == []
    assert CaseEvaluation.objects.get(case_id=case_id).ledger_seq == Case.objects.get(pk=case_id).ledger_seq


def test_a_hollow_resubmission_is_caught_once_however_often_it_is_evaluated(city: City) -> None:
    case_id = register_case(city)
    act(city, "gusu.police_leader", case_id, "transfer_for_prosecution")
    accept(city, "gusu.procu", case_id)
    with time_machine.travel(timezone.now() + timedelta(days=20)):
        act(city, "gusu.procu_leader", case_id, "return_for_supplementary", reason="证据不足")
    with time_machine.travel(timezone.now() + timedelta(days=21)):
        act(city, "gusu.police_leader", case_id, "resubmit")
    engine.evaluate_cases([case_id])
    engine.evaluate_cases([case_id])
    engine.reevaluate_all()
    assert alerts(case_id) == [("supplementary.hollow", "warning")]
    alert = Alert.objects.get(case_id=case_id)
    assert alert.kind == "time_borrowing" and alert.user == city.u("gusu.police_leader")
    assert alert.unit == city.counties["gusu"].police
    assert alert.supervisor_unit == city.counties["gusu"].procuratorate  # 法律监督 of the county
    assert [e["action"] for e in alert.details["entries"]] == ["return_for_supplementary", "resubmit"]


def test_a_backdated_act_is_caught(city: City) -> None:
    case_id = register_case(city)
    claimed = timezone.localdate() + timedelta(days=1)
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        act(city, "gusu.police_leader", case_id, "transfer_for_prosecution", claimed_date=claimed)
    engine.evaluate_cases([case_id])
    assert ("backdate.claimed", "warning") in alerts(case_id)


def test_an_approved_withdrawal_of_a_sealed_instrument_is_noted_against_who_asked(city: City) -> None:
    case_id = register_case(city)
    parties = list(Party.objects.filter(case_id=case_id).values_list("pk", flat=True))
    act(city, "gusu.police_leader", case_id, "detain", party_ids=parties)
    act(city, "gusu.police_leader", case_id, "request_arrest", party_ids=parties)
    draft = Instrument.objects.filter(case_id=case_id, kind="提请批准逮捕书").get()
    sealed = seal_through(city, draft, "gusu.police", "gusu.police_leader")
    instruments.instrument_change_request(
        user=city.u("gusu.police"), instrument_id=sealed.pk, change="withdraw", reason="提请对象有误"
    )
    instruments.instrument_change_decide(
        user=city.u("gusu.police_leader"), instrument_id=sealed.pk, approve=True
    )
    engine.evaluate_cases([case_id])
    alert = Alert.objects.get(case_id=case_id, rule="instrument.changed")
    assert alert.user == city.u("gusu.police") and "提请对象有误" in alert.message


def test_custody_running_past_its_limit_is_found_by_the_sweep_without_any_act(city: City) -> None:
    case_id = register_case(city)
    parties = list(Party.objects.filter(case_id=case_id).values_list("pk", flat=True))
    act(city, "gusu.police_leader", case_id, "detain", party_ids=parties)
    act(city, "gusu.police_leader", case_id, "deliver_to_jail", party_ids=parties)
    act(city, "gusu.police_leader", case_id, "notify_detention", party_ids=parties)
    act(city, "gusu.police_leader", case_id, "interrogate", party_ids=parties)
    engine.evaluate_cases([case_id])
    assert alerts(case_id) == []
    with time_machine.travel(timezone.now() + timedelta(days=9)):  # 提请批准逮捕: 3 days, 7 at most
        swept = engine.clocks_sweep()
        again = engine.clocks_sweep()
    assert swept.raised == 1 and again.raised == 0
    assert alerts(case_id) == [("custody.overdue", "serious")]


def test_an_act_marks_its_case_dirty_and_the_worker_job_catches_up(city: City) -> None:
    case_id = register_case(city)
    engine.on_case_acted(case_id=case_id, action="register")
    assert CaseEvaluation.objects.get(case_id=case_id).dirty
    assert case_id in engine.stale_case_ids()
    engine.evaluate_stale()
    assert not CaseEvaluation.objects.get(case_id=case_id).dirty
    assert case_id not in engine.stale_case_ids()
    act(city, "gusu.police_leader", case_id, "transfer_for_prosecution")  # the head moves: behind
    assert case_id in engine.stale_case_ids()


def test_an_entry_written_outside_the_door_marks_its_case_dirty_and_only_dirty_cases_are_evaluated(
    city: City, django_capture_on_commit_callbacks: Any
) -> None:
    case_id = register_case(city)
    parties = list(Party.objects.filter(case_id=case_id).values_list("pk", flat=True))
    act(city, "gusu.police_leader", case_id, "detain", party_ids=parties)
    act(city, "gusu.police_leader", case_id, "request_arrest", party_ids=parties)
    quiet_id = register_case(city)
    engine.evaluate_cases([case_id, quiet_id])
    draft = Instrument.objects.filter(case_id=case_id, kind="提请批准逮捕书").get()
    with django_capture_on_commit_callbacks(execute=True):
        seal_through(city, draft, "gusu.police", "gusu.police_leader")  # the instruments app's entries
    assert CaseEvaluation.objects.get(case_id=case_id).dirty
    act(city, "gusu.police_leader", quiet_id, "transfer_for_prosecution")  # behind, not marked
    assert engine.dirty_case_ids() == [case_id]
    assert engine.evaluate_dirty().cases == 1  # the act's job: the dirty case, not the behind one
    assert not CaseEvaluation.objects.get(case_id=case_id).dirty
    assert engine.stale_case_ids() == [quiet_id]  # the periodic job's catch-up still finds it
    engine.evaluate_stale()
    assert engine.stale_case_ids() == []
