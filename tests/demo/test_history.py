"""Past years of concluded cases for the analytics demo: valid ledgers, facts, the planted surge."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from xietong.analytics.models import CaseFact, Population, TrendWarning
from xietong.analytics.services import facts_refresh, population_load, warnings_refresh
from xietong.cases.models import Case, Participation
from xietong.demo.generator import generate
from xietong.demo.history import SURGE, generate_history, population_csv, town_populations
from xietong.demo.units import create_org
from xietong.ledger.services import ledger_integrate_all
from xietong.ledger.verify import ledger_verify
from xietong.orgs.models import Region


def test_town_populations_add_up_to_their_county() -> None:
    towns = town_populations()
    gusu = sum(v for code, v in towns.items() if code.startswith("320508"))
    assert abs(gusu - 922_000) < 20 and len(towns) > 90 and len(set(towns.values())) > 50


@pytest.mark.django_db
def test_history_verifies_derives_and_its_surge_is_warned_about() -> None:
    create_org()
    population_load(population_csv(2020))
    assert Population.objects.count() > 100
    made = generate_history(months=30, per_month=40, seed=3)
    assert Case.objects.count() == made and made > 30 * 30
    assert not Case.objects.exclude(stage__in=["execution", "closed", "not_prosecuted", "withdrawn"]).exists()
    assert Participation.objects.filter(case__stage="execution").values("case").distinct().count() > 0
    ledger_integrate_all()
    assert ledger_verify().ok
    assert generate(count=2, seed=5) == 2  # the door files after the history (ids and 案件编号 moved on)
    assert facts_refresh() == made + 2
    recent = CaseFact.objects.filter(registered_on__year__gte=timezone.localdate().year - 1)
    assert recent.filter(outcome="convicted").exists() and recent.exclude(outcome="convicted").exists()
    this_month = timezone.localdate().replace(day=1)
    last_month = date(this_month.year - (this_month.month == 1), (this_month.month - 2) % 12 + 1, 1)
    warnings_refresh(month=last_month)
    county_code, town_name, charge, extra = SURGE
    town = Region.objects.get(parent__code=county_code, name=town_name)
    warning = TrendWarning.objects.get(region=town, charge=charge, month=last_month)
    assert warning.observed >= extra
