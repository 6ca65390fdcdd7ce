"""``xietong bench reconcile``: the daily custody reconciliation (``execution.reconcile``) over a
city's worth of persons — ``--persons`` (default 1,000,000) with their custody histories — in a
throwaway PostgreSQL database. Target: the whole scan in under 60 s on the 2-core reference machine.

The data: the Suzhou org (``demo.units.create_org``), one case registered through the door as the
template of ``persons / 4`` cases copied with ``INSERT … SELECT generate_series`` (spread over the
counties), four parties each, and per person a custody history made here and written with ``COPY``:
walks of the procedure — 拘留 (extended or not) → 提请批准逮捕 → 逮捕 (extended or not) → 移送审查起诉
(退补 and 重新移送) → 法院受理 (普通、简易、速裁) → 宣判 → 上诉 → 生效 → 收监 → 刑满释放, 假释 or
暂予监外执行 (revoked or not), with the exits a real population takes (释放, 取保候审, 监视居住,
不批捕, 不起诉, 缓刑 and 社区矫正, 无罪) — each at a random point in time, most finished long ago,
some in progress today (a tenth of those on the very last lawful day of their basis).

Every step lies within the limit of the basis before it, so a history is lawful by construction,
except for the planted ones (``--planted`` of the persons, 1 % by default, spread over the six
reasons): a history cut at a step whose limit ran out before today (a tenth of them by exactly one
day), or 收监 / 撤销后收监 recorded without the term (no basis at all). The limits the generator uses
are its own arithmetic of the statute (days; months with the month-end rule), not ``custody``'s, so
the bench checks the product against an independent reading: found must equal planted exactly —
person, reason, the event whose basis lapsed, the unit that answers for it, the first day without
basis — with no false alarm.

Timed: ``find_unlawful`` over everyone (median of three runs; the figure), then ``reconcile``
(findings → alerts) twice (the second must raise nothing), then a hundred planted persons released
and ``reconcile`` once more (their alerts must be resolved). Baseline: the same rows streamed by a
bare server-side cursor with no assessment, in the same run.
"""

from __future__ import annotations

import calendar
import contextlib
import io
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from typing import Any

from django.db import DatabaseError, connection, transaction

from xietong.bench.bulk import analyze, machine

Write = Callable[[str], None]
TARGET_SECONDS = 60.0
TARGET_PERSONS = 1_000_000
PARTIES_PER_CASE = 4
RUNS = 3
NULL = "\\N"  # COPY text format

DETENTION_EXPIRED = "detention_expired"
ARREST_REVIEW_EXPIRED = "arrest_review_expired"
CUSTODY_EXPIRED = "custody_expired"
SENTENCE_SERVED = "sentence_served"
RELEASE_REQUIRED = "release_required"
NO_BASIS = "no_basis"
REASONS = (
    DETENTION_EXPIRED,
    ARREST_REVIEW_EXPIRED,
    CUSTODY_EXPIRED,
    SENTENCE_SERVED,
    RELEASE_REQUIRED,
    NO_BASIS,
)


# ------------------------------------------------------------------ the statute, read independently


