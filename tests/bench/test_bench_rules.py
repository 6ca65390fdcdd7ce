"""Smoke test of ``xietong bench rules`` with 2,000 historic cases and a few dozen live acts, in its own
throwaway PostgreSQL database (skipped when no PostgreSQL server answers): the last line is the JSON
result, ``ledger verify`` passed on the planted history, every planted abnormality was found and
nothing else (the bench fails otherwise), and the live stream ran in all three modes."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from xietong.bench import bulk
from xietong.bench.rules.plant import PLANTED_RULES

pytestmark = pytest.mark.bench

COMMON_KEYS = {"bench", "unit", "figures", "baseline", "ratio", "target", "target_met", "machine", "database"}


def test_rules_smoke() -> None:
    problem = bulk.postgres_unavailable(bulk.server_url())
    if problem:
        pytest.skip(f"no PostgreSQL server for the bench databases: {problem}")
    out = io.StringIO()
    call_command(
        "bench", "rules", "--cases", "2000", "--planted", "0.02", "--live-acts", "30", "--live-inline", "10",
        "--live-warmup", "40", "--live-block", "10", "--workers", "2", stdout=out,
    )  # fmt: skip
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result.keys() >= COMMON_KEYS, COMMON_KEYS - result.keys()
    assert result["bench"] == "rules"
    assert result["database"]["vendor"] == "postgresql" and result["database"]["kept"] is False
    assert result["data"]["cases"] == 2000 and result["data"]["ledger_verify_ok"] is True

    verification = result["verification"]
    assert verification["exact"] is True
    for code in PLANTED_RULES:
        n = verification["per_rule"][code]
        assert n["planted"] > 0, code
        assert n["planted_found"] == n["planted"] and n["missing"] == 0 and n["unexpected"] == 0, code

    again = result["figures"]["reevaluation"]
    assert again["cases"] == 2000 and again["entries"] >= 10 * 2000 and again["seconds"] > 0
    assert again["parallel"]["workers"] == 2 and again["parallel"]["findings"] == again["findings"]
    assert result["baseline"]["seconds"] > 0

    live = result["figures"]["live"]
    assert live["baseline"]["acts"] == 30 and live["worker"]["acts"] == 30 and live["inline"]["acts"] == 10
    assert set(result["ratio"]) >= {"live_inline", "live_worker"}
    assert live["ratio"]["inline"] > 0 and live["ratio"]["worker"] > 0
