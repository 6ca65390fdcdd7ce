"""Reads of the execution side: where each person of a case is, under which authority and until
when (F7 progress view); the corrections unit's and the prison's work lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from xietong import servertime
from xietong.cases.models import Case, Party
from xietong.cases.procedure import PENALTY_LABELS
from xietong.execution import custody
from xietong.execution.models import Body, CustodyEvent, Sentence, Supervisee, SuperviseeStatus
from xietong.orgs.models import Duty, Unit, UnitKind, User

STATE_LABELS = {
    custody.State.HELD: "在押（羁押）",
    custody.State.SERVING: "在押（服刑）",
    custody.State.COMMUNITY: "社区矫正",
    custody.State.RESTRICTED: "取保候审 / 监视居住",
    custody.State.FREE: "未羁押",
}


def sentence_text(sentence: Sentence | None) -> str:
    if sentence is None:
        return ""
    if sentence.penalty == "acquitted":
        return "无罪"
    text = PENALTY_LABELS.get(sentence.penalty, sentence.penalty)
    if sentence.months:
        years, months = divmod(sentence.months, 12)
        text += (f"{years}年" if years else "") + (f"{months}个月" if months else "")
    if sentence.probation_months:
        years, months = divmod(sentence.probation_months, 12)
        text += "，缓刑" + (f"{years}年" if years else "") + (f"{months}个月" if months else "")
    return text


@dataclass
class PersonProgress:
    party: Party
    state: custody.State
    where: str
    authority: str
    until: date | None
    overdue: custody.Finding | None
    sentence: Sentence | None
    supervisee: Supervisee | None
    events: list[CustodyEvent] = field(default_factory=list)
    can_release_on_term: bool = False
    can_parole: bool = False
    must_release: bool = False  # the judgment ordered his release (刑诉法第260条): to do today
    can_revoke: bool = False  # a court may revoke his probation, parole or 暂予监外执行

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def sentence_label(self) -> str:
        return sentence_text(self.sentence)


def _authority(event: custody.Event | None, units: dict[int, str]) -> tuple[str, str]:
    if event is None:
        return "", ""
    where = units.get(event.unit_id or 0, "")
    return f"{event.kind.label}（{event.on:%Y-%m-%d}）", where


def case_progress(*, case: Case, user: User) -> list[PersonProgress]:
    """For each person of the case: his state today, where he is, the act he is held (or
    supervised) under and the last day it allows; the whole custody history every agency sees."""
    today = timezone.localdate(servertime.now())
    parties = list(case.parties.all().order_by("ordinal"))
    rows = list(CustodyEvent.objects.filter(case=case).order_by("party_id", "at", "id"))
    by_party: dict[int, list[CustodyEvent]] = {p.pk: [] for p in parties}
    for row in rows:
        by_party.setdefault(row.party_id, []).append(row)
    unit_ids = {r.unit_id for r in rows if r.unit_id}
    sentences = {s.party_id: s for s in Sentence.objects.filter(case=case).select_related("executing_unit")}
    supervisees = {
        s.party_id: s
        for s in Supervisee.objects.filter(case=case)
        .select_related("corrections_unit", "office", "supervisor")
        .order_by("notified_at")
    }
    unit_ids |= {s.executing_unit_id for s in sentences.values() if s.executing_unit_id}
    units = dict(Unit.objects.filter(pk__in=unit_ids).values_list("pk", "name"))
    court = bool(
        user.unit is not None
        and (user.unit.kind == UnitKind.INTERMEDIATE_COURT or user.unit_id == case.court_unit_id)
        and user.has_duty(Duty.HANDLER, Duty.LEADER, Duty.DEPT_HEAD)
    )
    out = []
    for party in parties:
        history = by_party.get(party.pk, [])
        events = [e.as_event() for e in history]
        state, basis, last = custody.status(events, today)
        sentence, supervisee = sentences.get(party.pk), supervisees.get(party.pk)
        if state.locked_up and basis is not None:
            authority, where = _authority(basis.event, units)
            until: date | None = basis.until
        else:
            authority, where = _authority(last, units)
            until = None
        if state == custody.State.SERVING and sentence is not None and sentence.executing_unit_id:
            where = units.get(sentence.executing_unit_id, where)
        if state == custody.State.COMMUNITY and supervisee is not None:
            where = (supervisee.office or supervisee.corrections_unit).name
            authority = f"社区矫正（{supervisee.get_kind_display()}）"
            until = supervisee.term_end
        finding = custody.assess(events, today)
        out.append(
            PersonProgress(
                party=party,
                state=state,
                where=where or "—",
                authority=authority or "—",
                until=until,
                overdue=finding,
                sentence=sentence,
                supervisee=supervisee,
                events=history,
                must_release=bool(
                    state.locked_up
                    and basis is not None
                    and basis.reason_if_expired == custody.Reason.RELEASE_REQUIRED
                ),
                can_release_on_term=bool(
                    state == custody.State.SERVING
                    and sentence is not None
                    and user.unit_id == sentence.executing_unit_id
                    and until is not None
                    and today >= until
                ),
                can_parole=bool(court and state.locked_up and sentence is not None and until is not None),
                can_revoke=bool(
                    court
                    and supervisee is not None
                    and supervisee.kind != "control"
                    and supervisee.status in {SuperviseeStatus.AWAITING, SuperviseeStatus.SUPERVISED}
                ),
            )
        )
    return out


def awaiting_report(*, case_id: int, unit_id: int) -> bool:
    """Whether someone of the case has yet to report to this corrections unit or 司法所."""
    return (
        Supervisee.objects.filter(
            case_id=case_id,
            status__in=[SuperviseeStatus.NOTIFIED, SuperviseeStatus.AWAITING],
            reported_at__isnull=True,
        )
        .filter(Q(corrections_unit_id=unit_id) | Q(office_id=unit_id))
        .exists()
    )


def corrections_units_of(*, case_id: int, party_ids: list[int]) -> list[Unit]:
    """The corrections units supervising (or about to supervise) these persons of the case, the
    latest file first: where a 假释 or 撤销 decision is also served."""
    files = (
        Supervisee.objects.filter(case_id=case_id).select_related("corrections_unit").order_by("-notified_at")
    )
    if party_ids:
        files = files.filter(party_id__in=party_ids)
    units: dict[int, Unit] = {}
    for sv in files:
        units.setdefault(sv.corrections_unit_id, sv.corrections_unit)
    return list(units.values())


def is_corrections_staff(user: User) -> bool:
    return bool(
        user.unit is not None
        and user.unit.kind in {UnitKind.CORRECTIONS, UnitKind.JUSTICE_OFFICE}
        and user.has_duty(Duty.CORRECTIONS_OFFICER, Duty.DEPT_HEAD, Duty.LEADER)
    )


def supervisees_of(user: User) -> QuerySet[Supervisee]:
    """The offenders the user's corrections unit or 司法所 supervises (or is about to)."""
    if user.unit_id is None:
        return Supervisee.objects.none()
    return (
        Supervisee.objects.filter(Q(corrections_unit_id=user.unit_id) | Q(office_id=user.unit_id))
        .select_related("party", "case", "corrections_unit", "office", "supervisor")
        .order_by("report_due", "pk")
    )