def _month_end(day: date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def months_later(day: date, months: int) -> date:
    """高法解释第202条第1款: the same day ``months`` later; from a month's last day, or to a month
    without that day, the target month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    if _month_end(day) or day.day > last:
        return date(year, month, last)
    return date(year, month, day.day)


# kind → (limit as ("d", days) | ("m", months) | ("until",) | ("on",), reason when it runs out)
_DAYS, _MONTHS = "d", "m"
_TRIAL = {"": (_MONTHS, 3), "summary": (_DAYS, 20), "fast": (_DAYS, 10)}
LIMITS: dict[str, tuple[tuple[Any, ...], str]] = {
    "detain": ((_DAYS, 3), DETENTION_EXPIRED),  # 刑诉法第91条第1款
    "extend_detention": (("until",), DETENTION_EXPIRED),  # 第91条第2款
    "request_arrest": ((_DAYS, 7), ARREST_REVIEW_EXPIRED),  # 第91条第3款
    "arrest": ((_MONTHS, 2), CUSTODY_EXPIRED),  # 第156条
    "extend_custody": (("until",), CUSTODY_EXPIRED),  # 第157-159条
    "transfer_prosecution": ((_MONTHS, 1), CUSTODY_EXPIRED),  # 第172条
    "supplementary": ((_MONTHS, 1), CUSTODY_EXPIRED),  # 第175条
    "resubmit": ((_MONTHS, 1), CUSTODY_EXPIRED),
    "extend_trial": (("until",), CUSTODY_EXPIRED),  # 第208条
    "appeal": ((_MONTHS, 2), CUSTODY_EXPIRED),  # 第243条
    "effective": (("until",), SENTENCE_SERVED),
    "commit": (("until",), SENTENCE_SERVED),
    "revoke": (("until",), SENTENCE_SERVED),
}
# The shortest a month limit can be (days), so that a step's gap never depends on the calendar.
_MIN_DAYS = {1: 28, 2: 59, 3: 89}
FREEING = {
    "bail",
    "surveil",
    "release",
    "term_end",
    "corrections_end",
    "corrections_start",
    "parole",
    "temporary_release",
}
HOLDING = {"detain", "arrest", "commit", "revoke"}


def limit_of(kind: str, on: date, until: date | None, variant: str) -> tuple[date, str]:
    """The last lawful day of the basis a step gives a person held, and the reason when it lapses."""
    if kind in {"court_accept", "remand"}:
        unit, n = _TRIAL[variant]
        return (on + timedelta(days=n) if unit == _DAYS else months_later(on, n)), CUSTODY_EXPIRED
    if kind == "pronounce":
        if variant == "release":
            return on, RELEASE_REQUIRED  # 第260条: released at once
        return on + timedelta(days=15), CUSTODY_EXPIRED  # 5 days to serve + 10 to appeal
    if kind == "effective" and variant == "release":
        return on, RELEASE_REQUIRED
    rule, reason = LIMITS[kind]
    if rule[0] == "until":
        if until is None:
            raise ValueError(f"{kind} needs its until")
        return until, reason
    if rule[0] == _DAYS:
        return on + timedelta(days=rule[1]), reason
    return months_later(on, rule[1]), reason


def _min_span(kind: str, until_gap: int | None, variant: str) -> int:
    """Days a step's basis lasts at least, whatever its date."""
    if kind in {"court_accept", "remand"}:
        unit, n = _TRIAL[variant]
        return n if unit == _DAYS else _MIN_DAYS[n]
    if kind == "pronounce":
        return 0 if variant == "release" else 15
    if kind == "effective" and variant == "release":
        return 0
    rule = LIMITS[kind][0]
    if rule[0] == "until":
        if until_gap is None:
            raise ValueError(f"{kind} needs its until")
        return until_gap
    return rule[1] if rule[0] == _DAYS else _MIN_DAYS[rule[1]]


# ------------------------------------------------------------------ histories


@dataclass
class Step:
    kind: str
    gap: int  # days after the previous step
    role: str  # which unit acts: police, procu, court, mid_court, jail, prison, corrections
    variant: str = ""
    until_gap: int | None = None  # for decided limits: days after this step's own date
    held: bool = False  # whether the person is held after this step (the generator's own account)
    gives_basis: bool = False


class _Walk:
    """One person's walk through the procedure, step by step, each within the running limit."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.steps: list[Step] = []
        self.held = False
        self.span = 0  # days the current basis lasts from its step (while held)
        self.since_basis = 0  # days since the step that gave it

    def step(
        self, kind: str, role: str, *, variant: str = "", until_gap: int | None = None, gap: int | None = None
    ) -> Step:
        rng = self.rng
        if gap is None:
            if self.held:
                room = max(0, self.span - self.since_basis)
                gap = rng.randint(0, min(room, 20)) if rng.random() < 0.7 else rng.randint(0, room)
            else:
                gap = rng.randint(1, 400)
        if self.held and self.since_basis + gap > self.span:
            raise RuntimeError(f"generator: {kind} {gap} days after a basis of {self.span}")
        if kind in HOLDING:
            self.held = True
        elif kind in FREEING:
            self.held = False
        gives = self.held and kind not in FREEING and not (kind in {"commit", "revoke"} and until_gap is None)
        if gives:
            self.span = _min_span(kind, until_gap, variant)
            self.since_basis = 0
        else:
            self.since_basis += gap
        s = Step(kind, gap, role, variant, until_gap, self.held, gives)
        self.steps.append(s)
        return s

    def chance(self, p: float) -> bool:
        return self.rng.random() < p


def _sentence(w: _Walk, via: str) -> None:
    """From a custodial judgment becoming effective to the end of the term (or of corrections)."""
    rng = w.rng
    term = rng.choice([rng.randint(30, 90), rng.randint(180, 1100), rng.randint(1100, 3650)])
    w.step("effective", via, until_gap=term, gap=None)
    if term <= 90 and w.held:  # a remaining term of three months or less: served in the 看守所
        w.step("term_end", "jail", gap=term)
        return
    gap = rng.randint(1, min(30, term - 1))
    left = term - gap
    w.step("commit", "prison", until_gap=left, gap=gap)
    r = rng.random() if left > 90 else 0.0
    if r < 0.8:
        w.step("term_end", "prison", gap=left)
    elif r < 0.93:
        out = rng.randint(left // 2, left - 1)
        w.step("parole", "prison", gap=out)
        w.step("corrections_end", "corrections", gap=left - out)
    else:
        out = rng.randint(20, left - 30)
        w.step("temporary_release", "prison", gap=out)
        rest = left - out
        if w.chance(0.5):
            back = rng.randint(1, rest - 1)
            w.step("revoke", "prison", until_gap=rest - back, gap=back)
            w.step("term_end", "prison", gap=rest - back)
        else:
            w.step("corrections_end", "corrections", gap=rest)


def _community(w: _Walk) -> None:
    w.step("corrections_start", "corrections", gap=w.rng.randint(1, 10))
    if w.chance(0.85):
        w.step("corrections_end", "corrections", gap=w.rng.randint(60, 1800))
    elif w.chance(0.5):
        w.step("revoke", "prison", until_gap=w.rng.randint(60, 900), gap=w.rng.randint(30, 600))
        w.step("term_end", "prison", gap=w.steps[-1].until_gap)


def _trial(w: _Walk) -> None:
    """From the court's acceptance to the judgment's execution."""
    rng = w.rng
    variant = rng.choice(["", "", "summary", "fast"])
    w.step("court_accept", "court", variant=variant)
    if variant == "" and w.chance(0.1) and w.held:
        w.step("extend_trial", "mid_court", until_gap=rng.randint(60, 120))
    if w.chance(0.7):  # custodial
        w.step("pronounce", "court", variant="custodial")
        if w.chance(0.2):
            w.step("appeal", "mid_court")
            if w.chance(0.1):
                w.step("remand", "court", variant="")
                w.step("pronounce", "court", variant="custodial")
            if w.chance(0.1):  # 二审改判无罪或缓刑
                w.step("effective", "mid_court", variant="release")
                w.step("release", "jail", gap=0)
                if w.chance(0.5):
                    _community(w)
                return
            _sentence(w, "mid_court")
            return
        _sentence(w, "court")
        return
    # 无罪、免予刑事处罚、缓刑、管制: released the same day if held
    w.step("pronounce", "court", variant="release")
    if w.held:
        w.step("release", "jail", gap=0)
    if w.chance(0.8):
        _community(w)


def walk(rng: random.Random) -> list[Step]:
    """A whole lawful history (the procedure to its end or to an exit)."""
    w = _Walk(rng)
    w.step("detain", "police", gap=0)
    r = rng.random()
    if r < 0.15:
        w.step("release", "jail")
        return w.steps
    if r < 0.3:
        w.step(rng.choice(["bail", "surveil"]), "police")
        if w.chance(0.5):
            return w.steps
        if w.chance(0.2):  # 违反取保规定, 逮捕
            w.step("arrest", "police", gap=rng.randint(10, 200))
        else:
            w.step("transfer_prosecution", "procu", gap=rng.randint(30, 300))
            if w.chance(0.1):  # 不起诉
                w.step("release", "procu", gap=rng.randint(10, 60))
                return w.steps
            w.step(
                "court_accept", "court", gap=rng.randint(10, 60), variant=rng.choice(["", "summary", "fast"])
            )
            if w.chance(0.6):
                w.step("pronounce", "court", variant="release", gap=rng.randint(5, 90))
                _community(w)
            else:
                w.step("pronounce", "court", variant="custodial", gap=rng.randint(5, 90))
                _sentence(w, "court")
            return w.steps
    else:
        if w.chance(0.15):
            w.step("extend_detention", "police", until_gap=rng.choice([7, 30]))
        w.step("request_arrest", "procu")
        if w.chance(0.12):  # 不批准逮捕
            w.step(rng.choice(["release", "bail"]), "jail")
            return w.steps
        w.step("arrest", "police")
    for _ in range(rng.choice([0, 0, 0, 1, 2])):
        w.step("extend_custody", "procu", until_gap=rng.randint(30, 62))
    if w.chance(0.05):
        w.step("bail", "police")
        return w.steps
    w.step("transfer_prosecution", "procu")
    for _ in range(rng.choice([0, 0, 0, 1, 2])):
        w.step("supplementary", "police")
        w.step("resubmit", "procu")
    if w.chance(0.06):  # 不起诉
        w.step("release", "jail")
        return w.steps
    _trial(w)
    return w.steps


def no_basis_walk(rng: random.Random) -> list[Step]:
    """A person taken in for a sentence with no term recorded (data the reconciliation must catch)."""
    w = _Walk(rng)
    w.step("detain", "police", gap=0)
    w.step("bail", "police")
    if w.chance(0.5):
        w.step("pronounce", "court", variant="custodial", gap=rng.randint(30, 300))
        w.step("effective", "court", gap=rng.randint(11, 20), until_gap=rng.randint(200, 900))
        w.step("commit", "prison", gap=rng.randint(1, 30))  # no until
    else:
        w.step("pronounce", "court", variant="release", gap=rng.randint(30, 300))
        w.step("corrections_start", "corrections", gap=rng.randint(1, 10))
        w.step("revoke", "prison", gap=rng.randint(30, 300))  # no until
    return w.steps


# ------------------------------------------------------------------ placing a history in time


@dataclass(frozen=True)
class Expect:
    reason: str
    basis_index: int
    since: date


def _dates(steps: list[Step], last: date) -> list[date]:
    days = [0]
    for s in steps[1:]:
        days.append(days[-1] + s.gap)
    first = last - timedelta(days=days[-1])
    return [first + timedelta(days=d) for d in days]


def _limit_at(steps: list[Step], i: int, day: date) -> tuple[date, str]:
    s = steps[i]
    until = day + timedelta(days=s.until_gap) if s.until_gap is not None else None
    return limit_of(s.kind, day, until, s.variant)


def place(rng: random.Random, steps: list[Step], today: date, mode: str) -> tuple[list[date], Expect | None]:
    """Dates for ``steps`` whose last one is the person's state today: ``past`` (the walk is over,
    or at least its last step was before today), ``current`` (held, on a basis still running; now
    and then exactly on its last day), ``lapsed`` (held, the last step's basis ran out; now and then
    yesterday)."""
    last = steps[-1]
    if mode == "past" or not last.held:
        dates = _dates(steps, today - timedelta(days=rng.randint(0, 3000)))
        return dates, None
    if not last.gives_basis:  # held with no basis: commit or revoke without a term
        dates = _dates(steps, today - timedelta(days=rng.randint(0, 400)))
        return dates, Expect(NO_BASIS, len(steps) - 1, dates[-1])
    i = len(steps) - 1
    span = _min_span(last.kind, last.until_gap, last.variant)
    if mode == "current":
        if rng.random() < 0.1:  # on the last lawful day
            for back in range(span, span + 4):
                if _limit_at(steps, i, today - timedelta(days=back))[0] == today:
                    return _dates(steps, today - timedelta(days=back)), None
        return _dates(steps, today - timedelta(days=rng.randint(0, span))), None
    target = today - timedelta(days=1 if rng.random() < 0.1 else rng.randint(1, 120))
    day = target - timedelta(days=span)
    while _limit_at(steps, i, day)[0] > target:
        day -= timedelta(days=1)
    limit, reason = _limit_at(steps, i, day)
    dates = _dates(steps, day)
    return dates, Expect(reason, i, limit + timedelta(days=1))


def _check_lawful(steps: list[Step], dates: list[date], upto: int) -> None:
    """The generator's own guard: every step before ``upto`` lies within the running limit."""
    limit: date | None = None
    for i, (s, day) in enumerate(zip(steps, dates, strict=True)):
        if i >= upto:
            break
        if limit is not None and day > limit:
            raise RuntimeError(f"generator: {s.kind} on {day} after the limit {limit}")
        if s.gives_basis:
            limit = _limit_at(steps, i, day)[0]
        elif not s.held:
            limit = None


