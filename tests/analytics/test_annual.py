"""年度刑事犯罪实证分析报告 (F12): figures from the facts, scoped to the reader, rendered to a PDF."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from pypdf import PdfReader

from tests.analytics.factories import make_facts
from tests.factories import City
from xietong.analytics import annual
from xietong.analytics.models import CaseFact, PersonFact, Population
from xietong.cases.models import Party
from xietong.errors import NotAllowed, ValidationFailed

# Reports of 2025 are read in 2026, so 2025 is a whole year (no 上年同期 cut-off).
LATER = time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)


def suspects(facts: list[CaseFact], *, gender: str = "男", age: int | None = 30, key: str = "") -> None:
    """One suspect per fact (the same person throughout when ``key`` is given)."""
    parties = Party.objects.bulk_create(
        [Party(case_id=f.case_id, name=f"嫌疑人{f.case_id}", gender=gender) for f in facts]
    )
    PersonFact.objects.bulk_create(
        [
            PersonFact(
                party=p,
                case=f,
                person_key=key or f"k{f.case_id}",
                gender=gender,
                age=age,
                charge=f.charge,
                town_id=f.town_id,
                registered_on=f.registered_on,
            )
            for p, f in zip(parties, facts, strict=True)
        ]
    )


def rows(n: int, **values: Any) -> list[dict[str, Any]]:
    return [dict(values, day=1 + i % 27) for i in range(n)]


def given_two_years(city: City) -> None:
    """2025: 姑苏 12 thefts in 街道1 (4 in 2024), 6 frauds in 街道2; 吴中 5 cases. Durations halve."""
    make_facts(city, rows(4, month=date(2024, 3, 1), days_total=64.0, occurred_hour=14))
    make_facts(city, rows(6, month=date(2024, 7, 1), town=1, charge="诈骗罪", days_total=70.0))
    thefts = make_facts(
        city, rows(12, month=date(2025, 3, 1), days_total=31.0, occurred_hour=21, amount_yuan=5000)
    )
    make_facts(
        city, rows(6, month=date(2025, 8, 1), town=1, charge="诈骗罪", days_total=29.0, outcome="pending")
    )
    make_facts(city, rows(5, county="wuzhong", month=date(2025, 5, 1), charge="危险驾驶罪", days_total=20.0))
    suspects(thefts[:3], key="same-man")
    suspects(thefts[3:5], gender="女", age=16)
    for county in city.counties.values():
        for i, town in enumerate(county.towns):
            Population.objects.create(region=town, year=2025, residents=50_000 * (i + 1))
        Population.objects.create(region=county.region, year=2025, residents=150_000)


def pdf_text(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


@LATER
def test_the_city_report_is_a_pdf_with_the_figures_of_the_year_and_charts(city: City) -> None:
    given_two_years(city)

    report = annual.annual_report(user=city.u("committee"), year=2025)
    reader, text = pdf_text(report.pdf())

    assert report.area_name == "苏州市" and report.figures["overview"]["total"] == 23
    assert report.figures["overview"]["previous"] == 10
    assert len(reader.pages) >= 3
    assert "苏州市" in text and "2025" in text and "姑苏区街道1" in text and "苏州市委政法委" in text
    assert "共立案刑事案件23件" in text.replace("\n", "")
    assert sum(len(page.images) for page in reader.pages) >= 5
    assert "{" not in text and "None" not in text


@LATER
def test_the_figures_compare_the_year_with_the_one_before(city: City) -> None:
    given_two_years(city)

    report = annual.annual_report(user=city.u("committee"), year="2025")

    f = report.figures
    theft = next(c for c in f["charges"] if c["charge"] == "盗窃罪")
    assert (theft["now"], theft["before"]) == (12, 4)
    assert f["months"]["now"][2] == 12 and f["months"]["before"][2] == 4
    assert f["hours"][21] == 12
    assert f["durations"]["days_total"]["mean"] == pytest.approx((12 * 31 + 6 * 29 + 5 * 20) / 23, abs=0.1)
    assert f["durations"]["days_total"]["mean_before"] == pytest.approx(67.6, abs=0.1)
    assert f["persons"]["now"]["total"] == 5 and f["persons"]["now"]["bands"][0] == 2
    assert f["persons"]["now"]["repeat"] == 1  # the same man in three cases: one person with earlier cases
    town1 = next(r for r in f["towns"] if r["name"] == "姑苏区街道1")
    assert (town1["count"], town1["previous"], town1["per_10k"]) == (12, 4, 2.4)
    findings = " ".join(" ".join(getattr(b, "items", [])) for b in report.sections[6].blocks)
    assert "盗窃罪立案12件，较上年（4件）上升200.0%" in findings
    assert "姑苏区街道1（4件增至12件）" in findings


@LATER
def test_a_county_leader_sees_his_county_only(city: City) -> None:
    given_two_years(city)

    report = annual.annual_report(user=city.u("gusu.police_leader"), year=2025)

    assert report.area_name == "姑苏区" and report.figures["overview"]["total"] == 18
    assert "吴中" not in report.html()
    with pytest.raises(NotAllowed):
        annual.annual_report(
            user=city.u("gusu.police_leader"), year=2025, county_id=city.counties["wuzhong"].region.pk
        )


@LATER
def test_a_leader_of_another_county_does_not_count_facts_he_cannot_see(city: City) -> None:
    given_two_years(city)

    report = annual.annual_report(user=city.u("wuzhong.court_leader"), year=2025)

    assert report.area_name == "吴中区" and report.figures["overview"]["total"] == 5
    assert report.figures["overview"]["previous"] == 0


@LATER
def test_an_empty_year_is_still_a_report_that_says_so(city: City) -> None:
    pdf = annual.annual_report_pdf(
        user=city.u("committee"), year=2023, county_id=city.counties["gusu"].region.pk
    )
    reader, text = pdf_text(pdf)

    assert len(reader.pages) >= 3
    assert "姑苏区" in text and "本年度无相关案件" in text and "{" not in text


@LATER
def test_the_current_year_is_compared_with_the_same_days_a_year_before(city: City) -> None:
    make_facts(city, rows(3, month=date(2025, 2, 1)) + rows(7, month=date(2025, 6, 1)))
    make_facts(city, rows(4, month=date(2026, 1, 1)))

    report = annual.annual_report(user=city.u("committee"), year=2026)

    assert report.partial and report.period_text == "2026年1月1日至3月2日"
    assert report.figures["overview"]["previous"] == 3


@LATER
@pytest.mark.parametrize("year", [1800, "abc", "", None, 2027, True])
def test_a_bad_year_is_refused(city: City, year: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        annual.annual_report(user=city.u("committee"), year=year)
    assert caught.value.code == "bad_report"


@LATER
@pytest.mark.parametrize("county", ["x", "999999", "town"])
def test_a_bad_county_is_refused(city: City, county: str) -> None:
    county_id = str(city.counties["gusu"].towns[0].pk) if county == "town" else county
    with pytest.raises(ValidationFailed) as caught:
        annual.annual_report(user=city.u("committee"), year=2025, county_id=county_id)
    assert caught.value.code == "bad_report"
