"""Starting and stopping a case's statutory clocks; each due date from ``cases.deadlines``."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime

from xietong import fastsql
from xietong.cases import deadlines
from xietong.cases.models import Case, Clock, ClockStatus, HolidayOverride, Party
from xietong.cases.procedure import Custody
from xietong.orgs.models import Unit

_CALENDAR_TTL = 60.0  # seconds: an admin's edit of the holiday table reaches every process within a minute
_calendar: tuple[float, deadlines.ChineseHolidayCalendar] | None = None


def holiday_calendar() -> deadlines.ChineseHolidayCalendar:
    """The official calendar plus the admin table, re-read at most once a minute per process (and
    at once in this process after an edit), so the hot path of every act does not query it."""
    global _calendar
    now = time.monotonic()
    if _calendar is None or now - _calendar[0] > _CALENDAR_TTL:
        overrides = dict(HolidayOverride.objects.values_list("day", "is_rest_day"))
        _calendar = (now, deadlines.ChineseHolidayCalendar(overrides=overrides))
    return _calendar[1]


def holiday_calendar_changed() -> None:
    global _calendar
    _calendar = None


def compute(rule: str, start: datetime, *, in_custody: bool) -> deadlines.DeadlineResult:
    return deadlines.compute_deadline(rule, start, in_custody=in_custody, calendar=holiday_calendar())


def clocks_start(
    *,
    case: Case,
    unit: Unit,
    at: datetime,
    wanted: list[tuple[str, Party | None]],
    parties: list[Party],
    all_parties: list[Party] | None = None,
) -> list[Clock]:
    """Start several clocks at once: one UPDATE to supersede running ones of the same rule and
    person, one multi-row INSERT (an act such as 拘留 starts four per suspect). ``all_parties``:
    the case's parties when the caller has them (else read here unless ``parties`` are all)."""
    if not wanted:
        return []
    if all_parties is None:
        all_parties = parties if len(parties) == case.parties.count() else list(case.parties.all())
    anyone = any(Custody(p.custody).in_custody for p in all_parties)
    superseded: list[str] = []
    params: list[object] = [case.pk, ClockStatus.RUNNING.value]
    for rule, party in wanted:
        if party is not None:
            superseded.append("(rule = %s AND party_id = %s)")
            params.extend((rule, party.pk))
        else:
            superseded.append("(rule = %s AND party_id IS NULL)")
            params.append(rule)
    fastsql.update_where(
        Clock,
        {"status": ClockStatus.STOPPED.value, "stopped_at": at, "stopped_by": "superseded"},
        f"case_id = %s AND status = %s AND ({' OR '.join(superseded)})",
        params,
    )
    rows = []
    for rule, party in wanted:
        in_custody = Custody(party.custody).in_custody if party is not None else anyone
        result = compute(rule, at, in_custody=in_custody)
        rows.append(
            Clock(
                case=case,
                party=party,
                rule=rule,
                unit=unit,
                started_at=at,
                in_custody=in_custody,
                due=result.due,
                due_at=result.due_at,
            )
        )
    return fastsql.insert(rows)


def clocks_stop(
    *, case: Case, rules: Iterable[str], at: datetime, by: str, party_ids: Iterable[int] | None
) -> int:
    """Stop running clocks of ``rules``: the case-level ones, and per-person ones of ``party_ids``
    (all persons when None)."""
    rules = list(rules)
    if not rules:
        return 0
    where = f"case_id = %s AND rule IN ({fastsql.placeholders(len(rules))}) AND status = %s"
    params: list[object] = [case.pk, *rules, ClockStatus.RUNNING.value]
    if party_ids is not None:
        ids = list(party_ids)
        if ids:
            where += f" AND (party_id IS NULL OR party_id IN ({fastsql.placeholders(len(ids))}))"
            params.extend(ids)
        else:
            where += " AND party_id IS NULL"
    return fastsql.update_where(
        Clock, {"status": ClockStatus.STOPPED.value, "stopped_at": at, "stopped_by": by}, where, params
    )


def clocks_stop_all(*, case: Case, at: datetime, by: str) -> int:
    return Clock.objects.filter(case=case, status=ClockStatus.RUNNING).update(
        status=ClockStatus.STOPPED, stopped_at=at, stopped_by=by
    )


def clocks_reopen(*, case: Case, by: str, stopped_at: datetime) -> int:
    """Undo the stops made by a transfer that the receiver returned: the sender's limits run on."""
    return Clock.objects.filter(
        case=case, status=ClockStatus.STOPPED, stopped_by=by, stopped_at=stopped_at
    ).update(status=ClockStatus.RUNNING, stopped_at=None, stopped_by="")


def clocks_follow_custody(*, case: Case, parties: list[Party] | None = None) -> int:
    """刑诉法第105条: whether a last day on a holiday moves depends on custody *on the expiry day*.
    When a suspect is released or taken into custody, his running clocks (and the case's, which
    follow "anyone in custody") are recomputed with the new flag. Returns how many changed.
    ``parties``: all the case's parties as they now are, when the caller has them."""
    if parties is None:
        parties = list(case.parties.all())
    custody = {p.pk: Custody(p.custody).in_custody for p in parties}
    anyone = any(custody.values())
    changed = 0
    running = fastsql.fetch_models(
        Clock, "WHERE {t}.case_id = %s AND {t}.status = %s", [case.pk, ClockStatus.RUNNING.value]
    )
    for clock in running:
        in_custody = custody.get(clock.party_id, anyone) if clock.party_id else anyone
        if in_custody == clock.in_custody:
            continue
        result = compute(clock.rule, clock.started_at, in_custody=in_custody)
        clock.in_custody, clock.due, clock.due_at = in_custody, result.due, result.due_at
        fastsql.update(clock, ("in_custody", "due", "due_at"))
        changed += 1
    return changed
