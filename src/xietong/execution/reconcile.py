"""The daily custody reconciliation (F7, F14): everyone held today without a legal basis — a
detention or arrest period that ran out without an extension, a sentence served, an acquittal (or a
non-custodial judgment) without a release — becomes a red alert (``custody_unlawful``) to the unit
that answers for the lapsed basis; the 政法委 sees every alert (``supervision.selectors``).

The rules are those of the pure ``execution.custody.assess``, applied to each person's events in
order. This module only reads the events fast enough for a whole city (one stream of the custody
events in (party, time) order, one pass, in two processes on PostgreSQL) and writes the alerts.

Why the two shortcuts are safe. ``assess`` returns None unless the person is locked up at the end,
and whether he is depends only on ``STATE_AFTER`` of the events it reads (those before the first one
dated after ``today``). :func:`_locked_up` reads exactly those events with exactly that table, so a
person it finds not locked up is one ``assess`` would not flag. The database pre-filter
(:func:`_prefiltered_sql`) leaves out only persons with no event dated after ``today`` — for whom
``assess`` reads every event — whose last event of a ``STATE_AFTER`` kind frees them. Everyone else
goes through ``assess`` itself; ``tests/execution/test_reconcile.py`` checks all three agree on random
histories, ``xietong bench reconcile`` on a million.

Forks worker processes (see :func:`find_unlawful`): call it from a process of its own — the
``reconcile`` command, the worker — not from a threaded web server.
"""

from __future__ import annotations

import itertools
import multiprocessing
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from xietong import servertime
from xietong.execution import reconcile_worker
from xietong.execution.custody import STATE_AFTER, Event, Finding, Kind, assess
from xietong.execution.models import CustodyEvent

ALERT_KIND = "custody_unlawful"
_SQLITE_MAX_PARAMS = 500

# The columns read, in this order: a ``Row`` is (party_id: int, case_id: int, id: int, kind: str,
# on: date, until: date | None, variant: str, unit_id: int | None), and with the pre-filter one more.
_COLUMNS = ("party_id", "case_id", "id", "kind", "on", "until", "variant", "unit_id")
Row = tuple[Any, ...]
_PARTY, _CASE, _ID, _KIND, _ON, _UNTIL, _VARIANT, _UNIT = range(len(_COLUMNS))

_KINDS: dict[str, Kind] = {k.value: k for k in Kind}
_LOCKS: dict[str, bool] = {k.value: s.locked_up for k, s in STATE_AFTER.items()}


@dataclass
class ScanStats:
    """What a scan read: filled in as :func:`find_unlawful` goes."""

    persons: int = 0  # persons checked (with the pre-filter: persons with a custody state on record)
    streamed: int = 0  # persons whose events were read here (all of them without the pre-filter)
    events: int = 0  # events read here
    assessed: int = 0  # persons locked up at the end, handed to ``assess``
    workers: int = 1
    prefilter: bool = False
    seconds: float = 0.0

    def add(self, other: ScanStats) -> None:
        self.persons += other.persons
        self.streamed += other.streamed
        self.events += other.events
        self.assessed += other.assessed


@dataclass(frozen=True)
class ReconcileResult:
    today: date
    persons: int
    events: int
    flagged: int
    raised: int  # new alerts
    reopened: int  # alerts marked resolved whose finding is back (resolved by hand, or by mistake)
    resolved: int  # open alerts whose finding no longer holds
    scan_seconds: float
    seconds: float
    workers: int = 1
    by_reason: dict[str, int] = field(default_factory=dict)


def shanghai_today() -> date:
    return timezone.localdate(servertime.now())


# ------------------------------------------------------------------ reading

# Kinds that set the person's state, and those of them that lock him up: from ``STATE_AFTER`` itself.
_STATE_KINDS = sorted(_LOCKS)
_LOCKING_KINDS = sorted(k for k, locked in _LOCKS.items() if locked)


def column(name: str) -> str:
    """The quoted column of a ``CustodyEvent`` field (``party`` and ``party_id`` alike)."""
    field = CustodyEvent._meta.get_field(name.removesuffix("_id"))
    if not isinstance(field, models.Field):
        raise TypeError(f"{name} is not a column of CustodyEvent")
    return connection.ops.quote_name(field.column)


def _select_sql(bounded: bool) -> str:
    """Every event (of the persons with ids in a range) in (party, at, id) order."""
    table = connection.ops.quote_name(CustodyEvent._meta.db_table)
    cols = ", ".join(column(name) for name in _COLUMNS)
    party = column("party")
    where = f" WHERE {party} >= %s AND {party} < %s" if bounded else ""
    order = ", ".join(column(c) for c in ("party", "at", "id"))
    return f"SELECT {cols} FROM {table}{where} ORDER BY {order}"  # noqa: S608 (model metadata)


