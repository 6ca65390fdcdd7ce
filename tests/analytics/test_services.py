"""The facts layer's refresh on real walks, population figures, saved queries and trend warnings."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from tests.analytics.factories import make_facts
from tests.cases.test_services_lifecycle import accept, act
from tests.factories import City, register_case, register_input
from xietong.analytics import memo, services
from xietong.analytics.models import CaseFact, PersonFact, Population, TrendWarning
from xietong.cases import services as services_cases
from xietong.cases.models import Case, Clock
from xietong.errors import NotAllowed, ValidationFailed


def judged_case(city: City) -> int:
    case_id = register_case(city, parties=2, facts="犯罪嫌疑人盗窃他人财物，价值人民币12000元。")
    parties = list(Case.objects.get(pk=case_id).parties.values_list("pk", flat=True))
    act(city, "gusu.police_leader", case_id, "detain", party_ids=parties)
    with time_machine.travel(timezone.now() + timedelta(days=20)):
        act(city, "gusu.police_leader", case_id, "transfer_for_prosecution")
        accept(city, "gusu.procu", case_id)
    with time_machine.travel(timezone.now() + timedelta(days=35)):
        act(city, "gusu.procu_leader", case_id, "indict")
        accept(city, "gusu.judge", case_id, procedure="summary")
    with time_machine.travel(timezone.now() + timedelta(days=50)):
        verdict = {"guilty": True, "penalty": "fixed_term", "months": 10}
        act(city, "gusu.judge", case_id, "pronounce", options={"verdict": verdict})
    with time_machine.travel(timezone.now() + timedelta(days=70)):
        act(city, "gusu.judge", case_id, "judgment_effective")
    return case_id


def test_refresh_derives_a_judged_case_and_its_suspects_once(city: City) -> None:
    case_id = judged_case(city)
    generation = cache.get(memo.GENERATION_KEY)
    assert services.facts_refresh() == 1
    assert cache.get(memo.GENERATION_KEY) != generation  # the leaders' figures computed before are stale
    fact = CaseFact.objects.get(pk=case_id)
    assert fact.outcome == "convicted" and fact.stage == "effective" and fact.in_custody
    assert round(fact.days_investigation or 0) == 20 and round(fact.days_review or 0) == 15
    assert round(fact.days_trial or 0) == 15 and round(fact.days_total or 0) == 70
    assert fact.amount_yuan == 12000 and fact.penalty_months == 10 and fact.defendants == 2
    assert fact.police_handler == city.u("gusu.police_leader") and fact.judge == city.u("gusu.judge")
    assert PersonFact.objects.filter(case=fact).count() == 2
    assert services.facts_refresh() == 0  # nothing moved since


def test_the_parties_appeal_period_running_out_does_not_make_a_case_overdue(city: City) -> None:
    """判决生效 is recorded after the parties' ten days (art. 230) have run out, by design."""
    case_id = judged_case(city)
    appeal = Clock.objects.get(case_id=case_id, rule="appeal_judgment")
    assert appeal.stopped_at and appeal.stopped_at > appeal.due_at
    services.facts_refresh()
    late = [c.rule for c in Clock.objects.filter(case_id=case_id) if c.stopped_at and c.stopped_at > c.due_at]
    assert CaseFact.objects.get(pk=case_id).overdue_count == len(late) - 1


def test_a_person_in_a_second_case_is_marked_a_repeater_in_both(city: City) -> None:
    first, second = register_case(city), register_case(city)  # both suspects are 张1, no ID number
    data = register_input(city)
    data.parties[0].name = "李四"
    registered = services_cases.case_register(user=city.u("gusu.police_leader"), data=data)
    assert registered.case is not None
    other = registered.case.pk
    services.facts_refresh(case_ids=[first, other])
    assert not PersonFact.objects.filter(repeat=True).exists()
    services.facts_refresh(case_ids=[second])
    assert set(PersonFact.objects.filter(repeat=True).values_list("case_id", flat=True)) == {first, second}
    Case.objects.filter(pk=second).delete()  # the fact and its suspect go with it
    services.facts_refresh(case_ids=[first])
    assert not PersonFact.objects.filter(repeat=True).exists()


