"""The reproducible draw (pure)."""

from __future__ import annotations

from xietong.quality import draw


def test_same_seed_same_cases_whatever_the_order() -> None:
    a = draw.sample({1: list(range(100)), 2: [5, 3, 9]}, per_unit=4, seed=42)
    b = draw.sample({2: [9, 5, 3], 1: list(reversed(range(100)))}, per_unit=4, seed=42)
    assert a == b
    assert len(a[1]) == 4 and a[1] == sorted(a[1])
    assert a[2] == [3, 5, 9]  # fewer than per_unit: all of them


def test_another_seed_draws_other_cases_and_zero_means_all() -> None:
    pool = {1: list(range(200))}
    assert draw.sample(pool, per_unit=5, seed=1) != draw.sample(pool, per_unit=5, seed=2)
    assert draw.sample(pool, per_unit=0, seed=1)[1] == list(range(200))


def test_one_units_draw_does_not_depend_on_the_others() -> None:
    alone = draw.sample({1: list(range(50))}, per_unit=3, seed=9)
    together = draw.sample({1: list(range(50)), 2: list(range(50, 90))}, per_unit=3, seed=9)
    assert alone[1] == together[1]
