"""Smoke tests of ``xietong bench``: each bench with tiny sizes, in its own throwaway PostgreSQL
database (so they run the same whether the suite itself runs on SQLite or PostgreSQL), and the last
line of the output must be one JSON object with the bench's figures. Skipped when no PostgreSQL server
answers. Deselect with ``--ignore=tests/bench`` (or ``-m "not bench"`` once the marker is registered)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command

from xietong.bench import bulk

COMMON_KEYS = {"bench", "unit", "figures", "baseline", "ratio", "target", "target_met", "machine", "database"}


@pytest.fixture(scope="module")
def pg_server() -> str:
    server = bulk.server_url()
    problem = bulk.postgres_unavailable(server)
    if problem:
        pytest.skip(f"no PostgreSQL server for the bench databases: {problem}")
    return server


pytestmark = pytest.mark.bench


def _bench(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("bench", *args, stdout=out)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    result = json.loads(lines[-1])
    assert isinstance(result, dict)
    assert result.keys() >= COMMON_KEYS, COMMON_KEYS - result.keys()
    assert result["database"]["vendor"] == "postgresql"
    assert result["database"]["kept"] is False
    return result


def _gone(name: str, server: str) -> bool:
    with bulk._connect(server) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None


def test_transitions_smoke(pg_server: str) -> None:
    result = _bench("transitions", "--clients", "1", "--seconds", "1", "--cases-per-client", "6")
    assert result["bench"] == "transitions"
    one = result["by_clients"]["1"]
    assert one["with_ledger_tps"] > 0 and one["without_ledger_tps"] > 0
    assert result["ratio"] == one["ratio"]
    assert result["ledger"]["verify_ok"] is True
    phase = result["phases"][0]
    assert phase["with_ledger"]["ops"] > 0 and phase["without_ledger"]["ops"] > 0
    assert _gone(result["database"]["name"], pg_server)


def test_ledger_verify_smoke(pg_server: str) -> None:
    result = _bench("ledger-verify", "--entries", "2000", "--per-case", "10")
    assert result["bench"] == "ledger-verify"
    assert result["figures"]["entries"] == 2000 and result["figures"]["cases"] == 200
    assert result["figures"]["verify_eps"] > 0 and result["baseline"]["rows_per_s"] > 0
    assert result["tamper"]["verify_failed"] is True
    assert result["tamper"]["trigger_refused_update"] is True
    assert _gone(result["database"]["name"], pg_server)


def test_leaders_smoke(pg_server: str) -> None:
    result = _bench("leaders", "--months", "2", "--per-month", "30", "--cases", "5", "--requests", "2")
    assert result["bench"] == "leaders" and result["data"]["facts"] >= 5
    for key in ("committee/dashboard", "committee/oversight", "kunshan_police_leader/oversight"):
        row = result["figures"][key]
        assert row["computed"]["n"] == row["kept"]["n"] == 2 and row["kept"]["p95_ms"] > 0
    assert _gone(result["database"]["name"], pg_server)


def test_pages_smoke(pg_server: str) -> None:
    result = _bench("pages", "--cases", "50", "--requests", "10", "--templates", "5")
    assert result["bench"] == "pages"
    assert result["data"]["cases"] == 50 and result["data"]["verify_ok"] is True
    for page in ("workbench", "case"):
        assert result["figures"][page]["n"] == 10 and result["figures"][page]["p95_ms"] > 0
    assert result["baseline"]["n"] == 10
    assert result["users"]
    assert _gone(result["database"]["name"], pg_server)
