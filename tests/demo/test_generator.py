"""The demo generator: Suzhou's units and people, cases in every stage, a ledger that verifies."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.management import call_command

from xietong.cases.models import ActionRequest, Case, Clock
from xietong.demo.generator import generate
from xietong.demo.units import create_org
from xietong.ledger.services import ledger_integrate_all
from xietong.ledger.verify import ledger_verify
from xietong.orgs.models import Region, Unit, User


@pytest.mark.django_db
def test_org_has_ten_counties_their_towns_and_four_agencies_each() -> None:
    create_org()
    counties = Region.objects.filter(level="county")
    assert counties.count() == 10
    assert Region.objects.filter(level="town").count() >= 90
    for county in counties:
        kinds = set(Unit.objects.filter(region=county).values_list("kind", flat=True))
        assert {"police_branch", "procuratorate", "basic_court", "justice_bureau", "corrections"} <= kinds
    assert User.objects.get(username="admin").has_duty("admin")
    assert User.objects.get(username="gusu_procu_leader").unit.name == "苏州市姑苏区人民检察院"


@pytest.mark.django_db
def test_generated_cases_cover_the_stages_and_verify() -> None:
    create_org()
    generate(count=60, seed=3)
    stages = Counter(Case.objects.values_list("stage", flat=True))
    assert len(stages) >= 8, stages
    assert {"investigation", "prosecution_review", "execution"} <= set(stages)
    assert Clock.objects.filter(status="running").exists()
    assert ActionRequest.objects.filter(status="pending").exists() or Case.objects.count() == 60
    ledger_integrate_all()
    report = ledger_verify()
    assert report.ok and report.cases == Case.objects.count()


@pytest.mark.django_db
def test_demo_load_runs_once(capsys: pytest.CaptureFixture[str]) -> None:
    options = ("--cases", "3", "--scans", "0", "--history-months", "2", "--history-per-month", "5")
    call_command("demo", "load", *options)
    first = Case.objects.count()
    call_command("demo", "load", *options)
    out = capsys.readouterr().out
    assert "跳过" in out and "态势分析：案件事实" in out
    assert (
        first == Case.objects.count() and 3 + 22 <= first <= 3 + 22 + 30
    )  # 2 months of history and the surge
