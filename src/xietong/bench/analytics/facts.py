"""The facts layer of ``xietong bench analytics``: built by the product's ``facts_refresh`` (timed),
or — when that would take longer than the budget — the rest by set-based SQL that exists only here,
checked against ``facts_refresh`` on a random sample, field by field."""

from __future__ import annotations

import contextlib
import math
import random
import time
from collections.abc import Iterator
from typing import Any

from django.db import connection, transaction

from xietong.bench.analytics.load import copy_lines
from xietong.bench.analytics.walk import NULL
from xietong.bench.bulk import Write

PROBE_CASES = 50_000
VERIFY_SAMPLE = 1000
SQL_CHUNK = 100_000
REFRESH_BUDGET_S = 15 * 60

# ------------------------------------------------------------------ facts


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


_FACT_SQL = """
WITH e AS (
  SELECT l.case_id,
    (array_agg(l.recorded_at ORDER BY l.seq) FILTER (WHERE l.action = 'register'))[1] AS reg,
    (array_agg(l.recorded_at ORDER BY l.seq) FILTER (WHERE l.action = 'transfer_for_prosecution'))[1] AS tr,
    (array_agg(l.recorded_at ORDER BY l.seq)
      FILTER (WHERE l.action IN ('indict', 'not_prosecute')))[1] AS dcs,
    (array_agg(l.recorded_at ORDER BY l.seq) FILTER (WHERE l.action = 'indict'))[1] AS ind,
    (array_agg(l.recorded_at ORDER BY l.seq) FILTER (WHERE l.action = 'pronounce'))[1] AS pro,
    (array_agg(l.recorded_at ORDER BY l.seq) FILTER (WHERE l.action = 'approve_arrest'))[1] AS arr,
    (array_agg(l.recorded_at ORDER BY l.seq DESC) FILTER (WHERE l.action IN ({concluding})))[1] AS con,
    count(*) FILTER (WHERE l.action = 'extend_custody') AS ext,
    bool_or(l.action IN ({custody_acts})) AS held,
    (array_agg(l.actor_id ORDER BY l.seq) FILTER (WHERE l.action = 'transfer_for_prosecution'))[1] AS a_tr,
    (array_agg(l.actor_id ORDER BY l.seq) FILTER (WHERE l.action = 'register'))[1] AS a_reg,
    (array_agg(l.actor_id ORDER BY l.seq) FILTER (WHERE l.action = 'indict'))[1] AS a_ind,
    (array_agg(l.actor_id ORDER BY l.seq) FILTER (WHERE l.action = 'not_prosecute'))[1] AS a_np,
    (array_agg(l.actor_id ORDER BY l.seq) FILTER (WHERE l.action = 'pronounce'))[1] AS a_pro
  FROM ledger_ledgerentry l WHERE l.case_id BETWEEN %(lo)s AND %(hi)s GROUP BY l.case_id
), p AS (
  SELECT case_id, count(*) AS n, bool_or(custody IN ({custody_now})) AS held
  FROM cases_party WHERE case_id BETWEEN %(lo)s AND %(hi)s GROUP BY case_id
), k AS (
  SELECT case_id, count(*) AS n FROM cases_clock
  WHERE case_id BETWEEN %(lo)s AND %(hi)s AND rule NOT IN ({party_periods})
    AND (stopped_at > due_at OR (status = 'running' AND due_at < now()))
  GROUP BY case_id
), b AS (
  SELECT c.*, e.*, coalesce(e.reg, c.created_at) AS reg_at, p.n AS suspects, p.held AS p_held, k.n AS late,
    CASE WHEN c.stage IN ({judged}) THEN
           CASE WHEN coalesce((c.verdict ->> 'guilty')::boolean, true) THEN 'convicted' ELSE 'acquitted' END
         WHEN c.stage = 'not_prosecuted' THEN 'not_prosecuted'
         WHEN c.stage = 'withdrawn' THEN 'withdrawn' ELSE 'pending' END AS outcome,
    coalesce((c.verdict ->> 'guilty')::boolean, false) AS guilty
  FROM cases_case c LEFT JOIN e ON e.case_id = c.id LEFT JOIN p ON p.case_id = c.id
  LEFT JOIN k ON k.case_id = c.id
  WHERE c.id BETWEEN %(lo)s AND %(hi)s
    AND NOT EXISTS (SELECT 1 FROM analytics_casefact f WHERE f.case_id = c.id)
)
INSERT INTO analytics_casefact (
  case_id, county_id, town_id, charge, stage, outcome, occurred_on, occurred_hour, registered_on, month,
  arrested_on, transferred_on, indicted_on, judged_on, concluded_on, days_investigation, days_review,
  days_trial, days_total, supplementary_count, remand_count, extension_count, overdue_count, defendants,
  in_custody, plea, amount_yuan, penalty_kind, penalty_months, police_unit_id, procuratorate_unit_id,
  court_unit_id, police_handler_id, prosecutor_id, judge_id, ledger_seq, version, refreshed_at)
SELECT b.id, b.county_id, b.town_id, b.charge, b.stage, b.outcome,
  (b.occurred_at AT TIME ZONE 'Asia/Shanghai')::date,
  extract(hour FROM b.occurred_at AT TIME ZONE 'Asia/Shanghai')::int,
  (b.reg_at AT TIME ZONE 'Asia/Shanghai')::date,
  date_trunc('month', b.reg_at AT TIME ZONE 'Asia/Shanghai')::date,
  (b.arr AT TIME ZONE 'Asia/Shanghai')::date, (b.tr AT TIME ZONE 'Asia/Shanghai')::date,
  (b.ind AT TIME ZONE 'Asia/Shanghai')::date, (b.pro AT TIME ZONE 'Asia/Shanghai')::date,
  CASE WHEN b.outcome <> 'pending' THEN (b.con AT TIME ZONE 'Asia/Shanghai')::date END,
  {days_investigation}, {days_review}, {days_trial},
  CASE WHEN b.outcome <> 'pending' THEN {days_total} END,
  b.supplementary_count, b.remand_count, coalesce(b.ext, 0), coalesce(b.late, 0),
  greatest(coalesce(b.suspects, 0), 1), coalesce(b.held, false) OR coalesce(b.p_held, false), b.plea,
  a.amount, CASE WHEN b.guilty THEN coalesce(b.verdict ->> 'penalty', '') ELSE '' END,
  CASE WHEN b.guilty THEN nullif(coalesce((b.verdict ->> 'months')::int, 0), 0) END,
  b.police_unit_id, b.procuratorate_unit_id, b.court_unit_id,
  coalesce(b.a_tr, b.a_reg), coalesce(b.a_ind, b.a_np), b.a_pro, b.ledger_seq, b.version, now()
FROM b LEFT JOIN bench_amount a ON a.case_id = b.id
"""

