"""The rules engine (F14): feeds case histories to the rules of ``supervision.rules`` and turns what
they find into alerts, once per finding.

Three ways in, one evaluation:
- **live**: every ledger entry marks its case dirty after it commits (``on_case_acted`` on
  ``ledger.appended``) and asks the worker for ``supervision.evaluate_dirty``, which evaluates the
  dirty cases only and pushes the new alerts to the browsers of those who must see them
  (``live.push``) — seconds after the act, at a cost that follows what changed;
- **catch-up**: the periodic ``evaluate_stale`` also takes cases whose ledger head moved past the head
  last evaluated (``CaseEvaluation.ledger_seq``), so a lost event or a worker killed mid-batch is
  repaired;
- **history**: ``reevaluate_all`` streams the whole ledger in case order through the rules (after a
  rule is added, or after an import), and ``clocks_sweep`` evaluates the cases whose clock ran out
  while nobody acted.

Alerts are keyed by their finding (``Alert.key`` is unique), so evaluating a case twice, two workers
at once, or a re-run after a crash raise nothing twice.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache, partial
from itertools import repeat
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Exists, Max, Min, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from xietong import servertime, tasks
from xietong.cases.models import Case, Clock, ClockStatus
from xietong.ledger.models import LedgerEntry
from xietong.orgs.models import Agency, Level, Unit
from xietong.supervision.models import Alert, AlertKind, CaseEvaluation
from xietong.supervision.rules import base

logger = logging.getLogger(__name__)
BATCH = 500


@lru_cache(maxsize=1)
def rules() -> tuple[base.Rule, ...]:
    """The rules in force, checked against the alert kinds once per process."""
    modules = tuple(getattr(settings, "XIETONG_SUPERVISION_RULE_MODULES", base.RULE_MODULES))
    registry = base.load(modules)
    for r in registry.values():
        base.validate(r, existing=registry, kinds=AlertKind.values)
    return tuple(registry.values())


def _reads(chosen: Sequence[base.Rule]) -> tuple[frozenset[str], bool]:
    actions = frozenset().union(*(r.reads for r in chosen)) if chosen else frozenset()
    return actions, any(r.clocks for r in chosen)


# --- histories -----------------------------------------------------------------------------------


def histories(case_ids: Sequence[int], chosen: Sequence[base.Rule]) -> list[base.CaseHistory]:
    """The histories of ``case_ids`` with only what ``chosen`` read (three queries a batch)."""
    actions, with_clocks = _reads(chosen)
    numbers = dict(Case.objects.filter(pk__in=case_ids).values_list("pk", "number"))
    entries: dict[int, list[base.Entry]] = defaultdict(list)
    if actions:
        for case_id, seq, action, at, actor, unit, payload in (
            LedgerEntry.objects.filter(case_id__in=case_ids, action__in=actions)
            .order_by("case_id", "seq")
            .values_list("case_id", "seq", "action", "recorded_at", "actor_id", "unit_id", "payload")
        ):
            entries[case_id].append(base.Entry(seq, action, at, actor, unit, payload))
    clocks: dict[int, list[base.ClockRow]] = defaultdict(list)
    if with_clocks:
        for row in Clock.objects.filter(case_id__in=case_ids).values_list(
            "case_id",
            "pk",
            "rule",
            "unit_id",
            "party_id",
            "started_at",
            "due_at",
            "in_custody",
            "status",
            "stopped_at",
        ):
            clocks[row[0]].append(base.ClockRow(*row[1:]))
    now = servertime.now()
    return [
        base.CaseHistory(pk, numbers[pk], entries[pk], clocks[pk], now, timezone.get_current_timezone())
        for pk in case_ids
        if pk in numbers
    ]


# --- raising -------------------------------------------------------------------------------------


@dataclass
class Outcome:
    cases: int = 0
    findings: int = 0
    raised: int = 0


def supervisors_of(unit_ids: Iterable[int]) -> dict[int, int]:
    """Unit → the procuratorate that supervises it (刑诉法第8条: 人民检察院依法对刑事诉讼实行法律监督):
    the county's procuratorate for police, courts and justice units of a county or town; the city's
    for city units and for the county procuratorates themselves. Two small queries for the units
    at hand (no cache: a unit moved or added is right at once)."""
    wanted = set(unit_ids)
    if not wanted:
        return {}
    units = list(
        Unit.objects.filter(pk__in=wanted).values("pk", "agency", "level", "region_id", "region__parent_id")
    )
    procuratorates = list(Unit.objects.filter(agency=Agency.PROCURATORATE).values("pk", "level", "region_id"))
    by_region = {u["region_id"]: u["pk"] for u in procuratorates}
    city = next((u["pk"] for u in procuratorates if u["level"] == Level.CITY), None)
    out: dict[int, int] = {}
    for u in units:
        if u["agency"] == Agency.COMMITTEE:
            continue
        county = u["region__parent_id"] if u["level"] == Level.TOWN else u["region_id"]
        if u["agency"] == Agency.PROCURATORATE:
            boss = city if u["level"] != Level.CITY else None
        else:
            boss = (by_region.get(county) if county else None) or city
        if boss is not None and boss != u["pk"]:
            out[u["pk"]] = boss
    return out


def raise_findings(found: Iterable[tuple[base.Rule, base.CaseHistory, base.Finding]]) -> list[Alert]:
    """Write an alert per finding not raised before; returns the new ones (for the live push)."""
    now = servertime.now()
    found = list(found)
    bosses = supervisors_of(f.unit_id for _, _, f in found if f.unit_id is not None)
    candidates: dict[str, Alert] = {}
    for r, history, f in found:
        candidates.setdefault(
            f.key,
            Alert(
                kind=r.kind,
                rule=r.code,
                severity=f.severity or r.severity,
                case_id=history.case_id,
                unit_id=f.unit_id,
                user_id=f.user_id,
                supervisor_unit_id=bosses.get(f.unit_id) if f.unit_id is not None else None,
                message=f.message[:500],
                details={"rule": r.title, "norm": r.norm, **f.evidence},
                raised_at=now,
                key=f.key[:60],
            ),
        )
    if not candidates:
        return []
    existing = set(Alert.objects.filter(key__in=list(candidates)).values_list("key", flat=True))
    new = [a for k, a in candidates.items() if k[:60] not in existing]
    Alert.objects.bulk_create(new, ignore_conflicts=True)  # a racing worker's copy is skipped
    return list(Alert.objects.filter(key__in=[a.key for a in new], raised_at=now))


def evaluate_cases(case_ids: Sequence[int], *, chosen: Sequence[base.Rule] | None = None) -> Outcome:
    """Evaluate ``case_ids`` (any number) with ``chosen`` rules (default: all in force), write the new
    alerts, move each case's evaluation mark to the head it had when read, push the alerts live."""
    from xietong.supervision import live

    chosen = rules() if chosen is None else chosen
    outcome = Outcome()
    for start in range(0, len(case_ids), BATCH):
        ids = list(case_ids[start : start + BATCH])
        heads = dict(Case.objects.filter(pk__in=ids).values_list("pk", "ledger_seq"))
        found = [(r, h, f) for h in histories(ids, chosen) for r, f in base.evaluate(h, chosen)]
        with transaction.atomic():
            new = raise_findings(found)
            _mark(heads)
        outcome.cases += len(heads)
        outcome.findings += len(found)
        outcome.raised += len(new)
        if new:
            transaction.on_commit(partial(live.push, new))
    return outcome