def _cut_points(steps: list[Step], reason: str, today: date) -> list[int]:
    """Steps at which a history may stop with its basis lapsing for ``reason``."""
    out = []
    for i, s in enumerate(steps):
        if not (s.held and s.gives_basis):
            continue
        if limit_of(s.kind, today, today if s.until_gap is not None else None, s.variant)[1] == reason:
            out.append(i)
    return out


def person_history(
    rng: random.Random, today: date, plant: str | None
) -> tuple[list[Step], list[date], Expect | None]:
    """One person: a lawful history (past or current), or one planted with ``plant``."""
    if plant == NO_BASIS:
        steps = no_basis_walk(rng)
        dates, expect = place(rng, steps, today, "lapsed")
        return steps, dates, expect
    if plant is not None:
        while True:
            steps = walk(rng)
            cuts = _cut_points(steps, plant, today)
            if cuts:
                steps = steps[: rng.choice(cuts) + 1]
                dates, expect = place(rng, steps, today, "lapsed")
                _check_lawful(steps, dates, len(steps))
                return steps, dates, expect
    steps = walk(rng)
    if rng.random() < 0.2:  # still in progress today
        cuts = [i for i, s in enumerate(steps) if s.held and s.gives_basis]
        if cuts:
            steps = steps[: rng.choice(cuts) + 1]
            dates, _ = place(rng, steps, today, "current")
            _check_lawful(steps, dates, len(steps))
            return steps, dates, None
    dates, _ = place(rng, steps, today, "past")
    _check_lawful(steps, dates, len(steps))
    return steps, dates, None


