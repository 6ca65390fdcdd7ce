"""Facts in bulk for the statistics tests: case rows plus their ``CaseFact``, without walking each
case through the door (the refresh itself is tested on real walks in ``test_services``)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time
from typing import Any

from django.utils import timezone

from tests.factories import City
from xietong.analytics.memo import facts_changed
from xietong.analytics.models import CaseFact
from xietong.cases.models import Case

_numbers = itertools.count(1)


def make_facts(city: City, rows: list[dict[str, Any]]) -> list[CaseFact]:
    """One case and fact per row. A row may set ``county`` (slug), ``town`` (index), ``month``
    (date), ``charge``, ``outcome``, ``unit`` ("police"/"procuratorate"/"court" of that county
    all set), and any other ``CaseFact`` field."""
    cases, facts = [], []
    for row in rows:
        row = dict(row)
        county = city.counties[row.pop("county", "gusu")]
        town = county.towns[row.pop("town", 0)]
        month: date = row.pop("month", date(2025, 1, 1))
        on = month.replace(day=min(row.pop("day", 10), 28))
        charge = row.pop("charge", "盗窃罪")
        at = timezone.make_aware(datetime.combine(on, time(10)))
        number = next(_numbers)
        cases.append(
            Case(
                number=f"T{number:06d}",
                title=f"测试案{number}",
                charge=charge,
                facts=row.pop("facts", "案情"),
                occurred_at=at,
                town=town,
                county=county.region,
                stage=row.get("stage", "execution"),
                holder_unit=county.police,
                police_unit=county.police,
            )
        )
        values: dict[str, Any] = {
            "county_id": county.region.pk, "town_id": town.pk, "charge": charge, "stage": "execution",
            "outcome": "convicted", "occurred_on": on, "occurred_hour": 10, "registered_on": on,
            "month": on.replace(day=1), "police_unit_id": county.police.pk,
            "procuratorate_unit_id": county.procuratorate.pk, "court_unit_id": county.court.pk,
            "ledger_seq": 0, "version": 1, "refreshed_at": timezone.now(),
        }  # fmt: skip
        values.update(row)
        facts.append(values)
    Case.objects.bulk_create(cases)
    made = [CaseFact(case_id=c.pk, **values) for c, values in zip(cases, facts, strict=True)]
    created = CaseFact.objects.bulk_create(made)
    facts_changed()  # as the refresher does after writing facts
    return created
