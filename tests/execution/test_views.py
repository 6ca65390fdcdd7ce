"""The corrections workbench, the prison's list and the custody check, as pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from django.test import Client
from django.utils import timezone

from tests.execution.test_services import PROBATION, accept, act, seal_all, to_judgment
from tests.factories import City
from xietong.cases.models import Party
from xietong.execution.models import CustodyEvent, Sentence, Supervisee
from xietong.execution.sweeps import execution_sweep
from xietong.supervision.models import Alert


def login(city: City, who: str) -> Client:
    client = Client()
    client.force_login(city.u(who))
    return client


def test_the_office_registers_the_report_from_its_workbench(city: City) -> None:
    case_id = to_judgment(city, PROBATION, held=False)
    with time_machine.travel(timezone.now() + timedelta(days=12)):
        office = login(city, "gusu.office")
        page = office.get("/execution/").content.decode()  # its visit makes the judgment effective
        assert "待报到" in page and "张1" in page and "已预告知" in page
        supervisee = Supervisee.objects.get(case_id=case_id)
        other = login(city, "wuzhong.office").post(f"/execution/supervisees/{supervisee.pk}/report")
        assert other.status_code == 403 and "不在本单位" in other.content.decode()
        done = office.post(f"/execution/supervisees/{supervisee.pk}/report", follow=True)
        assert "已报到" in done.content.decode()
        again = office.post(f"/execution/supervisees/{supervisee.pk}/report")
        assert again.status_code == 409 and "不能重复登记" in again.content.decode()
        case_page = office.get(f"/cases/{case_id}/").content.decode()
        assert "社区矫正（缓刑）" in case_page and "人员去向与羁押依据" in case_page


def test_the_workbench_counts_who_must_report_and_names_the_late(city: City) -> None:
    to_judgment(city, PROBATION, held=False)
    with time_machine.travel(timezone.now() + timedelta(days=12)):
        login(city, "gusu.office").get("/execution/")  # the judgment takes effect, 张1 is notified
        supervisee = Supervisee.objects.get()
    with time_machine.travel(supervisee.report_due + timedelta(days=3)):
        page = login(city, "gusu.office").get("/").content.decode()
        assert 'id="execution-summary"' in page and "社区矫正" in page
        assert "<b>1</b>待报到" in page and "<b>1</b>逾期未报到" in page and "张1" in page
        other = login(city, "wuzhong.office").get("/").content.decode()
        assert "<b>0</b>待报到" in other and "张1" not in other  # another county's office: its own only
        assert 'id="execution-summary"' not in login(city, "gusu.police").get("/").content.decode()


def test_the_prisons_workbench_counts_those_serving_and_names_whose_term_ends_soon(city: City) -> None:
    case_id = to_judgment(city, {"penalty": "fixed_term", "months": 18}, held=True)
    with time_machine.travel(timezone.now() + timedelta(days=12)):
        execution_sweep()
        act(city, "gusu.clerk", case_id, "deliver_for_execution")
        seal_all(city, case_id)
        accept(city, "prison", case_id)
        page = login(city, "prison").get("/").content.decode()
        assert "刑罚执行" in page and "<b>1</b>在押服刑" in page and "<b>0</b>30日内刑满" in page
    term_end = Sentence.objects.get(case_id=case_id).term_end
    assert term_end is not None
    with time_machine.travel(term_end - timedelta(days=20)):
        page = login(city, "prison").get("/").content.decode()
        assert "<b>1</b>30日内刑满" in page and "张1" in page and f"{term_end:%Y-%m-%d} 刑满释放" in page


def test_the_committee_runs_the_custody_check_and_units_see_their_own(city: City) -> None:
    case_id = to_judgment(city, {"penalty": "fixed_term", "months": 10, "probation_months": 12}, held=True)
    # the court never released him: from tomorrow he is held without a basis
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        refused = login(city, "gusu.police_leader").post("/execution/custody-check/run")
        assert refused.status_code == 403
        committee = login(city, "committee")
        ran = committee.post("/execution/custody-check/run", follow=True).content.decode()
        assert "1 人在押无法律依据" in ran and "张1" in ran
        alert: Any = Alert.objects.get(kind="custody_unlawful", case_id=case_id)
        assert alert.unit == city.counties["gusu"].court
        court_page = login(city, "gusu.court_leader").get("/execution/custody-check/").content.decode()
        assert "张1" in court_page
        police_page = login(city, "gusu.police_leader").get("/execution/custody-check/").content.decode()
        assert "张1" not in police_page
        party = Party.objects.get(case_id=case_id)
        act(city, "gusu.judge", case_id, "release_defendant", party_ids=[party.pk])
        committee.post("/execution/custody-check/run")
    assert Alert.objects.get(pk=alert.pk).resolved_at is not None
    assert CustodyEvent.objects.filter(case_id=case_id).last().kind == "release"  # type: ignore[union-attr]
