"""Writes of the analytics app: the facts layer's refresh, population figures, saved queries and the
monthly trend warnings. Statistics themselves are read in ``selectors``."""

from __future__ import annotations

import csv
import io
import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from xietong import fastsql, tasks
from xietong.analytics import derive, memo, surveillance
from xietong.analytics.models import CaseFact, PersonFact, Population, SavedQuery, TrendWarning
from xietong.cases.deadlines import PARTY_PERIODS
from xietong.cases.models import Case, Clock, Party
from xietong.errors import NotAllowed, ValidationFailed
from xietong.ledger.models import LedgerEntry
from xietong.orgs.models import Level, Region, User

logger = logging.getLogger(__name__)
BATCH = 500
CASE_FIELDS = (
    "id", "county_id", "town_id", "charge", "stage", "verdict", "occurred_at", "created_at", "facts",
    "supplementary_count", "remand_count", "plea", "police_unit_id", "procuratorate_unit_id",
    "court_unit_id", "ledger_seq", "version",
)  # fmt: skip


def stale_case_ids() -> QuerySet[Case, int]:
    """Cases with no fact, or whose ledger head or version moved since their fact was derived."""
    current = CaseFact.objects.filter(
        case=OuterRef("pk"), ledger_seq=OuterRef("ledger_seq"), version=OuterRef("version")
    )
    return Case.objects.filter(~Exists(current)).order_by("pk").values_list("pk", flat=True)


def facts_refresh(*, case_ids: Iterable[int] | None = None) -> int:
    """Derive the facts of stale cases (or of ``case_ids``), ``BATCH`` cases per transaction.

    Idempotent and safe to run twice at once: a fact is upserted by its case, and a case's suspects are
    replaced in the same transaction; a refresher killed midway leaves whole batches behind it, and
    the next run finds the rest stale. Returns how many cases were refreshed."""
    ids = list(case_ids) if case_ids is not None else list(stale_case_ids())
    done = 0
    for start in range(0, len(ids), BATCH):
        done += _refresh_batch(ids[start : start + BATCH])
    return done


def _refresh_batch(ids: Sequence[int]) -> int:
    tz = timezone.get_current_timezone()
    now = timezone.now()
    cases = list(Case.objects.filter(pk__in=ids).values(*CASE_FIELDS))
    entries: dict[int, list[derive.Entry]] = defaultdict(list)
    for case_id, action, at, actor_id in (
        LedgerEntry.objects.filter(case_id__in=ids)
        .order_by("case_id", "seq")
        .values_list("case_id", "action", "recorded_at", "actor_id")
    ):
        entries[case_id].append(derive.Entry(action, at, actor_id))
    suspects: dict[int, list[derive.Suspect]] = defaultdict(list)
    for row in (
        Party.objects.filter(case_id__in=ids)
        .order_by("case_id", "ordinal")
        .values_list("case_id", "pk", "name", "gender", "id_number", "birth_date", "custody")
    ):
        suspects[row[0]].append(derive.Suspect(*row[1:]))
    late = Q(stopped_at__gt=F("due_at")) | Q(status="running", due_at__lt=now)
    overdue = dict(
        Clock.objects.filter(case_id__in=ids)
        .exclude(rule__in=PARTY_PERIODS)
        .filter(late)
        .values("case_id")
        .annotate(n=Count("pk"))
        .values_list("case_id", "n")
    )
    facts: list[dict[str, Any]] = []
    persons: list[dict[str, Any]] = []
    for case in cases:
        values = derive.case_fact(
            case, entries[case["id"]], suspects[case["id"]], overdue=overdue.get(case["id"], 0), tz=tz
        )
        values["refreshed_at"] = now
        facts.append(values)
        persons.extend(derive.person_facts(values, suspects[case["id"]]))
    keys = {p["person_key"] for p in persons}
    with transaction.atomic():
        _write(CaseFact, facts, conflict="case_id", update=True)
        PersonFact.objects.filter(case_id__in=ids).delete()
        _write(PersonFact, persons, conflict="party_id", update=False)
        _mark_repeaters(keys)
    # Once more after commit: two refreshers that each add one case of the same person see only
    # their own row inside their transactions; whichever marks last after committing sees both.
    _mark_repeaters(keys)
    _facts_written()
    return len(facts)