# ------------------------------------------------------------------ the database


@dataclass
class Planted:
    party_id: int
    reason: str
    basis_event_id: int
    unit_id: int | None
    since: date


def _units() -> list[dict[str, int]]:
    """Per county: the unit of each role."""
    from xietong.orgs.models import Unit

    by_region: dict[int, dict[str, int]] = {}
    city: dict[str, int] = {}
    for unit in Unit.objects.all():
        if unit.level == "city":
            city[unit.kind] = unit.pk
        else:
            by_region.setdefault(unit.region_id, {})[unit.kind] = unit.pk
    crews = []
    for kinds in by_region.values():
        if "police_branch" not in kinds or "basic_court" not in kinds:
            continue
        crews.append(
            {
                "police": kinds["police_branch"],
                "procu": kinds["procuratorate"],
                "court": kinds["basic_court"],
                "jail": kinds.get("detention_house", kinds["police_branch"]),
                "corrections": kinds.get("corrections", kinds.get("justice_bureau", kinds["police_branch"])),
                "mid_court": city["intermediate_court"],
                "prison": city.get("prison", city["city_justice"]),
            }
        )
    return crews


def _template_case() -> int:
    from django.utils import timezone

    from xietong.cases import services
    from xietong.orgs.models import Region, User

    leader = (
        User.objects.filter(unit__kind="police_branch", appointments__duty="leader").order_by("pk").first()
    )
    if leader is None or leader.unit is None:
        raise RuntimeError("no police leader in the org")
    town = Region.objects.filter(parent_id=leader.unit.region_id).order_by("pk").first()
    if town is None:
        raise RuntimeError("no town in the org")
    result = services.case_register(
        user=leader,
        data=services.RegisterInput(
            charge="盗窃罪",
            facts="犯罪嫌疑人在某小区内盗窃电动自行车一辆，价值人民币三千元。",
            occurred_at=timezone.now() - timedelta(days=30),
            town_id=town.pk,
            place="某小区",
            parties=[services.PartyInput(name="模板", gender="男")],
        ),
    )
    if result.case is None:
        raise RuntimeError("the template case was not registered")
    return result.case.pk