def test_an_act_makes_the_fact_stale_and_the_next_refresh_catches_up(city: City) -> None:
    case_id = register_case(city)
    services.facts_refresh()
    assert CaseFact.objects.get(pk=case_id).stage == "investigation"
    act(city, "gusu.police_leader", case_id, "transfer_for_prosecution")
    assert list(services.stale_case_ids()) == [case_id]
    assert services.facts_refresh() == 1
    fact = CaseFact.objects.get(pk=case_id)
    assert fact.transferred_on == timezone.localdate() and fact.outcome == "pending"


def test_refreshing_the_same_cases_twice_keeps_one_fact_each(city: City) -> None:
    ids = [register_case(city, parties=2) for _ in range(3)]
    services.facts_refresh(case_ids=ids)
    services.facts_refresh(case_ids=ids)
    assert CaseFact.objects.count() == 3 and PersonFact.objects.count() == 6


def test_population_file_loads_all_or_nothing(city: City) -> None:
    town = city.counties["gusu"].towns[0]
    assert services.population_load(f"区划代码,年份,常住人口\n{town.code},2024,51000\n") == 1
    with pytest.raises(ValidationFailed) as bad:
        services.population_load(f"{town.code},2025,52000\n{town.code},二〇二五,1\n")
    assert "第 2 行" in bad.value.message and bad.value.code == "population_invalid"
    with pytest.raises(ValidationFailed, match="不存在"):
        services.population_load("999999,2025,1\n")
    assert list(Population.objects.values_list("year", "residents")) == [(2024, 51000)]
    services.population_load(f"{town.code},2024,53000,统计年鉴")
    assert Population.objects.get().residents == 53000


def test_saved_queries_belong_to_their_owner(city: City) -> None:
    mine = services.saved_query_save(
        user=city.u("gusu.police"), name=" 本月诈骗 ", params={"charge": "诈骗罪"}, shared=True
    )
    again = services.saved_query_save(
        user=city.u("gusu.police"), name="本月诈骗", params={"charge": "盗窃罪"}, shared=False
    )
    assert mine.pk == again.pk and again.params == {"charge": "盗窃罪"}
    with pytest.raises(ValidationFailed):
        services.saved_query_save(user=city.u("gusu.police"), name="  ", params={}, shared=False)
    with pytest.raises(NotAllowed):
        services.saved_query_delete(user=city.u("gusu.procu"), query_id=mine.pk)
    services.saved_query_delete(user=city.u("gusu.police"), query_id=mine.pk)


def _monthly(city: City, *, town: int, counts: list[int], start: date, charge: str) -> None:
    rows = []
    for i, n in enumerate(counts):
        month = date(start.year + (start.month - 1 + i) // 12, (start.month - 1 + i) % 12 + 1, 1)
        rows += [{"town": town, "month": month, "charge": charge, "day": 1 + k % 27} for k in range(n)]
    make_facts(city, rows)


def test_a_planted_surge_in_one_towns_fraud_is_warned_about_and_a_flat_town_is_not(city: City) -> None:
    rng = random.Random(5)
    flat = [max(0, round(rng.gauss(8, 2.5))) for _ in range(60)]
    surge = [max(0, round(rng.gauss(8, 2.5))) for _ in range(59)] + [31]
    _monthly(city, town=0, counts=surge, start=date(2021, 1, 1), charge="诈骗罪")
    _monthly(city, town=1, counts=flat, start=date(2021, 1, 1), charge="诈骗罪")
    assert services.warnings_refresh(month=date(2025, 12, 1)) >= 1
    towns = city.counties["gusu"].towns
    warned = TrendWarning.objects.get(region=towns[0], charge="诈骗罪")
    assert warned.observed == 31 and warned.expected < 12 and warned.month == date(2025, 12, 1)
    assert "31" in warned.reason and warned.evidence["series"][-1] == 31
    assert not TrendWarning.objects.filter(region=towns[1]).exists()
    # a second run keeps the one warning
    services.warnings_refresh(month=date(2025, 12, 1))
    assert TrendWarning.objects.filter(region=towns[0], charge="诈骗罪").count() == 1