def _mark(heads: dict[int, int]) -> None:
    """Record the heads evaluated; a case acted on meanwhile stays dirty (its mark is behind)."""
    now = servertime.now()
    if connection.vendor == "postgresql" and len(heads) > 100:
        # A re-evaluation marks every case: one statement over arrays instead of a model instance a
        # case (Django's bulk upsert costs ≈ 35 µs a row, half a minute over a million cases).
        table = CaseEvaluation._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (case_id, ledger_seq, dirty, evaluated_at) "  # noqa: S608 (the model's table)
                "SELECT c, s, false, %s FROM unnest(%s::bigint[], %s::bigint[]) AS t(c, s) "
                "ON CONFLICT (case_id) DO UPDATE SET ledger_seq = EXCLUDED.ledger_seq, "
                "dirty = EXCLUDED.dirty, evaluated_at = EXCLUDED.evaluated_at",
                [now, list(heads), list(heads.values())],
            )
        return
    rows = [
        CaseEvaluation(case_id=pk, ledger_seq=seq, dirty=False, evaluated_at=now) for pk, seq in heads.items()
    ]
    CaseEvaluation.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["case"],
        update_fields=["ledger_seq", "dirty", "evaluated_at"],
    )


# --- live ----------------------------------------------------------------------------------------


def on_case_acted(*, case_id: int | None, action: str) -> None:
    """After an entry of a case's ledger commits (``ledger.appended``, published by ``ledger_append``
    for every act of every app: the door's, an instrument's seal, a file's upload …): mark the case
    dirty and ask the worker for the dirty cases only. The whole-table catch-up is the periodic job's."""
    if case_id is None:
        return
    CaseEvaluation.objects.bulk_create(
        [CaseEvaluation(case_id=case_id, dirty=True)],
        update_conflicts=True,
        unique_fields=["case"],
        update_fields=["dirty"],
    )
    tasks.request(DIRTY_JOB)