def _copy_cases(template_id: int, cases: int, rng: random.Random) -> None:
    """``cases`` copies of the template case, spread over the counties, four parties each."""
    from xietong.cases.models import Case, Party
    from xietong.demo.people import fictitious_name
    from xietong.ledger.chain import GENESIS

    qn = connection.ops.quote_name
    counties = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.id, (SELECT min(t.id) FROM orgs_region t WHERE t.parent_id = r.id), "
            "(SELECT min(u.id) FROM orgs_unit u WHERE u.region_id = r.id AND u.kind = 'police_branch'), "
            "(SELECT min(u.id) FROM orgs_unit u WHERE u.region_id = r.id AND u.kind = 'procuratorate'), "
            "(SELECT min(u.id) FROM orgs_unit u WHERE u.region_id = r.id AND u.kind = 'basic_court') "
            "FROM orgs_region r WHERE r.level = 'county' ORDER BY r.id"
        )
        counties = [row for row in cursor.fetchall() if all(v is not None for v in row)]
    overrides = {
        "number": "t.number || '-' || g",
        "county_id": "c.county",
        "town_id": "c.town",
        "police_unit_id": "c.police",
        "holder_unit_id": "c.police",
        "procuratorate_unit_id": "c.procu",
        "court_unit_id": "c.court",
        "ledger_seq": "0",
        "ledger_head": "%s",
        "stage": "'execution'",
    }
    fields = [f for f in Case._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(qn(f.column) for f in fields)
    values = ", ".join(overrides.get(f.attname, f"t.{qn(f.column)}") for f in fields)
    rows = ", ".join(f"({i}, {r[0]}, {r[1]}, {r[2]}, {r[3]}, {r[4]})" for i, r in enumerate(counties))
    with transaction.atomic(), connection.cursor() as cursor:
        with contextlib.suppress(DatabaseError), transaction.atomic():
            # copies of rows the door wrote, so the references hold: skip the per-row FK triggers
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            f"INSERT INTO {qn(Case._meta.db_table)} ({columns}) "  # noqa: S608 (model metadata, ints)
            f"SELECT {values} FROM generate_series(1, %s) g "
            f"JOIN (VALUES {rows}) AS c(k, county, town, police, procu, court) ON c.k = g %% {len(counties)} "
            f"CROSS JOIN {qn(Case._meta.db_table)} t WHERE t.id = %s ORDER BY g",
            [GENESIS, cases, template_id],
        )
        names = [fictitious_name(rng)[0] for _ in range(4000)]
        party = qn(Party._meta.db_table)
        cursor.execute(
            f"INSERT INTO {party} (case_id, ordinal, name, gender, id_number, address, custody) "  # noqa: S608
            f"SELECT c.id, o, (%s::text[])[1 + (c.id * 7 + o * 13) %% {len(names)}], "
            "CASE WHEN (c.id + o) %% 9 = 0 THEN '女' ELSE '男' END, '', '', 'none' "
            f"FROM {qn(Case._meta.db_table)} c CROSS JOIN generate_series(1, {PARTIES_PER_CASE}) o "
            "WHERE c.id > %s ORDER BY c.id, o",
            [names, template_id],
        )


