"""Smoke test of ``xietong bench reconcile`` with 2,000 persons, in its own throwaway PostgreSQL
database (skipped when no PostgreSQL server answers): the last line is the JSON result, every planted
unlawful custody is found with nothing else, and the alerts are idempotent."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from xietong.bench import bulk

pytestmark = pytest.mark.bench


def test_reconcile_smoke() -> None:
    problem = bulk.postgres_unavailable(bulk.server_url())
    if problem:
        pytest.skip(f"no PostgreSQL server for the bench databases: {problem}")
    out = io.StringIO()
    call_command("bench", "reconcile", "--persons", "2000", "--planted", "0.03", stdout=out)
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["bench"] == "reconcile"
    assert result["figures"]["persons"] == 2000
    check = result["check"]
    assert check["planted"] == 60 and check["found"] == 60
    assert (check["missed"], check["false_alarms"]) == (0, 0)
    assert check["exact"] is True and check["same_without_prefilter"] is True
    assert check["alerts_raised"] == 60 and check["alerts_raised_again"] == 0
    assert check["alerts_resolved_after_release"] == 60  # released: min(100, planted)
    assert check["idempotent"] is True
    assert result["database"]["vendor"] == "postgresql" and result["database"]["kept"] is False