DIRTY_JOB = "supervision.evaluate_dirty"
PAGE = 5_000  # cases evaluated per page of the dirty and stale jobs; a short page is the last


def dirty_case_ids(limit: int = PAGE) -> list[int]:
    """The cases an act marked since they were last evaluated (a partial index holds only these)."""
    return list(
        CaseEvaluation.objects.filter(dirty=True)
        .order_by("case_id")
        .values_list("case_id", flat=True)[:limit]
    )


def evaluate_dirty() -> Outcome:
    """The job an act asks for: evaluate the cases marked dirty, nothing else. Its cost follows what
    changed, not the size of the decade — the anti-join over every case (``stale_case_ids``) and the
    clock sweep are the periodic ``evaluate_stale``'s, every ``EVALUATE_SECONDS``."""
    return _evaluate_pages(dirty_case_ids)


def _evaluate_pages(page: Callable[[], list[int]]) -> Outcome:
    """Evaluate the cases ``page()`` names, page after page, until a page comes back short."""
    total = Outcome()
    while ids := page():
        done = evaluate_cases(ids)
        total.cases += done.cases
        total.findings += done.findings
        total.raised += done.raised
        if len(ids) < PAGE:
            break
    return total


def stale_case_ids(limit: int = PAGE) -> list[int]:
    """Dirty cases first, then any whose head moved past its mark (or never evaluated)."""
    dirty = dirty_case_ids(limit)
    if len(dirty) >= limit:
        return dirty
    behind = Case.objects.filter(
        ~Exists(CaseEvaluation.objects.filter(case=OuterRef("pk"), ledger_seq=OuterRef("ledger_seq")))
    ).exclude(pk__in=dirty)
    return dirty + list(behind.order_by("pk").values_list("pk", flat=True)[: limit - len(dirty)])


def evaluate_stale() -> Outcome:
    """The periodic job: every dirty or behind case (a lost event, an entry written with the live
    path off), and the clocks that ran out while nobody acted."""
    total = _evaluate_pages(stale_case_ids)
    swept = clocks_sweep()
    total.raised += swept.raised
    return total


