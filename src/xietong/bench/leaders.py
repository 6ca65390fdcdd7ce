"""``xietong bench leaders``: the leaders' pages — 态势总览 (``/analytics/``) and 监督管理
(``/supervision/oversight/``) — when their figures are computed and when they are kept
(``analytics.memo``), for 政法委 (the whole city) and a county's police leader, against ``/healthz``
in the same run.

The data: the Suzhou org and years of concluded cases written as the demo writes them
(``demo.history.generate_history``: ``--months`` months of about ``--per-month`` cases a month,
every act in the ledger), a few hundred cases in every stage through the door (running clocks for
the oversight query), the facts derived by the product's ``facts_refresh`` and the supervision rules
run over every case (alerts for the indicators). The pages are asked in process through Django's
test client (the whole view, middleware and template; no HTTP), each ``--requests`` times:
"computed" empties the cache first, "kept" asks again with the figures kept.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from xietong.bench.bulk import Write, machine, percentile

PAGES = (("dashboard", "/analytics/"), ("oversight", "/supervision/oversight/"))
TARGET_P95_MS = 150.0  # the pages' target (``bench pages``), for the figures kept
USERS = ("committee", "kunshan_police_leader")


def _timed(client: Any, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{path}: HTTP {response.status_code}")
    return elapsed


def _figures(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values), 1),
        "p95_ms": round(percentile(values, 95), 1),
        "n": len(values),
    }


def run(options: dict[str, Any], write: Write) -> dict[str, Any]:
    from django.core.cache import cache
    from django.test import Client
    from django.test.utils import override_settings

    from xietong.analytics.models import CaseFact
    from xietong.analytics.services import facts_refresh, population_load
    from xietong.demo.generator import generate
    from xietong.demo.history import generate_history, population_csv
    from xietong.demo.units import create_org
    from xietong.orgs.models import User
    from xietong.supervision.engine import reevaluate_all
    from xietong.supervision.models import Alert

    quick = bool(options.get("quick"))
    months = int(options.get("months") or (12 if quick else 60))
    per_month = int(options.get("per_month") or 200)
    live = int(options.get("cases") or (50 if quick else 300))
    requests = int(options.get("requests") or (5 if quick else 20))
    write(f"bench leaders: {months} months × ~{per_month} cases, {live} live cases; {machine()}")

    started = time.perf_counter()
    with override_settings(XIETONG_INPROCESS_TASKS=False):
        create_org()
        population_load(population_csv(2020))
        generate_history(months=months, per_month=per_month)
        generate(count=live, seed=7)
        facts_refresh()
        reevaluate_all()
    write(
        f"data: {CaseFact.objects.count():,} cases with facts, {Alert.objects.count():,} alerts "
        f"in {time.perf_counter() - started:.0f} s"
    )

    results: dict[str, Any] = {}
    healthz: list[float] = []
    for username in USERS:
        client = Client()
        client.force_login(User.objects.get(username=username))
        for name, path in PAGES:
            _timed(client, path)  # templates, imports: not measured
            computed, kept = [], []
            for _ in range(requests):
                healthz.append(_timed(client, "/healthz"))
                cache.clear()
                computed.append(_timed(client, path))
                kept.append(_timed(client, path))
            row = {"computed": _figures(computed), "kept": _figures(kept)}
            results[f"{username}/{name}"] = row
            write(
                f"{username:<22} {name:<10} computed p50 {row['computed']['p50_ms']:7.1f} ms, "
                f"p95 {row['computed']['p95_ms']:7.1f} ms; kept p50 {row['kept']['p50_ms']:6.1f} ms, "
                f"p95 {row['kept']['p95_ms']:6.1f} ms"
            )
    base = _figures(healthz)
    met = all(row["kept"]["p95_ms"] < TARGET_P95_MS for row in results.values())
    write(
        f"/healthz p50 {base['p50_ms']} ms, p95 {base['p95_ms']} ms; target: kept p95 < "
        f"{TARGET_P95_MS:.0f} ms → {'MET' if met else 'MISSED'}"
    )
    return {
        "bench": "leaders",
        "unit": "ms",
        "figures": results,
        "baseline": {"name": "/healthz", **base},
        "ratio": {
            key: round(row["kept"]["p95_ms"] / row["computed"]["p95_ms"], 3) for key, row in results.items()
        },
        "target": {"kept_p95_ms": TARGET_P95_MS},
        "target_met": met,
        "machine": machine(),
        "data": {
            "months": months,
            "per_month": per_month,
            "live_cases": live,
            "facts": CaseFact.objects.count(),
        },
    }