def _facts_written() -> None:
    """Renew the facts generation now and again when the caller's transaction commits: a page
    that computes its figures in between, from what was committed before, keeps them under the
    new generation, and the second renewal retires them."""
    memo.facts_changed()
    transaction.on_commit(memo.facts_changed)


def _mark_repeaters(keys: set[str]) -> None:
    """Set ``PersonFact.repeat`` for every row of ``keys``: more than one case with that key."""
    if not keys:
        return
    repeaters = set(
        PersonFact.objects.filter(person_key__in=keys)
        .values("person_key")
        .annotate(n=Count("case_id", distinct=True))
        .filter(n__gt=1)
        .values_list("person_key", flat=True)
    )
    if repeaters:
        PersonFact.objects.filter(person_key__in=repeaters, repeat=False).update(repeat=True)
    if keys - repeaters:
        PersonFact.objects.filter(person_key__in=keys - repeaters, repeat=True).update(repeat=False)


def _write(
    model: type[CaseFact | PersonFact], rows: list[dict[str, Any]], *, conflict: str, update: bool
) -> None:
    """Upsert ``rows`` (field values by attname) with one prepared statement run for every row.

    Not ``bulk_create(update_conflicts=True)``: building a multi-row statement through the ORM's
    compiler took more than half of a refresh (profiled: 1.8 of 3.2 s for 4,000 cases on SQLite);
    the values still go through each field's ``get_db_prep_save``."""
    if not rows:
        return
    p = fastsql.plan(model)
    names = p.attnames
    columns = ", ".join(p.column[a] for a in names)
    sql = f"INSERT INTO {p.table} ({columns}) VALUES ({fastsql.placeholders(len(names))}) "  # noqa: S608 (model names)
    if update:
        assignments = ", ".join(f"{p.column[a]} = excluded.{p.column[a]}" for a in names if a != conflict)
        sql += f"ON CONFLICT ({p.column[conflict]}) DO UPDATE SET {assignments}"
    else:
        sql += f"ON CONFLICT ({p.column[conflict]}) DO NOTHING"
    db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: the ``connection`` proxy costs a lookup a value
    # Only dates and times need the backend's adaptation; numbers, text, booleans and None go as
    # they are (the drivers take them), which saves ~10 µs a value over get_db_prep_save.
    dated = {a for a in names if isinstance(p.by_attname[a], models.DateField)}
    params = [
        [p.by_attname[a].get_db_prep_save(row[a], db) if a in dated else row[a] for a in names]
        for row in rows
    ]
    with db.cursor() as cursor:
        cursor.executemany(sql, params)


def on_case_acted(*, case_id: int | None, action: str) -> None:
    """Every act moves a case's ledger head: its fact is stale; a worker refreshes it shortly."""
    if case_id is not None:
        tasks.request("analytics.refresh")


# --- population ---------------------------------------------------------------------------------


class PopulationError(ValidationFailed):
    code = "population_invalid"


def population_load(text: str, *, source: str = "") -> int:
    """Load ``区划代码,年份,常住人口[,来源]`` lines (a header line is skipped). All or nothing: a bad
    line rejects the file with its line number, and nothing already stored changes."""
    regions = dict(Region.objects.values_list("code", "pk"))
    rows: list[Population] = []
    for number, line in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not line or not "".join(line).strip() or line[0].strip() in {"code", "区划代码"}:
            continue
        try:
            code, year, residents = line[0].strip(), int(line[1]), int(line[2])
        except (IndexError, ValueError) as exc:
            raise PopulationError(f"第 {number} 行格式不对：应为 区划代码,年份,常住人口") from exc
        if code not in regions:
            raise PopulationError(f"第 {number} 行：区划代码 {code} 不存在")
        if not 1949 <= year <= 2100 or residents <= 0:
            raise PopulationError(f"第 {number} 行：年份或人口数不合理")
        note = line[3].strip() if len(line) > 3 else source
        rows.append(Population(region_id=regions[code], year=year, residents=residents, source=note[:200]))
    with transaction.atomic():
        Population.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["region", "year"],
            update_fields=["residents", "source"],
        )
    _facts_written()  # rates per 10,000 residents read the population
    return len(rows)


