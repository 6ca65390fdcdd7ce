"""Statistics over facts: the figures, the filters, and who sees which facts."""

from __future__ import annotations

from datetime import date

import pytest

from tests.analytics.factories import make_facts
from tests.factories import City
from xietong.analytics import selectors
from xietong.analytics.models import CaseFact, PersonFact, Population
from xietong.analytics.selectors import Filters
from xietong.errors import ValidationFailed


def test_summary_rates_follow_their_definitions(city: City) -> None:
    make_facts(
        city,
        [{"outcome": "convicted", "indicted_on": date(2025, 2, 1), "days_total": 40.0}] * 6
        + [{"outcome": "acquitted", "indicted_on": date(2025, 2, 1), "days_total": 80.0}]
        + [{"outcome": "not_prosecuted", "transferred_on": date(2025, 1, 20), "supplementary_count": 1}] * 3
        + [{"outcome": "pending", "overdue_count": 1, "transferred_on": date(2025, 1, 20)}] * 2,
    )
    s = selectors.summary(CaseFact.objects.all())
    assert s["total"] == 12 and s["concluded"] == 10 and s["pending"] == 2
    assert s["not_prosecuted_rate"] == 30.0  # 3 of (3 + 7 indicted)
    assert s["acquittal_rate"] == round(100 / 7, 1)
    assert s["return_rate"] == 60.0  # 3 returned of 5 transferred
    assert s["on_time_rate"] == round(1000 / 12, 1)
    assert s["days_total"] == round((6 * 40 + 80) / 7, 1)


def test_trend_gives_year_on_year_and_month_on_month(city: City) -> None:
    make_facts(
        city,
        [{"month": date(2024, 3, 1)}] * 4
        + [{"month": date(2025, 2, 1)}] * 5
        + [{"month": date(2025, 3, 1)}] * 6,
    )
    rows = {r["period"]: r for r in selectors.trend(CaseFact.objects.all())}
    assert rows["2025-03"]["count"] == 6 and rows["2025-03"]["yoy"] == 50.0 and rows["2025-03"]["mom"] == 20.0
    years = {r["period"]: r for r in selectors.trend(CaseFact.objects.all(), period="year")}
    assert years["2025"]["count"] == 11 and years["2025"]["yoy"] == 175.0
    quarters = {r["period"]: r["count"] for r in selectors.trend(CaseFact.objects.all(), period="quarter")}
    assert quarters == {"2024Q1": 4, "2025Q1": 11}
    with pytest.raises(ValidationFailed):
        selectors.trend(CaseFact.objects.all(), period="week")


def test_grouping_labels_units_and_regions(city: City) -> None:
    make_facts(city, [{"county": "gusu"}] * 3 + [{"county": "wuzhong", "charge": "诈骗罪"}] * 2)
    by_county = selectors.grouped(CaseFact.objects.all(), "county")
    assert [(r["label"], r["total"]) for r in by_county] == [("姑苏区", 3), ("吴中区", 2)]
    by_unit = selectors.grouped(CaseFact.objects.all(), "procuratorate_unit")
    assert by_unit[0]["label"] == "姑苏区人民检察院"
    with pytest.raises(ValidationFailed):
        selectors.grouped(CaseFact.objects.all(), "password")


def test_duration_histogram_and_its_median(city: City) -> None:
    make_facts(city, [{"days_total": d} for d in (5.0, 10.0, 20.0, 25.0, 50.0, 400.0)])
    h = selectors.duration_histogram(CaseFact.objects.all())
    assert h["total"] == 6 and h["counts"][:4] == [2, 2, 0, 1] and h["counts"][-1] == 1
    assert h["bins"][0] == "0–15" and 15 <= h["median"] <= 30


def test_funnel_counts_each_step_reached(city: City) -> None:
    make_facts(
        city,
        [
            {"transferred_on": date(2025, 2, 1), "indicted_on": date(2025, 3, 1)},
            {"transferred_on": date(2025, 2, 1)},
            {},
        ],
    )
    steps = {s["step"]: s["count"] for s in selectors.funnel(CaseFact.objects.all())}
    assert (
        steps["立案"] == 3
        and steps["移送审查起诉"] == 2
        and steps["提起公诉"] == 1
        and steps["一审宣判"] == 0
    )


def test_town_comparison_per_ten_thousand_residents(city: City) -> None:
    towns = city.counties["gusu"].towns
    Population.objects.create(region=towns[0], year=2024, residents=20000)
    Population.objects.create(region=towns[1], year=2024, residents=100000)
    make_facts(
        city, [{"town": 0, "month": date(2025, 5, 1)}] * 4 + [{"town": 1, "month": date(2025, 5, 1)}] * 6
    )
    make_facts(city, [{"town": 0, "month": date(2024, 5, 1)}] * 2)
    rows = selectors.region_comparison(
        CaseFact.objects.all(), year=2025, county=city.counties["gusu"].region.pk
    )
    assert [(r["name"], r["per_10k"]) for r in rows] == [(towns[0].name, 2.0), (towns[1].name, 0.6)]
    assert rows[0]["yoy"] == 100.0 and rows[0]["residents"] == 20000  # 2024's figure serves 2025


