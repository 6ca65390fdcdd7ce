"""The bulk-import phase of ``xietong bench exchange``: it imports what it generated and reports the
rate against the bare parse of the same file (the rest of the bench needs receivers and a broker and
runs as ``xietong bench exchange --quick``)."""

from __future__ import annotations

from tests.factories import City
from xietong.bench.exchange import TARGET_IMPORT_PER_S, _bulk_import
from xietong.cases.models import Case
from xietong.exchange.models import CaseOrigin


def test_the_import_phase_imports_every_package_and_reports_its_rate(city: City) -> None:
    before = Case.objects.count()
    lines: list[str] = []
    figures = _bulk_import(30, lines.append)
    assert figures["imported"] == 30 and figures["rejected"] == 0
    assert Case.objects.count() == before + 30 and CaseOrigin.objects.count() == 30
    assert figures["cases_per_s"] > 0 and figures["baseline_parse_per_s"] > 0
    assert figures["target_per_s"] == TARGET_IMPORT_PER_S
    assert "cases/s" in lines[-1]