def _plan(persons: int, planted_share: float, rng: random.Random) -> list[str | None]:
    plants: list[str | None] = [None] * persons
    count = round(persons * planted_share)
    for n, i in enumerate(rng.sample(range(persons), count)):
        plants[i] = REASONS[n % len(REASONS)]
    return plants


def generate(*, persons: int, planted_share: float, seed: int, today: date, write: Write) -> dict[str, Any]:
    """The org, ``persons`` parties in ``persons / 4`` cases, their custody events; returns counts
    and the planted findings."""
    from xietong.demo.units import create_org
    from xietong.execution.models import CustodyEvent
    from xietong.execution.reconcile import column

    rng = random.Random(seed)  # noqa: S311 (bench data, not security)
    t = time.perf_counter()
    create_org(seed=seed)
    template_id = _template_case()
    cases = (persons + PARTIES_PER_CASE - 1) // PARTIES_PER_CASE
    _copy_cases(template_id, cases, rng)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.id, p.case_id FROM cases_party p WHERE p.case_id > %s ORDER BY p.id LIMIT %s",
            [template_id, persons],
        )
        people = cursor.fetchall()
    write(
        f"  {cases:,} cases and {len(people):,} parties with INSERT … SELECT "
        f"in {time.perf_counter() - t:.1f} s"
    )

    t = time.perf_counter()
    crews = _units()
    plants = _plan(len(people), planted_share, rng)
    planted: list[Planted] = []
    opts = CustodyEvent._meta
    qn = connection.ops.quote_name
    columns = ", ".join(
        column(n) for n in ("id", "party", "case", "kind", "at", "on", "unit", "until", "variant", "note")
    )
    event_id = 0
    events = 0
    shapes: Counter[str] = Counter()
    day_text: dict[date, str] = {}

    def text(day: date) -> str:
        s = day_text.get(day)
        if s is None:
            s = day_text[day] = day.isoformat()
        return s

    with transaction.atomic(), connection.cursor() as cursor:
        with contextlib.suppress(DatabaseError), transaction.atomic():
            cursor.execute("SET LOCAL session_replication_role = replica")  # FK triggers off; checked below
        with cursor.cursor.copy(f"COPY {qn(opts.db_table)} ({columns}) FROM STDIN") as copy:
            buf = io.StringIO()
            for n, ((party_id, case_id), plant) in enumerate(zip(people, plants, strict=True)):
                crew = crews[case_id % len(crews)]
                steps, dates, expect = person_history(rng, today, plant)
                first_id = event_id + 1
                for k, (s, day) in enumerate(zip(steps, dates, strict=True)):
                    event_id += 1
                    until = day + timedelta(days=s.until_gap) if s.until_gap is not None else None
                    on = text(day)
                    buf.write(
                        f"{event_id}\t{party_id}\t{case_id}\t{s.kind}\t{on} {8 + k // 60:02d}:{k % 60:02d}"
                        f":00+08\t{on}\t{crew[s.role]}\t{text(until) if until else NULL}\t{s.variant}\t\n"
                    )
                events += len(steps)
                if expect is not None:
                    planted.append(
                        Planted(
                            party_id,
                            expect.reason,
                            first_id + expect.basis_index,
                            crew[steps[expect.basis_index].role],
                            expect.since,
                        )
                    )
                    shapes["planted"] += 1
                elif steps[-1].held:
                    shapes["held_lawfully"] += 1
                else:
                    shapes["free_or_community"] += 1
                if n % 2000 == 1999:
                    copy.write(buf.getvalue())
                    buf = io.StringIO()
                if n % 200_000 == 199_999:
                    write(f"  {n + 1:,} persons, {events:,} events ({time.perf_counter() - t:.0f} s)")
            copy.write(buf.getvalue())
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{opts.db_table}', 'id'), %s)",
            [max(event_id, 1)],
        )
    write(f"  {events:,} custody events with COPY in {time.perf_counter() - t:.1f} s; {dict(shapes)}")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {qn(opts.db_table)} e WHERE NOT EXISTS "  # noqa: S608
            "(SELECT 1 FROM cases_party p WHERE p.id = e.party_id AND p.case_id = e.case_id)"
        )
        dangling = cursor.fetchone()[0]
    if dangling:
        raise RuntimeError(f"{dangling} custody events point at no party of their case")
    analyze()
    return {
        "cases": cases,
        "persons": len(people),
        "events": events,
        "planted": planted,
        "shapes": dict(shapes),
    }