def _prefiltered_sql(bounded: bool) -> str:
    """The events of the persons who may be locked up on the day (a parameter), in (party, at, id)
    order, each row followed by the number of persons with a state on record (one InitPlan).

    A person is left out when none of his events is dated after the day and his last event (by
    at, id) of a kind in ``STATE_AFTER`` leaves him free (or he has none): ``assess`` then reads
    all his events and ends in that state, so it cannot flag him. Everyone else is streamed and
    goes through exactly what :func:`_scan` does without the filter."""
    table = connection.ops.quote_name(CustodyEvent._meta.db_table)
    party, kind, on, at, pk = (column(n) for n in ("party", "kind", "on", "at", "id"))
    cols = ", ".join(f"e.{column(n)}" for n in _COLUMNS)
    state = ", ".join(["%s"] * len(_STATE_KINDS))
    locking = ", ".join(["%s"] * len(_LOCKING_KINDS))
    span = f" AND {party} >= %s AND {party} < %s" if bounded else ""
    if connection.vendor == "postgresql":
        last = (
            f"SELECT DISTINCT ON ({party}) {party} AS party, {kind} AS kind FROM {table} "  # noqa: S608
            f"WHERE {kind} IN ({state}){span} ORDER BY {party} DESC, {at} DESC, {pk} DESC"
        )
        materialized = "MATERIALIZED "
    else:
        last = (
            f"SELECT party, kind FROM (SELECT {party} AS party, {kind} AS kind, ROW_NUMBER() OVER "  # noqa: S608
            f"(PARTITION BY {party} ORDER BY {at} DESC, {pk} DESC) AS rn FROM {table} "
            f"WHERE {kind} IN ({state}){span}) AS ranked WHERE rn = 1"
        )
        materialized = ""
    # model metadata and placeholders only
    return (
        f"WITH last AS {materialized}({last}), "  # noqa: S608
        f"held AS (SELECT party FROM last WHERE kind IN ({locking}) "
        f"UNION SELECT {party} FROM {table} WHERE {on} > %s{span}) "
        f"SELECT {cols}, (SELECT count(*) FROM last) FROM {table} e "
        f"WHERE e.{party} IN (SELECT party FROM held) ORDER BY e.{party}, e.{at}, e.{pk}"
    )


def _prefiltered_params(today: date, bounds: tuple[int, int] | None) -> list[Any]:
    span = list(bounds) if bounds is not None else []
    day = connection.ops.adapt_datefield_value(today)
    return [*_STATE_KINDS, *span, *_LOCKING_KINDS, day, *span]


def _persons_with_state(bounds: tuple[int, int] | None) -> int:
    table = connection.ops.quote_name(CustodyEvent._meta.db_table)
    party, kind = column("party"), column("kind")
    span = f" AND {party} >= %s AND {party} < %s" if bounds is not None else ""
    state = ", ".join(["%s"] * len(_STATE_KINDS))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(DISTINCT {party}) FROM {table} WHERE {kind} IN ({state}){span}",  # noqa: S608
            [*_STATE_KINDS, *(bounds or ())],
        )
        return int(cursor.fetchone()[0])


def _batches(sql: str, params: list[Any], batch: int) -> Iterator[Sequence[Row]]:
    """Rows of ``sql``, ``batch`` at a time. On PostgreSQL a server-side cursor inside a
    transaction (no WITH HOLD copy of the whole result), with JIT compilation off (it costs more
    than it saves on a query run once) and room to sort the pre-filtered persons in memory."""
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        if connection.vendor == "postgresql":
            with connection.cursor() as setting:
                setting.execute("SET LOCAL jit = off")
                setting.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(batch):
            yield rows


def _locked_up(rows: Sequence[Row], today: date) -> bool:
    """Whether the person is locked up on ``today`` by the state ``assess`` would reach."""
    locked = False
    for row in rows:
        if row[_ON] > today:
            break
        now_locked = _LOCKS.get(row[_KIND])
        if now_locked is not None:
            locked = now_locked
    return locked


def events_of(rows: Sequence[Row]) -> list[Event]:
    return [Event(_KINDS[r[_KIND]], r[_ON], r[_UNIT], r[_UNTIL], r[_VARIANT] or "", r[_ID]) for r in rows]


def assess_rows(rows: Sequence[Row], today: date) -> Finding | None:
    """``assess`` of one person's rows (in order), skipping it when he is not locked up."""
    if not _locked_up(rows, today):
        return None
    return assess(events_of(rows), today)


