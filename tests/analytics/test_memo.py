"""The leaders' figures are kept until the facts change (``analytics.memo``), and pages show the
change: at once when ``XIETONG_FACTS_MEMO_SECONDS`` is 0, after at most that long otherwise."""

from __future__ import annotations

from datetime import date
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from tests.analytics.factories import make_facts
from tests.factories import City
from xietong.analytics import memo
from xietong.supervision import oversight

THIS_YEAR = timezone.localdate().year


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


def test_a_figure_is_computed_once_per_generation_of_the_facts() -> None:
    compute = Counter()
    assert memo.memo("t", ("view", 1), compute) == 1
    assert memo.memo("t", ("view", 1), compute) == 1  # kept
    assert memo.memo("t", ("view", 2), compute) == 2  # other inputs, other figure
    memo.facts_changed()
    assert memo.memo("t", ("view", 1), compute) == 3  # the facts changed (tests: 0 s of grace)


def test_within_the_grace_period_a_figure_outlives_a_change(settings: Any) -> None:
    settings.XIETONG_FACTS_MEMO_SECONDS = 30
    compute = Counter()
    with mock.patch("xietong.analytics.memo.time.time", return_value=1_000.0):
        assert memo.memo("t", "x", compute) == 1
        memo.facts_changed()
        assert memo.memo("t", "x", compute) == 1  # facts refreshed a moment ago: still shown
    with mock.patch("xietong.analytics.memo.time.time", return_value=1_031.0):
        assert memo.memo("t", "x", compute) == 2  # older than 30 s and stale: computed again
        assert memo.memo("t", "x", compute) == 2


def test_a_failing_cache_only_costs_the_computation() -> None:
    compute = Counter()
    broken = mock.patch("xietong.analytics.memo.cache.get", side_effect=ConnectionError("redis down"))
    with broken, mock.patch("xietong.analytics.memo.cache.set", side_effect=ConnectionError("redis down")):
        assert memo.memo("t", "x", compute) == 1
        assert memo.memo("t", "x", compute) == 2
        memo.facts_changed()  # does not raise


@pytest.mark.django_db
def test_pages_show_new_facts_once_they_are_written(city: City) -> None:
    committee = Client()
    committee.force_login(city.u("committee"))
    month = date(THIS_YEAR, 1, 1)
    make_facts(city, [{"county": "gusu", "month": month, "charge": "诈骗罪"}] * 3)
    police = city.counties["gusu"].police.name

    def police_cases() -> int:
        return next(r.cases for r in oversight.unit_indicators(user=city.u("committee")) if r.name == police)

    assert '<span class="num">3</span>' in committee.get("/analytics/").content.decode()
    assert police_cases() == 3 and committee.get("/supervision/oversight/").status_code == 200
    make_facts(city, [{"county": "gusu", "month": month, "charge": "诈骗罪"}] * 2)  # renews the generation
    assert '<span class="num">5</span>' in committee.get("/analytics/").content.decode()
    assert police_cases() == 5