def test_repeat_offenders_and_the_charges_that_go_together(city: City) -> None:
    facts = make_facts(
        city, [{"charge": "盗窃罪", "month": date(2024, 1, 1)}, {"charge": "诈骗罪"}, {"charge": "盗窃罪"}]
    )
    from xietong.cases.models import Party

    for i, fact in enumerate(facts):
        party = Party.objects.create(case_id=fact.pk, name=f"某{i}", gender="男")
        key = "same" if i < 2 else "other"
        PersonFact.objects.create(
            party=party,
            case=fact,
            person_key=key,
            repeat=key == "same",
            gender="男",
            charge=fact.charge,
            town_id=fact.town_id,
            registered_on=fact.registered_on,
        )
    r = selectors.repeat_offenders(PersonFact.objects.all())
    assert r["people"] == 3 and r["repeaters"] == 1 and r["top"][0]["charges"] == "盗窃罪→诈骗罪"
    assert r["pairs"] == [{"a": "盗窃罪", "b": "诈骗罪", "n": 1}]
    # Within a filter only the cases in it count: the same person in one of them is no repeater.
    in_2025 = CaseFact.objects.filter(month__year=2025)
    r = selectors.repeat_offenders(PersonFact.objects.filter(case__in=in_2025), in_2025)
    assert r["people"] == 2 and r["repeaters"] == 0


def test_places_where_a_charge_is_over_represented(city: City) -> None:
    make_facts(
        city,
        [{"town": 0, "charge": "诈骗罪"}] * 8
        + [{"town": 1, "charge": "盗窃罪"}] * 8
        + [{"town": 1, "charge": "诈骗罪"}] * 2,
    )
    top = selectors.co_occurring_places(CaseFact.objects.all())[0]
    assert (
        top["town_name"] == city.counties["gusu"].towns[0].name
        and top["charge"] == "诈骗罪"
        and top["lift"] > 1
    )


def test_filters_parse_apply_and_reject_bad_values(city: City) -> None:
    make_facts(
        city,
        [
            {"amount_yuan": 500, "in_custody": True},
            {"amount_yuan": 50000, "charge": "诈骗罪"},
            {"county": "wuzhong"},
        ],
    )
    f = Filters.parse({"amount_min": "1000", "charge": "诈骗罪", "date_from": "2025-01"})
    assert f.apply(CaseFact.objects.all()).count() == 1
    assert Filters.parse({"custody": "1"}).apply(CaseFact.objects.all()).count() == 1
    assert (
        Filters.parse({"county": str(city.counties["wuzhong"].region.pk)})
        .apply(CaseFact.objects.all())
        .count()
        == 1
    )
    assert Filters.parse(f.as_params()) == f
    for bad in (
        {"date_from": "昨天"},
        {"amount_min": "-5"},
        {"county": "x"},
        {"stage": "nowhere"},
        {"custody": "maybe"},
        {"date_from": "2025-03-01", "date_to": "2025-01-01"},
    ):
        with pytest.raises(ValidationFailed) as err:
            Filters.parse(bad)
        assert err.value.code == "bad_filter"


def test_each_user_counts_only_the_facts_of_cases_he_may_see(city: City) -> None:
    make_facts(city, [{"county": "gusu"}] * 3 + [{"county": "wuzhong"}] * 2)
    assert selectors.facts_visible_to(user=city.u("committee")).count() == 5
    assert selectors.facts_visible_to(user=city.u("gusu.procu")).count() == 3
    assert selectors.facts_visible_to(user=city.u("wuzhong.judge")).count() == 2
    assert selectors.facts_visible_to(user=city.u("city_police_leader")).count() == 5  # his subtree
    assert selectors.facts_visible_to(user=city.u("gusu.station")).count() == 0  # the station handled none
    assert selectors.facts_visible_to(user=city.u("gusu.corrections")).count() == 0


def test_charge_trends_read_direction_and_season(city: City) -> None:
    rows = []
    for i in range(36):
        month = date(2023 + i // 12, i % 12 + 1, 1)
        rows += [{"charge": "诈骗罪", "month": month}] * (3 + i // 3)  # steadily up
        rows += [{"charge": "盗窃罪", "month": month}] * (12 if month.month in (7, 8) else 4)  # summer
    make_facts(city, rows)
    trends = {
        t["charge"]: t
        for t in selectors.charge_trends(CaseFact.objects.all(), end=date(2025, 12, 1), months=36)
    }
    assert trends["诈骗罪"]["label"] == "上升" and trends["诈骗罪"]["annual_change"] > 30
    assert trends["盗窃罪"]["label"] == "平稳" and set(trends["盗窃罪"]["peaks"]) == {"7月", "8月"}


def test_suspects_are_filtered_on_their_own_columns_when_the_filters_allow(city: City) -> None:
    from xietong.cases.models import Party

    facts = make_facts(
        city,
        [
            {"charge": "盗窃罪", "month": date(2024, 3, 1)},
            {"charge": "诈骗罪", "county": "wuzhong"},
            {"charge": "盗窃罪", "stage": "investigation", "outcome": "pending"},
        ],
    )
    for i, fact in enumerate(facts):
        party = Party.objects.create(case_id=fact.pk, name=f"某{i}", gender="男")
        PersonFact.objects.create(
            party=party,
            case=fact,
            person_key=f"k{i}",
            gender="男",
            charge=fact.charge,
            town_id=fact.town_id,
            registered_on=fact.registered_on,
        )
    committee = city.u("committee")
    for params in (
        {"charge": "盗窃罪"},
        {"date_from": "2025-01"},
        {"county": str(city.counties["wuzhong"].region.pk)},
        {"outcome": "pending"},  # needs the fact: through the facts
        {},
    ):
        flt = Filters.parse(params)
        facts_qs = flt.apply(selectors.facts_visible_to(user=committee))
        through_facts = selectors.persons_visible_to(user=committee).filter(case__in=facts_qs.values("pk"))
        direct = selectors.persons_for(user=committee, filters=flt, facts=facts_qs)
        assert sorted(direct.values_list("pk", flat=True)) == sorted(
            through_facts.values_list("pk", flat=True)
        )
    assert Filters.parse({"outcome": "pending"}).apply_to_persons(PersonFact.objects.all()) is None