def corrections_board(user: User) -> dict[str, Any]:
    """The corrections workbench: who must report, who is supervised, whose term ends soon."""
    today = timezone.localdate(servertime.now())
    mine = supervisees_of(user)
    waiting = list(mine.filter(status__in=[SuperviseeStatus.NOTIFIED, SuperviseeStatus.AWAITING]))
    supervised = list(mine.filter(status=SuperviseeStatus.SUPERVISED).order_by("term_end"))
    ended = list(
        mine.filter(status__in=[SuperviseeStatus.DISCHARGED, SuperviseeStatus.REVOKED]).order_by("-ended_at")[
            :50
        ]
    )
    return {
        "today": today,
        "waiting": waiting,
        "late": [s for s in waiting if s.report_due < today],
        "supervised": supervised,
        "ending": [s for s in supervised if (s.term_end - today).days <= ENDING_DAYS],
        "ended": ended,
        "officers": list(User.objects.filter(unit=user.unit, is_active=True).order_by("username")),
    }


ENDING_DAYS = 30  # 期满前 30 日: the board's and the workbench's "ending soon"


def corrections_summary(user: User, *, listed: int = 5) -> dict[str, Any]:
    """The workbench's 社区矫正 card: counts by the database, and the first ``listed`` of those who
    are late to report (社区矫正法第21条) and whose term ends within ``ENDING_DAYS``."""
    today = timezone.localdate(servertime.now())
    mine = supervisees_of(user)
    waiting = mine.filter(status__in=[SuperviseeStatus.NOTIFIED, SuperviseeStatus.AWAITING])
    late = waiting.filter(report_due__lt=today)
    supervised = mine.filter(status=SuperviseeStatus.SUPERVISED)
    ending = supervised.filter(term_end__lte=today + timedelta(days=ENDING_DAYS)).order_by("term_end", "pk")
    return {
        "waiting": waiting.count(),
        "late": late.count(),
        "supervised": supervised.count(),
        "ending": ending.count(),
        "late_rows": list(late[:listed]),
        "ending_rows": list(ending[:listed]),
    }


def prisoners_of(user: User) -> list[tuple[Sentence, date | None]]:
    """Those serving in the user's prison or 看守所, with the last day of their term."""
    if user.unit is None or user.unit.kind not in {UnitKind.PRISON, UnitKind.DETENTION_HOUSE}:
        return []
    sentences = (
        Sentence.objects.filter(executing_unit_id=user.unit_id, body__in=[Body.PRISON, Body.DETENTION_HOUSE])
        .select_related("party", "case")
        .order_by("term_end")
    )
    chosen = list(sentences[:500])
    last: dict[int, CustodyEvent] = {}  # each person's latest event, in one query
    for row in CustodyEvent.objects.filter(party_id__in=[s.party_id for s in chosen]).order_by("at", "id"):
        last[row.party_id] = row
    out = []
    for s in chosen:
        latest = last.get(s.party_id)
        if latest is None or custody.STATE_AFTER.get(custody.Kind(latest.kind)) != custody.State.SERVING:
            continue
        out.append((s, latest.until or s.term_end))
    return out


def prison_summary(user: User, *, listed: int = 5) -> dict[str, Any] | None:
    """The workbench's 刑罚执行 card for a prison's or 看守所's staff: how many serve, and the first
    ``listed`` of those whose term ends within ``ENDING_DAYS``; None where nobody serves."""
    serving = prisoners_of(user)
    if not serving:
        return None
    today = timezone.localdate(servertime.now())
    ending = [(s, last) for s, last in serving if last and (last - today).days <= ENDING_DAYS]
    return {"serving": len(serving), "ending": len(ending), "ending_rows": ending[:listed]}