# ------------------------------------------------------------------ the bench


def stream_baseline(batch: int) -> tuple[int, int, float]:
    """Every custody event in (party, at, id) order, as ``find_unlawful`` reads them without the
    pre-filter, through the same cursor, in one process, with no assessment."""
    from xietong.execution.reconcile import _select_sql

    started = time.perf_counter()
    persons = events = 0
    last = None
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(_select_sql(False))
        while rows := cursor.fetchmany(batch):
            events += len(rows)
            for row in rows:
                if row[0] != last:
                    persons += 1
                    last = row[0]
    return persons, events, time.perf_counter() - started


def _profile(today: date, write: Write) -> list[dict[str, Any]]:
    import cProfile
    import pstats

    from xietong.execution.reconcile import find_unlawful

    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in find_unlawful(today, workers=1):
        pass
    profiler.disable()
    raw: dict[Any, Any] = pstats.Stats(profiler, stream=io.StringIO()).stats  # type: ignore[attr-defined]
    write("--- cProfile (CPU time) of find_unlawful in one process ---")
    hot = []
    for (filename, lineno, func), (_cc, nc, tt, ct, _callers) in sorted(
        raw.items(), key=lambda kv: kv[1][2], reverse=True
    )[:12]:
        short = filename.split("site-packages/")[-1].split("/src/")[-1]
        write(f"  own {tt:6.2f} s  cum {ct:6.2f} s  {nc:>10,}x  {short}:{lineno}({func})")
        hot.append({"function": f"{short}:{lineno}({func})", "own_s": round(tt, 3), "cum_s": round(ct, 3)})
    return hot