_PERSON_SQL = """
INSERT INTO analytics_personfact (
  party_id, case_id, person_key, gender, age, charge, town_id, registered_on, repeat)
SELECT p.id, p.case_id,
  left(encode(sha256(convert_to(CASE WHEN upper(btrim(p.id_number)) <> '' THEN upper(btrim(p.id_number))
    ELSE btrim(p.name) || '|' || coalesce(p.birth_date::text, '') END, 'UTF8')), 'hex'), 32),
  p.gender,
  CASE WHEN a.age BETWEEN 0 AND 129 THEN a.age END,
  f.charge, f.town_id, f.registered_on, false
FROM cases_party p JOIN analytics_casefact f ON f.case_id = p.case_id
CROSS JOIN LATERAL (SELECT extract(year FROM f.occurred_on)::int - extract(year FROM p.birth_date)::int
  - CASE WHEN (extract(month FROM f.occurred_on), extract(day FROM f.occurred_on))
           < (extract(month FROM p.birth_date), extract(day FROM p.birth_date)) THEN 1 ELSE 0 END AS age) a
WHERE p.case_id BETWEEN %(lo)s AND %(hi)s
  AND NOT EXISTS (SELECT 1 FROM analytics_personfact x WHERE x.party_id = p.id)
"""

# ``services._mark_repeaters`` for every key at once.
_REPEAT_SQL = """
UPDATE analytics_personfact SET repeat = true WHERE person_key IN (
  SELECT person_key FROM analytics_personfact GROUP BY person_key HAVING count(DISTINCT case_id) > 1)
"""


