"""What the rules must find in the database, computed with SQL over the ledger and the clocks — a
second, independent reading of each rule of ``supervision.rules.catalogue`` (window functions where the
rule walks a case's history in Python). Returns finding keys per rule, as the engine keys them."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db import connection

from xietong.cases.deadlines import PARTY_PERIODS
from xietong.cases.procedure import ACTIONS
from xietong.supervision.rules.catalogue import (
    CUSTODY_LIMITS,
    HOLLOW_RESUBMIT_DAYS,
    NEW_MATERIAL,
    SERVICE_RULES,
)

_TZ = "Asia/Shanghai"  # settings.TIME_ZONE: the day a claimed date is compared with
_EMPTY = "('null', 'false', '0', '\"\"', '{}', '[]')"  # JSON values Python's truth test rejects


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def expected_keys(now: datetime) -> dict[str, set[str]]:
    """Finding keys per rule code for the whole database, with running clocks judged at ``now``."""
    from xietong.cases.models import Clock
    from xietong.ledger.models import LedgerEntry

    ledger, clocks = LedgerEntry._meta.db_table, Clock._meta.db_table
    out: dict[str, set[str]] = defaultdict(set)

    # 第三次退回补充侦查: every return from the third on.
    for case, seq in _rows(
        "SELECT case_id, seq FROM (SELECT case_id, seq, "  # noqa: S608
        f"row_number() OVER (PARTITION BY case_id ORDER BY seq) AS n FROM {ledger} "
        "WHERE action = 'return_for_supplementary') r WHERE n >= 3",
        [],
    ):
        out["supplementary.third"].add(f"supplementary.third:{case}:{seq}")

    # 重新移送 within 7 days of the last return not yet answered, nothing new in the file between.
    marks = ", ".join(["%s"] * len(NEW_MATERIAL))
    for case, seq in _rows(
        f"""
        WITH e AS (
            SELECT case_id, seq, action, recorded_at FROM {ledger}
            WHERE action IN ('return_for_supplementary', 'resubmit', {marks})
        ), r AS (
            SELECT e.*, max(CASE WHEN action = 'return_for_supplementary' THEN seq END)
                   OVER (PARTITION BY case_id ORDER BY seq ROWS UNBOUNDED PRECEDING) AS last_return
            FROM e
        )
        SELECT s.case_id, s.seq FROM r s
        JOIN e ret ON ret.case_id = s.case_id AND ret.seq = s.last_return
        WHERE s.action = 'resubmit'
          AND NOT EXISTS (SELECT 1 FROM e x WHERE x.case_id = s.case_id AND x.seq > s.last_return
                          AND x.seq < s.seq AND x.action <> 'return_for_supplementary')
          AND s.recorded_at - ret.recorded_at < make_interval(days => %s)
        """,  # noqa: S608
        [*sorted(NEW_MATERIAL), HOLLOW_RESUBMIT_DAYS],
    ):
        out["supplementary.hollow"].add(f"supplementary.hollow:{case}:{seq}")

    # 延长羁押 without an approver or without its instrument.
    for case, seq in _rows(
        f"SELECT case_id, seq FROM {ledger} WHERE action = 'extend_custody' AND ("  # noqa: S608
        f"coalesce((payload::jsonb -> 'approved_by')::text, 'null') IN {_EMPTY} OR "
        f"coalesce((payload::jsonb -> 'instrument')::text, 'null') IN {_EMPTY})",
        [],
    ):
        out["extension.unapproved"].add(f"extension.unapproved:{case}:{seq}")

    # A claimed date (the act's own, else its instrument's) before the server's day of the act. The
    # text test first: parsing 10 M payloads as jsonb would take minutes.
    read = sorted(set(ACTIONS) | {"accept", "instrument_seal"})
    marks = ", ".join(["%s"] * len(read))
    for case, seq in _rows(
        f"""
        SELECT case_id, seq FROM (
            SELECT case_id, seq, recorded_at, payload::jsonb AS p FROM {ledger}
            WHERE action IN ({marks}) AND payload ~ '"claimed_date" *: *"'
        ) x
        WHERE coalesce(nullif(p ->> 'claimed_date', ''), p #>> '{{instrument,claimed_date}}')::date
              < (recorded_at AT TIME ZONE %s)::date
        """,  # noqa: S608
        [*read, _TZ],
    ):
        out["backdate.claimed"].add(f"backdate.claimed:{case}:{seq}")

    # An approved 撤回/更正.
    for case, seq in _rows(
        f"SELECT case_id, seq FROM {ledger} WHERE action = 'instrument_change_decide' "  # noqa: S608
        f"AND coalesce((payload::jsonb -> 'approved')::text, 'null') NOT IN {_EMPTY}",
        [],
    ):
        out["instrument.changed"].add(f"instrument.changed:{case}:{seq}")

    # Clocks past their limit: stopped after it, or still running at ``now``.
    for pk, rule, in_custody in _rows(
        f"SELECT id, rule, in_custody FROM {clocks} "  # noqa: S608
        "WHERE (CASE WHEN status = 'running' THEN %s ELSE stopped_at END) > due_at",
        [now],
    ):
        if rule in SERVICE_RULES:
            out["service.late"].add(f"clock:{pk}")
        elif rule in PARTY_PERIODS:
            continue
        elif rule in CUSTODY_LIMITS or in_custody:
            out["custody.overdue"].add(f"clock:{pk}")
        else:
            out["clock.overdue"].add(f"clock:{pk}")
    return out