def clocks_sweep(codes: Iterable[str] | None = None) -> Outcome:
    """Cases with a clock run out and no alert for it yet: evaluated by the clock rules (nothing acts on
    a case whose time simply passes, so no event would ever ask); ``codes`` narrows the rules."""
    from xietong.supervision import live

    wanted = set(codes) if codes is not None else None
    clock_rules = [r for r in rules() if r.clocks and (wanted is None or r.code in wanted)]
    now = servertime.now()
    alerted = Alert.objects.filter(
        key=Concat(Value("clock:"), Cast(OuterRef("pk"), output_field=CharField()))
    )
    # Every clock has a unit (a foreign key): naming them all changes nothing in the answer but lets
    # PostgreSQL use the (unit, status, due_at) index instead of reading every clock of the decade.
    units = list(Unit.objects.values_list("pk", flat=True))
    late = (
        Clock.objects.filter(unit_id__in=units, status=ClockStatus.RUNNING, due_at__lt=now)
        .filter(~Exists(alerted))
        .values_list("case_id", flat=True)
        .distinct()
    )
    ids = sorted(set(late[:5_000]))
    if not ids:
        return Outcome()
    outcome = Outcome()
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        found = [(r, h, f) for h in histories(chunk, clock_rules) for r, f in base.evaluate(h, clock_rules)]
        with transaction.atomic():
            new = raise_findings(found)
        if new:
            transaction.on_commit(partial(live.push, new))
        outcome.cases += len(chunk)
        outcome.findings += len(found)
        outcome.raised += len(new)
    return outcome


# --- history -------------------------------------------------------------------------------------


def _fast_datetimes(cursor: Any) -> Any:
    """On PostgreSQL, let this raw cursor parse ``timestamptz`` with psycopg's own (C) loader: Django
    registers a Python subclass per connection, which costs about half of reading ten million
    entries. Same instants, in the session's time zone (UTC, as Django sets it). Returns a converter
    for the values a SQLite cursor returns as text, else None."""
    if connection.vendor != "postgresql":
        ops: Any = connection.ops  # SQLite returns text from a raw cursor; its backend converts it
        return ops.convert_datetimefield_value
    import psycopg
    from psycopg.pq import Format

    oid = psycopg.postgres.types["timestamptz"].oid
    cursor.cursor.adapters.register_loader(oid, psycopg.adapters.get_loader(oid, Format.TEXT))
    return None


def _stream(actions: frozenset[str], *, lo: int, hi: int) -> Iterator[tuple[int, list[base.Entry]]]:
    """Entries of ``actions`` for cases ``lo..hi`` in case and chain order, one case at a time, from a
    server-side cursor (a million cases never sit in memory)."""
    table = LedgerEntry._meta.db_table
    marks = ", ".join(["%s"] * len(actions))
    sql = (
        f"SELECT case_id, seq, action, recorded_at, actor_id, unit_id, payload FROM {table} "  # noqa: S608
        f"WHERE case_id BETWEEN %s AND %s AND action IN ({marks}) ORDER BY case_id, seq"
    )
    params: list[Any] = [lo, hi, *sorted(actions)]
    current, rows = -1, list[base.Entry]()
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        convert = _fast_datetimes(cursor)
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(20_000):
            for case_id, seq, action, at, actor, unit, payload in batch:
                if case_id != current:
                    if rows:
                        yield current, rows
                    current, rows = case_id, []
                if convert is not None:
                    at = convert(at, None, connection)
                rows.append(base.Entry(seq, action, at, actor, unit, payload))
    if rows:
        yield current, rows


