"""The package module's own checks, without the database: the fast schema check agrees with
``jsonschema`` (the reference), and the chain check finds each kind of break."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import jsonschema

from xietong.exchange import package as pkg
from xietong.exchange.synthetic import Place, packages

PLACES = [Place("320508001", "P320508", "J320508", "F320508")]
ODD_VALUES: list[Any] = [None, "", "x" * 300, -1, 0, 1.5, 2.0, True, False, [], {}, "abc", "0" * 64, 10**6]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _mutate(item: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    out = copy.deepcopy(item)
    path = rng.choice(_paths(out))
    parent = out
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    move = rng.random()
    if move < 0.15 and isinstance(parent, dict):
        del parent[last]
    elif move < 0.25 and isinstance(parent, dict):
        parent["unexpected"] = 1
    else:
        parent[last] = rng.choice(ODD_VALUES)
    return out


def test_the_fast_check_gives_the_same_verdict_as_jsonschema() -> None:
    validator = jsonschema.Draft202012Validator(pkg.schema())
    fast = pkg.fast_check()
    rng = random.Random(5)
    items = list(packages(PLACES, 6))
    verdicts = {True: 0, False: 0}
    for _ in range(1500):
        item = _mutate(rng.choice(items), rng)
        expected = validator.is_valid(item)
        assert fast(item) == expected, json.dumps(item, ensure_ascii=False)[:400]
        verdicts[expected] += 1
    assert all(fast(i) for i in items)
    assert verdicts[True] > 50 and verdicts[False] > 500  # both verdicts were really exercised


def test_schema_problems_say_where_and_what() -> None:
    item = next(packages(PLACES, 1))
    item["case"]["occurred_at"] = "昨天"
    del item["parties"][0]["name"]

    problems = pkg.schema_problems(item)

    assert {p.code for p in problems} == {"schema_invalid"}
    text = " ".join(p.message for p in problems)
    assert "case/occurred_at" in text and "parties/0" in text and "name" in text


def test_the_chain_check_finds_a_gap_a_broken_link_and_a_changed_entry() -> None:
    item = next(packages(PLACES, 1))
    assert pkg.chain_problems(item) == []
    gap, link, changed = copy.deepcopy(item), copy.deepcopy(item), copy.deepcopy(item)
    del gap["events"][3]
    link["events"][4]["prev_hash"] = link["events"][2]["entry_hash"]
    changed["events"][5]["actor"]["name"] = "别人"

    assert [p.code for p in pkg.chain_problems(gap)] == ["chain_sequence"]
    assert [p.code for p in pkg.chain_problems(link)] == ["chain_link"]
    assert [p.code for p in pkg.chain_problems(changed)] == ["chain_hash"]


def test_references_are_checked_by_code() -> None:
    item = next(packages(PLACES, 1))
    units = {"P320508": 1, "J320508": 2, "F320508": 3}
    towns = {"320508001": (1, 2)}

    assert pkg.reference_problems(item, units=units, towns=towns, stages={"effective"}) == []
    item["case"]["court_unit"] = "F000000"
    item["clocks"] = [
        {
            "rule": "r",
            "party": 9,
            "unit": "P320508",
            "started_at": "2026-01-01T00:00:00Z",
            "in_custody": False,
            "due": "2026-01-02",
            "due_at": "2026-01-02T00:00:00Z",
            "status": "running",
        }
    ]
    codes = [p.code for p in pkg.reference_problems(item, units=units, towns=towns, stages={"x"})]
    assert codes == ["unit_unknown", "stage_unknown", "party_unknown"]