def _days_sql(start: str, end: str) -> str:
    """``derive._days``: None unless both happened, in order; days to two decimals."""
    return (
        f"CASE WHEN {end} >= {start} THEN round(extract(epoch FROM {end} - {start}) / 86400, 2)::float8 END"
    )


def fact_sql() -> str:
    from xietong.analytics import derive
    from xietong.cases.deadlines import PARTY_PERIODS

    def quoted(values: Any) -> str:
        return ", ".join(f"'{v}'" for v in sorted(values))

    return _FACT_SQL.format(
        concluding=quoted(derive.CONCLUDING),
        custody_acts=quoted(derive.CUSTODY_ACTS),
        custody_now=quoted(derive.CUSTODY_NOW),
        judged=quoted(derive.JUDGED_STAGES),
        party_periods=quoted(PARTY_PERIODS),
        days_investigation=_days_sql("b.reg_at", "b.tr"),
        days_review=_days_sql("b.tr", "b.dcs"),
        days_trial=_days_sql("b.ind", "b.pro"),
        days_total=_days_sql("b.reg_at", "b.con"),
    )


def facts_by_sql(ids: list[int], write: Write) -> dict[str, Any]:
    """BENCH ONLY: the facts of ``ids`` with set-based SQL, ``SQL_CHUNK`` cases a statement. The amount
    of money is the one thing SQL cannot read off the rows: the product's extractor reads it from the
    facts text into ``bench_amount`` first."""
    from xietong.analytics import derive

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS bench_amount (case_id bigint PRIMARY KEY, amount bigint)"
        )
    t = time.perf_counter()
    for chunk in _chunks(ids, SQL_CHUNK):
        rows = []
        with transaction.atomic(), connection.chunked_cursor() as cursor:
            cursor.execute(
                "SELECT id, facts FROM cases_case WHERE id BETWEEN %s AND %s", [chunk[0], chunk[-1]]
            )
            while batch := cursor.fetchmany(10_000):
                rows += [
                    f"{pk}\t{NULL if (a := derive._amount(text)) is None else a}\n" for pk, text in batch
                ]
        copy_lines("bench_amount", ("case_id", "amount"), rows)
    amount_s = time.perf_counter() - t
    sql, people = fact_sql(), _PERSON_SQL
    done = 0
    for chunk in _chunks(ids, SQL_CHUNK):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute(sql, {"lo": chunk[0], "hi": chunk[-1]})
            done += cursor.rowcount
            cursor.execute(people, {"lo": chunk[0], "hi": chunk[-1]})
        write(f"  SQL (bench only): {done:,}/{len(ids):,} facts ({time.perf_counter() - started:.0f} s)")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_REPEAT_SQL)
    seconds = time.perf_counter() - started
    return {"cases": done, "seconds": round(seconds, 1), "amount_seconds": round(amount_s, 1)}


