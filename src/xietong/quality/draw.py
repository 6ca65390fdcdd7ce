"""Which cases a campaign reviews (抽案): the rules a campaign may draw by, and a reproducible
sample per unit.

The sample is drawn per unit from the sorted case ids with a generator seeded by the campaign's seed
and the unit, so the same campaign over the same cases always draws the same cases, whatever order
the database returns them in, and adding a unit to the scope does not change another unit's draw.

Pure module: no Django import.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping

# Draw rules (抽查规则): a case matching any chosen rule is a candidate; none chosen means every
# case of the unit in the period is (随机抽查).
RULES: dict[str, str] = {
    "not_prosecuted": "不起诉案件",
    "withdrawn": "撤销案件",
    "supplementary_twice": "两次退回补充侦查的案件",
    "acquittal": "判决无罪的案件",
    "alerted": "有监督预警的案件",
}


def sample(candidates: Mapping[int, Iterable[int]], *, per_unit: int, seed: int) -> dict[int, list[int]]:
    """Up to ``per_unit`` case ids of each unit (all of them when ``per_unit`` is 0), in id order."""
    drawn: dict[int, list[int]] = {}
    for unit_id, ids in candidates.items():
        pool = sorted(set(ids))
        if per_unit and len(pool) > per_unit:
            rng = random.Random(f"{seed}:{unit_id}")  # noqa: S311 (a reproducible draw, not a secret)
            pool = sorted(rng.sample(pool, per_unit))
        drawn[unit_id] = pool
    return drawn