Found = tuple[int, int, Finding]  # party id, case id (of the event whose basis lapsed), finding


def _scan(
    today: date, bounds: tuple[int, int] | None, batch: int, prefilter: bool, stats: ScanStats
) -> Iterator[Found]:
    if prefilter:
        sql, params = _prefiltered_sql(bounds is not None), _prefiltered_params(today, bounds)
    else:
        sql, params = _select_sql(bounds is not None), list(bounds or ())
    rows_of = itemgetter(_PARTY)
    stream = itertools.chain.from_iterable(_batches(sql, params, batch))
    persons = events = assessed = 0
    total: int | None = None
    for party_id, group in itertools.groupby(stream, rows_of):
        rows = list(group)
        if total is None and prefilter:
            total = rows[0][len(_COLUMNS)]
        persons += 1
        events += len(rows)
        if not _locked_up(rows, today):
            continue
        assessed += 1
        finding = assess(events_of(rows), today)
        if finding is not None:
            basis_id = finding.basis_event.event_id
            case_id = next((r[_CASE] for r in rows if r[_ID] == basis_id), rows[-1][_CASE])
            yield party_id, case_id, finding
    stats.streamed += persons
    if prefilter:  # everyone with a state on record was checked, most of them by the query
        persons = total if total is not None else _persons_with_state(bounds)
    stats.persons += persons
    stats.events += events
    stats.assessed += assessed


def _ranges(workers: int) -> list[tuple[int, int]]:
    """``workers`` ranges of party ids with about as many events each (from the index)."""
    opts = CustodyEvent._meta
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min({qn('party_id')}), max({qn('party_id')}) FROM {qn(opts.db_table)}")  # noqa: S608
        low, high = cursor.fetchone()
    if low is None:
        return []
    # ids are dense enough (bulk inserts, one sequence) for equal id ranges to be near-equal work
    step = (high - low + workers) // workers
    edges = [low + i * step for i in range(workers)] + [high + 1]
    return [(edges[i], edges[i + 1]) for i in range(workers) if edges[i] < edges[i + 1]]


def default_workers() -> int:
    """Two processes on PostgreSQL outside a transaction when the machine has the cores, else one.
    (Inside a transaction a second connection would not see its uncommitted rows.) Only the main
    thread starts workers: a web request or the embedded worker's thread runs the check in one
    process rather than start Django twice more inside a server."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    if threading.current_thread() is not threading.main_thread():
        return 1
    cpus = multiprocessing.cpu_count()
    return max(1, min(2, cpus))


def find_unlawful(
    today: date,
    *,
    batch: int = 20_000,
    workers: int | None = None,
    prefilter: bool = True,
    stats: ScanStats | None = None,
) -> Iterator[Found]:
    """Everyone held on ``today`` without a legal basis, as (party id, case id, finding), in party
    order within each worker's range.

    Streams the custody events in (party, at, id) order and hands each person's to ``assess``.
    ``prefilter`` (default) lets the database leave out the persons it can tell are free (see
    :func:`_prefiltered_sql`), so the work grows with the people in custody rather than with the
    history; without it every event is read. ``workers`` > 1 (PostgreSQL only, outside a
    transaction; default two there) splits the persons by id range over spawned processes, the
    caller's process taking the first range. ``stats`` (optional) receives what was read."""
    stats = stats if stats is not None else ScanStats()
    stats.prefilter = prefilter
    started = time.perf_counter()
    workers = default_workers() if workers is None else workers
    if workers > 1 and (connection.vendor != "postgresql" or connection.in_atomic_block):
        workers = 1
    ranges = _ranges(workers) if workers > 1 else []
    if len(ranges) <= 1:
        stats.workers = 1
        yield from _scan(today, None, batch, prefilter, stats)
        stats.seconds = time.perf_counter() - started
        return
    stats.workers = len(ranges)
    ctx = multiprocessing.get_context("spawn")
    database = dict(connection.settings_dict)
    database["NAME"] = connection.settings_dict["NAME"]  # the test database when under a test run
    children = []
    for bounds in ranges[1:]:
        receive, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=reconcile_worker.run, args=(today, bounds, batch, prefilter, send, database), daemon=True
        )
        proc.start()
        send.close()
        children.append((proc, receive))
    try:
        yield from _scan(today, ranges[0], batch, prefilter, stats)
        for proc, receive in children:
            status, found, theirs = receive.recv()
            proc.join()
            if status != "ok":
                raise RuntimeError(f"custody reconciliation worker failed: {found}")
            stats.add(theirs)
            yield from found
    finally:
        for proc, receive in children:
            receive.close()
            if proc.is_alive():
                proc.terminate()
            proc.join()
    stats.seconds = time.perf_counter() - started


