"""Smoke test of ``xietong bench analytics`` with 800 cases, in its own throwaway PostgreSQL database
(skipped when no PostgreSQL server answers): the last line is the JSON result, every report and its
baseline ran for both scopes and all five filter sets, and the facts the bench-only SQL built (forced
by a tiny ``--facts-budget``) equal what ``facts_refresh`` derives."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from xietong.bench import bulk

pytestmark = pytest.mark.bench

COMMON_KEYS = {"bench", "unit", "figures", "baseline", "ratio", "target", "target_met", "machine", "database"}
QUERIES = {
    "summary",
    "trend",
    "grouped_charge",
    "grouped_town",
    "funnel",
    "duration_histogram",
    "region_comparison",
    "hour_heat",
    "repeat_offenders",
    "co_occurring_places",
}
COMBINATIONS = {
    f"{scope}/{name}"
    for scope in ("committee", "county_leader")
    for name in ("year", "charge", "county", "town", "ten_years")
}


def test_analytics_smoke() -> None:
    problem = bulk.postgres_unavailable(bulk.server_url())
    if problem:
        pytest.skip(f"no PostgreSQL server for the bench databases: {problem}")
    out = io.StringIO()
    call_command(
        "bench", "analytics", "--cases", "800", "--requests", "1", "--facts-budget", "0.01", stdout=out
    )
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result.keys() >= COMMON_KEYS, COMMON_KEYS - result.keys()
    assert result["bench"] == "analytics"
    assert result["database"]["vendor"] == "postgresql" and result["database"]["kept"] is False

    data = result["data"]
    assert data["cases"] == 800 and data["ledger_verify_ok"] is True
    assert data["entries"] >= 5 * 800 and data["suspects"] >= 800

    queries = result["figures"]["queries"]
    assert set(queries) == QUERIES
    for name in QUERIES:
        assert queries[name]["n"] == len(COMBINATIONS), name
        assert set(result["combinations"][name]) == COMBINATIONS, name
        assert result["baseline"]["queries"][name]["n"] == len(COMBINATIONS), name
        assert queries[name]["p95_ms"] > 0 and queries[name]["baseline_p95_ms"] > 0
    assert set(result["ratio"]) == QUERIES

    facts = result["figures"]["facts_refresh"]
    assert facts["cases_per_s"] > 0
    assert facts["mode"] == "product probe + bench-only SQL"
    assert facts["verify"]["cases"] > 0 and facts["verify"]["mismatches"] == 0
    assert result["figures"]["warnings_refresh"]["seconds"] >= 0