def run(options: dict[str, Any], write: Write) -> dict[str, Any]:
    from xietong.cases.deadlines import SHANGHAI
    from xietong.execution.models import CustodyEvent
    from xietong.execution.reconcile import ScanStats, find_unlawful, reconcile, shanghai_today
    from xietong.supervision.models import Alert

    quick = bool(options.get("quick"))
    persons = int(options.get("persons") or (100_000 if quick else TARGET_PERSONS))
    seed = int(options.get("seed") or 2026)
    share = float(options.get("planted") or 0.01)
    started = time.perf_counter()
    today = shanghai_today()
    write(f"bench reconcile: {persons:,} persons, {share:.1%} planted, today {today}; machine {machine()}")

    t = time.perf_counter()
    data = generate(persons=persons, planted_share=share, seed=seed, today=today, write=write)
    generate_s = time.perf_counter() - t
    planted: list[Planted] = data["planted"]
    write(f"generated in {generate_s:.1f} s")

    batch = 20_000
    b_persons, b_events, baseline_s = stream_baseline(batch)
    write(f"baseline: bare stream of {b_events:,} events / {b_persons:,} persons in {baseline_s:.2f} s")

    runs: list[tuple[float, ScanStats, list[Any]]] = []
    for attempt in range(RUNS):
        stats = ScanStats()
        t = time.perf_counter()
        found = list(find_unlawful(today, batch=batch, stats=stats))
        seconds = time.perf_counter() - t
        runs.append((seconds, stats, found))
        write(
            f"find_unlawful run {attempt + 1}: {stats.persons:,} persons, {stats.streamed:,} of them "
            f"({stats.events:,} events) past the pre-filter, {stats.assessed:,} locked up and assessed, "
            f"{len(found):,} flagged in {seconds:.2f} s ({stats.persons / seconds:,.0f} persons/s, "
            f"{stats.workers} process(es))"
        )
    scan_s, stats, found = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
    full = ScanStats()
    t = time.perf_counter()
    found_full = list(find_unlawful(today, batch=batch, prefilter=False, stats=full))
    full_s = time.perf_counter() - t
    write(
        f"find_unlawful without the pre-filter: {full.persons:,} persons, {full.events:,} events, "
        f"{full.assessed:,} assessed, {len(found_full):,} flagged in {full_s:.2f} s "
        f"({full.persons / full_s:,.0f} persons/s, {full.workers} process(es))"
    )

    def key(found: list[Any]) -> set[tuple[Any, ...]]:
        return {(pid, f.reason.value, f.basis_event.event_id, f.unit_id, f.since) for pid, _cid, f in found}

    want = {(p.party_id, p.reason, p.basis_event_id, p.unit_id, p.since) for p in planted}
    got = key(found)
    missed, false_alarms = want - got, got - want
    same_without_prefilter = key(found_full) == got
    by_reason = Counter(p.reason for p in planted)
    write(
        f"planted {len(want):,} ({dict(by_reason)}); found {len(got):,}; missed {len(missed)}; "
        f"false alarms {len(false_alarms)}"
    )
    for item in sorted(missed)[:5]:
        write(f"  MISSED {item}")
    for item in sorted(false_alarms)[:5]:
        write(f"  FALSE ALARM {item}")
    exact = not missed and not false_alarms and stats.persons == persons and same_without_prefilter

    first = reconcile(today)
    second = reconcile(today)
    released = sorted(want)[:100]
    evening = datetime.combine(today, dt_time(23, 59), SHANGHAI)  # after every event of the day
    CustodyEvent.objects.bulk_create(
        [
            CustodyEvent(party_id=pid, case_id=cid, kind="release", at=evening, on=today)
            for pid, cid in CustodyEvent.objects.filter(party_id__in=[r[0] for r in released])
            .values_list("party_id", "case_id")
            .distinct()
        ]
    )
    third = reconcile(today)
    open_alerts = Alert.objects.filter(kind="custody_unlawful", resolved_at__isnull=True).count()
    idempotent = (
        first.raised == len(want)
        and second.raised == 0
        and second.resolved == 0
        and third.resolved == len(released)
        and open_alerts == len(want) - len(released)
    )
    for label, r in (("first", first), ("second", second), ("after releasing 100", third)):
        write(
            f"reconcile() {label}: {r.persons:,} persons, {r.flagged:,} flagged, {r.raised:,} new alerts, "
            f"{r.reopened} reopened, {r.resolved:,} resolved in {r.seconds:.2f} s "
            f"(scan {r.scan_seconds:.2f} s)"
        )
    pps = persons / scan_s if scan_s else 0.0
    baseline_pps = b_persons / baseline_s if baseline_s else 0.0
    met = scan_s < TARGET_SECONDS * persons / TARGET_PERSONS and exact and idempotent
    write(
        f"find_unlawful {scan_s:.2f} s for {persons:,} persons ({pps:,.0f} persons/s) vs bare stream "
        f"{baseline_s:.2f} s ({baseline_pps:,.0f}/s): ratio {pps / baseline_pps if baseline_pps else 0:.3f}; "
        f"target < {TARGET_SECONDS * persons / TARGET_PERSONS:.0f} s, exact, idempotent → "
        f"{'MET' if met else 'MISSED'}"
    )
    hot = _profile(today, write) if options.get("profile") else []
    return {
        "bench": "reconcile",
        "unit": "persons/s",
        "figures": {
            "persons": stats.persons,
            "events": stats.events,
            "assessed": stats.assessed,
            "flagged": len(found),
            "seconds": round(scan_s, 2),
            "persons_per_s": round(pps),
            "runs_seconds": [round(r[0], 2) for r in runs],
            "workers": stats.workers,
            "streamed_persons": stats.streamed,
            "without_prefilter_seconds": round(full_s, 2),
            "without_prefilter_events": full.events,
            "reconcile_seconds": round(first.seconds, 2),
            "reconcile_again_seconds": round(second.seconds, 2),
        },
        "baseline": {
            "name": "bare server-side stream of every custody event (one process, no assessment)",
            "seconds": round(baseline_s, 2),
            "persons_per_s": round(baseline_pps),
            "events": b_events,
        },
        "ratio": round(pps / baseline_pps, 3) if baseline_pps else 0.0,
        "target": {
            "seconds_max": TARGET_SECONDS,
            "persons": TARGET_PERSONS,
            "exact": True,
            "idempotent": True,
        },
        "target_met": met,
        "check": {
            "planted": len(want),
            "planted_by_reason": dict(by_reason),
            "found": len(got),
            "missed": len(missed),
            "false_alarms": len(false_alarms),
            "same_without_prefilter": same_without_prefilter,
            "exact": exact,
            "alerts_raised": first.raised,
            "alerts_raised_again": second.raised,
            "alerts_resolved_after_release": third.resolved,
            "idempotent": idempotent,
        },
        "data": {
            "cases": data["cases"],
            "persons": data["persons"],
            "events": data["events"],
            "shapes": data["shapes"],
            "generate_seconds": round(generate_s, 1),
            "today": today.isoformat(),
            "median_of": RUNS,
            "scan_spread_s": round(statistics.pstdev([r[0] for r in runs]), 2),
        },
        "hot_spots": hot,
        "machine": machine(),
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