# ------------------------------------------------------------------ writing


def alert_key(party_id: int, finding: Finding) -> str:
    return f"custody:{party_id}:{finding.reason.value}:{finding.basis_event.event_id}"


def _chunks(items: Sequence[Any], size: int = _SQLITE_MAX_PARAMS) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _alert_message(number: str, name: str, finding: Finding, today: date) -> str:
    basis = finding.basis_event
    return (
        f"{number} {name}：{finding.reason.label}。自{finding.since:%Y-%m-%d}起羁押无法律依据，"
        f"已{finding.days_over(today)}日（{basis.kind.label}，{basis.on:%Y-%m-%d}；{finding.article}）"
    )[:500]


def reconcile(
    today: date | None = None, *, workers: int | None = None, prefilter: bool = True, batch: int = 20_000
) -> ReconcileResult:
    """Run the daily reconciliation for ``today`` (default: today in Asia/Shanghai by the server's
    clock): one ``custody_unlawful`` alert per finding, keyed by person, reason and the event whose
    basis lapsed, so a second run raises nothing new; an alert resolved while its finding still
    holds is opened again; an open alert whose finding no longer holds (released, or a new basis
    recorded) is marked resolved. Safe to run concurrently (the key is unique)."""
    from xietong.cases.models import Party
    from xietong.supervision.models import Alert

    started = time.perf_counter()
    today = today or shanghai_today()
    stats = ScanStats()
    findings = {
        alert_key(p, f): (p, c, f)
        for p, c, f in find_unlawful(today, batch=batch, workers=workers, prefilter=prefilter, stats=stats)
    }
    now = servertime.now()

    names: dict[int, tuple[str, str]] = {}
    party_ids = sorted({p for p, _, _ in findings.values()})
    for chunk in _chunks(party_ids):
        for pk, name, number in Party.objects.filter(pk__in=chunk).values_list("pk", "name", "case__number"):
            names[pk] = (name, number)

    with transaction.atomic():
        open_alerts = dict(
            Alert.objects.filter(
                kind=ALERT_KIND, resolved_at__isnull=True, key__startswith="custody:"
            ).values_list("key", "pk")
        )
        fresh = [key for key in findings if key not in open_alerts]
        alerts = []
        for key in fresh:
            party_id, case_id, finding = findings[key]
            name, number = names.get(party_id, ("", ""))
            alerts.append(
                Alert(
                    kind=ALERT_KIND,
                    key=key,
                    case_id=case_id,
                    unit_id=finding.unit_id,
                    message=_alert_message(number, name, finding, today),
                    details={
                        "party": party_id,
                        "name": name,
                        "case_number": number,
                        "reason": finding.reason.value,
                        "reason_label": finding.reason.label,
                        "since": finding.since.isoformat(),
                        "days_over": finding.days_over(today),
                        "basis_event": finding.basis_event.event_id,
                        "basis_kind": finding.basis_event.kind.value,
                        "basis_on": finding.basis_event.on.isoformat(),
                        "article": finding.article,
                        "checked_on": today.isoformat(),
                    },
                    raised_at=now,
                )
            )
        before = Alert.objects.filter(kind=ALERT_KIND).count()
        Alert.objects.bulk_create(alerts, batch_size=1000, ignore_conflicts=True)
        raised = Alert.objects.filter(kind=ALERT_KIND).count() - before
        reopened = 0
        if raised < len(fresh):  # some keys were there already, resolved: the finding is back
            for chunk in _chunks(fresh):
                reopened += Alert.objects.filter(key__in=chunk, resolved_at__isnull=False).update(
                    resolved_at=None
                )
        stale = [pk for key, pk in open_alerts.items() if key not in findings]
        resolved = 0
        for chunk in _chunks(stale):
            resolved += Alert.objects.filter(pk__in=chunk, resolved_at__isnull=True).update(resolved_at=now)

    by_reason: dict[str, int] = {}
    for _, _, finding in findings.values():
        by_reason[finding.reason.value] = by_reason.get(finding.reason.value, 0) + 1
    return ReconcileResult(
        today=today,
        persons=stats.persons,
        events=stats.events,
        flagged=len(findings),
        raised=raised,
        reopened=reopened,
        resolved=resolved,
        scan_seconds=stats.seconds,
        seconds=time.perf_counter() - started,
        workers=stats.workers,
        by_reason=by_reason,
    )