def verify_facts(sample: list[int]) -> dict[str, Any]:
    """``facts_refresh`` derives ``sample`` again (rolled back) and every field must equal the SQL's."""
    from xietong.analytics.models import CaseFact, PersonFact
    from xietong.analytics.services import facts_refresh

    fact_fields = [f.attname for f in CaseFact._meta.concrete_fields if f.attname != "refreshed_at"]
    person_fields = [f.attname for f in PersonFact._meta.concrete_fields]

    def snapshot() -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
        facts = {r["case_id"]: r for r in CaseFact.objects.filter(case_id__in=sample).values(*fact_fields)}
        people = {
            r["party_id"]: r for r in PersonFact.objects.filter(case_id__in=sample).values(*person_fields)
        }
        return facts, people

    class _Undo(Exception):
        pass

    by_sql = snapshot()
    by_product: tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]] = ({}, {})
    with contextlib.suppress(_Undo), transaction.atomic():
        facts_refresh(case_ids=sample)
        by_product = snapshot()
        raise _Undo
    mismatches: list[dict[str, Any]] = []
    for kind, sql_rows, product_rows in (
        ("case", by_sql[0], by_product[0]),
        ("person", by_sql[1], by_product[1]),
    ):
        for key in sorted(set(sql_rows) | set(product_rows)):
            a, b = sql_rows.get(key), product_rows.get(key)
            if a is None or b is None:
                mismatches.append(
                    {"kind": kind, "id": key, "field": "*", "sql": a is not None, "product": b is not None}
                )
                continue
            for name in a:
                if a[name] != b[name]:
                    mismatches.append(
                        {"kind": kind, "id": key, "field": name, "sql": str(a[name]), "product": str(b[name])}
                    )
    return {
        "cases": len(by_sql[0]),
        "persons": len(by_sql[1]),
        "mismatches": len(mismatches),
        "first": mismatches[:10],
    }


def build_facts(*, write: Write, probe: int, budget_s: float, seed: int) -> dict[str, Any]:
    """The facts layer: the product's ``facts_refresh``, timed; SQL for the rest if it is too slow."""
    from xietong.analytics.services import facts_refresh, stale_case_ids

    t = time.perf_counter()
    ids = list(stale_case_ids())
    stale_s = time.perf_counter() - t
    first = ids[:probe]
    t = time.perf_counter()
    facts_refresh(case_ids=first)
    probe_s = time.perf_counter() - t
    rate = len(first) / probe_s if probe_s else 0.0
    projected = len(ids) / rate if rate else math.inf
    write(
        f"facts_refresh (product): {len(first):,} cases in {probe_s:.1f} s = {rate:,.0f} cases/s "
        f"(stale-id query {stale_s:.1f} s); all {len(ids):,} would take {projected / 60:.1f} min"
    )
    out: dict[str, Any] = {
        "stale_query_s": round(stale_s, 2),
        "probe_cases": len(first),
        "probe_s": round(probe_s, 1),
        "cases_per_s": round(rate, 1),
        "projected_all_s": round(projected, 1),
    }
    rest = ids[probe:]
    if projected <= budget_s:
        t = time.perf_counter()
        for n, chunk in enumerate(_chunks(rest, SQL_CHUNK), start=1):
            facts_refresh(case_ids=chunk)
            write(
                f"  facts_refresh: {len(first) + min(n * SQL_CHUNK, len(rest)):,}/{len(ids):,} "
                f"({time.perf_counter() - t + probe_s:.0f} s)"
            )
        total_s = time.perf_counter() - t + probe_s
        out.update(mode="product", all_s=round(total_s, 1), all_cases_per_s=round(len(ids) / total_s, 1))
        write(
            f"facts_refresh (product) over all {len(ids):,} cases: {total_s:.1f} s = "
            f"{len(ids) / total_s:,.0f} cases/s"
        )
        return out
    sql = facts_by_sql(rest, write)
    write(f"BENCH-ONLY SQL built the other {sql['cases']:,} facts in {sql['seconds']:.1f} s")
    rng = random.Random(seed)  # noqa: S311 (bench sample)
    sample = sorted(rng.sample(rest, min(VERIFY_SAMPLE, len(rest))))
    check = verify_facts(sample)
    write(
        f"verify: {check['cases']:,} cases / {check['persons']:,} persons of the SQL build derived again by "
        f"facts_refresh: {check['mismatches']} mismatching fields"
    )
    for m in check["first"]:
        write(f"  MISMATCH {m}")
    out.update(mode="product probe + bench-only SQL", sql=sql, verify=check)
    return out
