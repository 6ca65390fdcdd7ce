"""Leaders' oversight (F15): by permission, query all or part of the cases by how far their limits
have run, see the alerts and what was done about them, and per unit and handler indicators
(on-time rate, returns for supplementary investigation, alerts, instruments changed, review scores).

Reads only: cases through ``cases.selectors`` (visibility), figures through the analytics facts
(``analytics.selectors.facts_visible_to``), alerts through ``supervision.selectors``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from xietong import servertime
from xietong.analytics.memo import memo
from xietong.analytics.selectors import facts_visible_to, visible_unit_ids
from xietong.cases.deadlines import RULES
from xietong.cases.models import Clock, ClockStatus
from xietong.cases.selectors import of_visible_cases
from xietong.errors import ValidationFailed
from xietong.orgs.models import Region, Unit, User
from xietong.supervision.models import Alert, AlertStatus
from xietong.supervision.selectors import alerts_visible_to

# The limits a leader asks about, by family (the clocks of one stage with their variants).
FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "arrest_review": ("审查批准逮捕", ("arrest_review_detained", "arrest_review_not_detained",
                                       "arrest_review_not_detained_complex")),
    "investigation": ("侦查羁押", ("investigation_custody", "investigation_custody_ext1",
                                    "investigation_custody_ext2", "investigation_custody_ext3")),
    "arrest_request": ("提请批准逮捕", ("arrest_request", "arrest_request_extended",
                                         "arrest_request_roaming")),
    "prosecution_review": ("审查起诉", ("prosecution_review", "prosecution_review_extended",
                                        "prosecution_review_fast", "prosecution_review_fast_over_1y")),
    "supplementary": ("补充侦查", ("supplementary_investigation",)),
    "trial": ("一审", ("first_instance", "first_instance_max", "first_instance_extended", "summary_trial",
                       "summary_trial_over_3y", "fast_track_trial", "fast_track_trial_over_1y")),
    "appeal_trial": ("二审", ("second_instance", "second_instance_extended")),
}  # fmt: skip


UNIT_COLUMNS = ("police_unit_id", "procuratorate_unit_id", "court_unit_id")
HANDLER_COLUMNS = ("police_handler", "prosecutor", "judge")


@dataclass
class ClockQuery:
    family: str = "prosecution_review"
    progress: int = 75  # per cent of the limit already used
    county: int | None = None

    @classmethod
    def parse(cls, data: Any) -> ClockQuery:
        q = cls()
        family = (data.get("family") or q.family).strip()
        if family not in FAMILIES:
            raise ValidationFailed("没有这种办案期限", code="bad_family")
        try:
            progress = int(data.get("progress") or q.progress)
            county = int(data["county"]) if data.get("county") else None
        except (TypeError, ValueError) as exc:
            raise ValidationFailed("进度须为 0–100 的整数", code="bad_progress") from exc
        if not 0 <= progress <= 100:
            raise ValidationFailed("进度须为 0–100 的整数", code="bad_progress")
        return cls(family=family, progress=progress, county=county)


@dataclass
class ClockHit:
    clock: Clock
    used: float  # share of the limit used (1.0 = due now)
    label: str

    @property
    def percent(self) -> int:
        return min(int(self.used * 100), 999)


def clocks_past(
    *, user: User, query: ClockQuery, now: datetime | None = None, limit: int = 500
) -> list[ClockHit]:
    """Running clocks of ``query.family`` in the cases the user may see that have used at least
    ``query.progress`` per cent of their time (e.g. all cases of a district past 75% of 审查起诉)."""
    now = now or servertime.now()
    clocks = (
        Clock.objects.filter(status=ClockStatus.RUNNING, rule__in=FAMILIES[query.family][1])
        .filter(of_visible_cases(user=user))
        .select_related("case", "party", "unit")
        .order_by("due_at")
    )
    if query.county:
        clocks = clocks.filter(case__county_id=query.county)
    hits = []
    for clock in clocks[:5000]:
        span = (clock.due_at - clock.started_at).total_seconds()
        used = (now - clock.started_at).total_seconds() / span if span > 0 else 1.0
        if used * 100 >= query.progress:
            hits.append(ClockHit(clock, used, RULES[clock.rule].label if clock.rule in RULES else clock.rule))
    hits.sort(key=lambda h: -h.used)
    return hits[:limit]


def counties() -> QuerySet[Region]:
    return Region.objects.filter(level="county").order_by("code")


# --- alerts --------------------------------------------------------------------------------------


def alert_summary(*, user: User) -> dict[str, Any]:
    """Alerts the user may see, by kind and status, and how long answers took."""
    qs = alerts_visible_to(user=user)
    by_kind: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    labels = dict(Alert._meta.get_field("kind").choices or [])
    for kind, status, n in qs.values_list("kind", "status").annotate(n=Count("pk")).order_by():
        by_kind[str(labels.get(kind, kind))][status] += n
    rows = []
    for label, counts in sorted(by_kind.items(), key=lambda kv: -sum(kv[1].values())):
        total = sum(counts.values())
        closed = counts.get(AlertStatus.EXPLAINED, 0) + counts.get(AlertStatus.RECTIFIED, 0)
        rows.append(
            {
                "kind": label,
                "total": total,
                "open": counts.get(AlertStatus.OPEN, 0),
                "acknowledged": counts.get(AlertStatus.ACKNOWLEDGED, 0),
                "explained": counts.get(AlertStatus.EXPLAINED, 0),
                "rectified": counts.get(AlertStatus.RECTIFIED, 0),
                "closed_rate": round(100 * closed / total, 1) if total else None,
            }
        )
    return {"rows": rows, "total": sum(r["total"] for r in rows), "open": sum(r["open"] for r in rows)}


# --- indicators ----------------------------------------------------------------------------------


@dataclass
class Indicator:
    name: str
    unit: str = ""
    cases: int = 0
    concluded: int = 0
    on_time: int = 0
    returns: int = 0
    alerts: int = 0
    alerts_open: int = 0
    changed: int = 0  # sealed instruments withdrawn or corrected
    review_score: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def on_time_rate(self) -> float | None:
        return round(100 * self.on_time / self.cases, 1) if self.cases else None


def _review_scores(unit_ids: list[int]) -> dict[int, float]:
    """Average 评查 score per unit, when the quality app is installed (it is part of the same issue
    and reads the same units)."""
    try:
        from xietong.quality import selectors as quality
    except ImportError:
        return {}
    return {
        int(row["unit_id"]): float(row["average_score"])
        for row in quality.unit_scores(units=unit_ids)
        if row.get("average_score") is not None
    }


def _facts_by(
    user: User, columns: tuple[str, ...], allowed: list[int] | None
) -> list[tuple[int, int, int, int, int]]:
    """Per value of each of ``columns`` (a unit or a handler) over the facts ``user`` sees (his
    view is ``allowed``, from ``visible_unit_ids``): cases, concluded, cases with a limit overrun,
    returns. The facts are grouped once per column, which is most of the oversight page's time on a
    city's years of cases: kept by ``analytics.memo`` until the facts change (the key is the user's
    view, not the user)."""

    def compute() -> list[tuple[int, int, int, int, int]]:
        rows: list[tuple[int, int, int, int, int]] = []
        facts = facts_visible_to(user=user)
        for column in columns:
            rows.extend(
                (key, n, concluded, late, returns or 0)
                for key, n, concluded, late, returns in (
                    facts.exclude(**{column: None})
                    .values_list(column)
                    .annotate(
                        n=Count("pk"),
                        concluded=Count("pk", filter=Q(concluded_on__isnull=False)),
                        late=Count("pk", filter=Q(overdue_count__gt=0)),
                        returns=Sum("supplementary_count"),
                    )
                    .order_by()
                )
            )
        return rows

    return memo("oversight.facts_by", (columns, allowed), compute)


def unit_indicators(*, user: User) -> list[Indicator]:
    """Per unit of the user's view: its cases (as police, procuratorate or court), how many ended
    without a limit overrun, returns, alerts (open) and instruments changed, and its review score."""
    allowed = visible_unit_ids(user)
    rows: dict[int, Indicator] = {}
    names = dict(Unit.objects.values_list("pk", "name"))
    for unit_id, n, concluded, late, returns in _facts_by(user, UNIT_COLUMNS, allowed):
        if allowed is not None and unit_id not in allowed:
            continue
        row = rows.setdefault(unit_id, Indicator(name=names.get(unit_id, str(unit_id))))
        row.cases += n
        row.concluded += concluded
        row.on_time += n - late
        row.returns += returns
    alerts = alerts_visible_to(user=user).exclude(unit=None)
    for unit_id, n, open_, changed in (
        alerts.values_list("unit_id")
        .annotate(
            n=Count("pk"),
            open=Count("pk", filter=Q(status=AlertStatus.OPEN)),
            changed=Count("pk", filter=Q(kind="instrument_changed")),
        )
        .order_by()
    ):
        if allowed is not None and unit_id not in allowed:
            continue
        row = rows.setdefault(unit_id, Indicator(name=names.get(unit_id, str(unit_id))))
        row.alerts, row.alerts_open, row.changed = n, open_, changed
    for unit_id, score in _review_scores(list(rows)).items():
        if unit_id in rows:
            rows[unit_id].review_score = round(score, 1)
    return sorted(rows.values(), key=lambda r: (-r.alerts_open, -r.cases, r.name))


def handler_indicators(*, user: User, limit: int = 50) -> list[Indicator]:
    """Per handler (who took the deciding act of his agency): cases, on-time, returns; his alerts
    and the instruments he had withdrawn or corrected."""
    rows: dict[int, Indicator] = {}
    people: dict[int, dict[str, Any]] = {
        u["pk"]: dict(u) for u in User.objects.values("pk", "full_name", "unit__name")
    }
    for user_id, n, _concluded, late, returns in _facts_by(user, HANDLER_COLUMNS, visible_unit_ids(user)):
        person = people.get(user_id) or {}
        row = rows.setdefault(
            user_id, Indicator(name=person.get("full_name", ""), unit=person.get("unit__name", ""))
        )
        row.cases += n
        row.on_time += n - late
        row.returns += returns
    for user_id, n, open_, changed in (
        alerts_visible_to(user=user)
        .exclude(user=None)
        .values_list("user_id")
        .annotate(
            n=Count("pk"),
            open=Count("pk", filter=Q(status=AlertStatus.OPEN)),
            changed=Count("pk", filter=Q(kind="instrument_changed")),
        )
        .order_by()
    ):
        person = people.get(user_id) or {}
        row = rows.setdefault(
            user_id, Indicator(name=person.get("full_name", ""), unit=person.get("unit__name", ""))
        )
        row.alerts, row.alerts_open, row.changed = n, open_, changed
    return sorted(rows.values(), key=lambda r: (-r.alerts, -r.cases, r.name))[:limit]