# --- saved queries ------------------------------------------------------------------------------


def saved_query_save(*, user: User, name: str, params: dict[str, Any], shared: bool) -> SavedQuery:
    name = name.strip()
    if not name:
        raise ValidationFailed("请给查询起个名字", code="name_required")
    saved, _ = SavedQuery.objects.update_or_create(
        owner=user, name=name[:60], defaults={"params": params, "shared": shared}
    )
    return saved


def saved_query_delete(*, user: User, query_id: int) -> None:
    saved = SavedQuery.objects.filter(pk=query_id).first()
    if saved is None:
        return
    if saved.owner_id != user.pk:
        raise NotAllowed("只能删除自己保存的查询")
    saved.delete()


# --- trend warnings (风险预警) ---------------------------------------------------------------------

# How warnings are judged, as leaders and the docs read it (the false-alarm rate is measured by
# ``surveillance.false_alarm_rate``; see docs/analytics.md).
WARNING_METHOD = (
    "改进 Farrington 法（Noufaily 等，2013）：以往 3–5 年同月及前后各 1 个月为基线，拟合准泊松回归"
    "（显著时含线性趋势，降低既往暴发月的权重），当月数超过负二项分布 99.9% 上限且不少于 5 件时预警"
)
# Series of this length (5 years) give the surveillance method its 3-5 years of baseline.
WARNING_HISTORY_MONTHS = 60


def _month_index(month: date, first: date) -> int:
    return (month.year - first.year) * 12 + month.month - first.month


def months_back(month: date, count: int) -> date:
    """The first day of the month ``count`` months before ``month``'s."""
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def monthly_series(
    *, month: date, key: str, facts: QuerySet[CaseFact] | None = None
) -> tuple[date, dict[tuple[int, str], list[int]]]:
    """Counts per (region, charge) for the ``WARNING_HISTORY_MONTHS`` months ending with ``month``;
    ``key`` is ``"town_id"`` or ``"county_id"``."""
    first = months_back(month, WARNING_HISTORY_MONTHS - 1)
    qs = (facts if facts is not None else CaseFact.objects.all()).filter(month__gte=first, month__lte=month)
    series: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0] * WARNING_HISTORY_MONTHS)
    for region_id, charge, at, n in qs.values_list(key, "charge", "month").annotate(n=Count("pk")).order_by():
        series[(region_id, charge)][_month_index(at, first)] = n
    return first, dict(series)


def warnings_refresh(*, month: date | None = None) -> int:
    """Assess the last complete month (or ``month``) for every town and county and charge; store a
    warning for each alarm (kept as it is when it was already raised). Returns the alarms found."""
    if month is None:
        today = timezone.localdate()
        month = months_back(today.replace(day=1), 1)
    month = month.replace(day=1)
    found = 0
    levels = {"town_id": Level.TOWN, "county_id": Level.COUNTY}
    for key in levels:
        first, series = monthly_series(month=month, key=key)
        alarms = surveillance.scan(series, WARNING_HISTORY_MONTHS - 1, first_month_of_year=first.month)
        for (region_id, charge), a in alarms:
            found += 1
            evidence = {
                "method": WARNING_METHOD,
                "first_month": first.isoformat(),
                "series": series[(region_id, charge)],
                "baseline_months": list(a.baseline_months),
                "dispersion": a.dispersion,
                "trend_used": a.trend_used,
                "ratio": a.ratio if math.isfinite(a.ratio) else None,  # JSON has no infinity
            }
            TrendWarning.objects.get_or_create(
                region_id=region_id,
                charge=charge,
                month=month,
                defaults={
                    "observed": a.observed,
                    "expected": a.expected,
                    "threshold": a.threshold,
                    "p_value": a.p_value,
                    "reason": a.reason()[:300],
                    "evidence": evidence,
                },
            )
    return found


def warning_acknowledge(*, user: User, warning_id: int) -> TrendWarning:
    from xietong.analytics.selectors import warnings_visible_to

    warning = warnings_visible_to(user=user).filter(pk=warning_id).first()
    if warning is None:
        raise NotAllowed("无权处理该预警")
    warning.status = "acknowledged"
    warning.save(update_fields=["status"])
    return warning