def reevaluate_all(
    *, chosen: Sequence[base.Rule] | None = None, progress: Any = None, workers: int = 1
) -> Outcome:
    """Every case's whole history through ``chosen`` rules (default: all), in ranges of case ids. The
    entries are streamed; clocks are read per range. Idempotent: alerts already raised are kept.
    ``workers`` > 1 evaluates the ranges in that many processes (started with ``spawn``, each with
    its own connection to the configured database) at the server time of the call."""
    chosen = rules() if chosen is None else chosen
    actions, with_clocks = _reads(chosen)
    bounds = Case.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return Outcome()
    outcome = Outcome()
    step = 20_000
    ranges = [(lo, lo + step - 1) for lo in range(bounds["lo"], bounds["hi"] + 1, step)]
    started = time.perf_counter()
    if workers > 1:
        import django

        # ``django.setup`` itself is the initializer: a function of this module would import the
        # models while the child unpickles it, before the apps are ready. The settings module is
        # inherited through the environment.
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xietong.settings")
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=django.setup
        )
        with pool:
            done: Iterable[Outcome] = pool.map(
                _pool_range, repeat(tuple(chosen)), ranges, repeat(servertime.now())
            )
            outcome = _add_up(done, ranges, bounds["hi"], progress, started)
    else:
        done = (_reevaluate_range(chosen, actions, with_clocks, lo, hi) for lo, hi in ranges)
        outcome = _add_up(done, ranges, bounds["hi"], progress, started)
    return outcome


def _add_up(
    done: Iterable[Outcome], ranges: list[tuple[int, int]], top: int, progress: Any, started: float
) -> Outcome:
    outcome = Outcome()
    for (_, hi), outcome_range in zip(ranges, done, strict=True):
        outcome.cases += outcome_range.cases
        outcome.findings += outcome_range.findings
        outcome.raised += outcome_range.raised
        if progress is not None:
            progress(hi, top, outcome, time.perf_counter() - started)
    return outcome


def _pool_range(chosen: tuple[base.Rule, ...], bounds: tuple[int, int], now: datetime) -> Outcome:
    actions, with_clocks = _reads(chosen)
    with servertime.simulated(now):
        return _reevaluate_range(chosen, actions, with_clocks, *bounds)


_CLOCK_SQL = (
    "SELECT case_id, id, rule, unit_id, party_id, started_at, due_at, in_custody, status, stopped_at "  # noqa: S608 (the model's table)
    f"FROM {Clock._meta.db_table} WHERE case_id BETWEEN %s AND %s"
)


def _range_clocks(lo: int, hi: int) -> dict[int, list[base.ClockRow]]:
    clocks: dict[int, list[base.ClockRow]] = defaultdict(list)
    with connection.cursor() as cursor:
        convert = _fast_datetimes(cursor)
        cursor.execute(_CLOCK_SQL, [lo, hi])
        for case_id, pk, rule, unit, party, started, due, custody, status, stopped in cursor.fetchall():
            if convert is not None:
                started, due = convert(started, None, connection), convert(due, None, connection)
                stopped = convert(stopped, None, connection) if stopped is not None else None
            clocks[case_id].append(
                base.ClockRow(pk, rule, unit, party, started, due, bool(custody), status, stopped)
            )
    return clocks


def _reevaluate_range(
    chosen: Sequence[base.Rule], actions: frozenset[str], with_clocks: bool, lo: int, hi: int
) -> Outcome:
    numbers: dict[int, str] = {}
    heads: dict[int, int] = {}
    for pk, number, seq in Case.objects.filter(pk__range=(lo, hi)).values_list("pk", "number", "ledger_seq"):
        numbers[pk], heads[pk] = number, seq
    clocks = _range_clocks(lo, hi) if with_clocks else {}
    now = servertime.now()
    entries = dict(_stream(actions, lo=lo, hi=hi)) if actions else {}
    found: list[tuple[base.Rule, base.CaseHistory, base.Finding]] = []
    for pk, number in numbers.items():
        history = base.CaseHistory(
            pk, number, entries.get(pk, []), clocks.get(pk, []), now, timezone.get_current_timezone()
        )
        found.extend((r, history, f) for r, f in base.evaluate(history, chosen))
    with transaction.atomic():
        new = raise_findings(found)
        _mark(heads)
    return Outcome(cases=len(numbers), findings=len(found), raised=len(new))


__all__ = [
    "Outcome",
    "clocks_sweep",
    "dirty_case_ids",
    "evaluate_cases",
    "evaluate_dirty",
    "evaluate_stale",
    "on_case_acted",
    "reevaluate_all",
    "rules",
]
