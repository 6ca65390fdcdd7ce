"""A person's custody, told as events, and the legal basis each event gives it (F7, F14).

Pure: no database. ``cases.services`` and ``execution.services`` record an event whenever a
person's custody or the authority under which he is held changes (拘留, 提请逮捕, 逮捕, 延长羁押,
移送审查起诉, 起诉, 宣判, 生效, 收监, 释放, ...). The daily reconciliation walks each person's events
with :func:`assess` and reports anyone held today without a legal basis.

The limits are those of ``domain/procedure.md`` for a person in custody, so no holiday roll-over
(刑诉法第105条第4款 as read in §1.3(5)): day periods end on start + N, month periods on the same day
of the target month (高法解释第202条第1款; month-end rule). A limit ``until`` is the last lawful day,
inclusive: a person still held on ``until + 1`` has no basis.

What the reconciliation does not decide: whether an *approved* extension (延长侦查羁押, 延长审限)
was itself lawful — the approving decision carries its own ``until``, checked when it is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from xietong.cases.deadlines import add_months


class State(StrEnum):
    HELD = "held"  # 羁押: 拘留、逮捕 (the pre-trial custody of 看守所)
    SERVING = "serving"  # 服刑: in a prison or a 看守所 under an effective sentence
    COMMUNITY = "community"  # 社区矫正: 管制、缓刑、假释、暂予监外执行
    RESTRICTED = "restricted"  # 取保候审、监视居住
    FREE = "free"  # 未采取强制措施、释放、刑满释放、解除矫正

    @property
    def locked_up(self) -> bool:
        return self in {State.HELD, State.SERVING}


class Kind(StrEnum):
    DETAIN = "detain"
    EXTEND_DETENTION = "extend_detention"
    REQUEST_ARREST = "request_arrest"
    ARREST = "arrest"
    EXTEND_CUSTODY = "extend_custody"
    TRANSFER_PROSECUTION = "transfer_prosecution"
    SUPPLEMENTARY = "supplementary"
    RESUBMIT = "resubmit"
    COURT_ACCEPT = "court_accept"
    EXTEND_TRIAL = "extend_trial"
    PRONOUNCE = "pronounce"
    APPEAL = "appeal"
    REMAND = "remand"
    EFFECTIVE = "effective"
    COMMIT = "commit"
    BAIL = "bail"
    SURVEIL = "surveil"
    RELEASE = "release"
    CORRECTIONS_START = "corrections_start"
    PAROLE = "parole"
    TEMPORARY_RELEASE = "temporary_release"
    REVOKE = "revoke"
    TERM_END = "term_end"
    CORRECTIONS_END = "corrections_end"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS: dict[Kind, str] = {
    Kind.DETAIN: "刑事拘留",
    Kind.EXTEND_DETENTION: "延长提请批准逮捕期限",
    Kind.REQUEST_ARREST: "提请批准逮捕",
    Kind.ARREST: "执行逮捕",
    Kind.EXTEND_CUSTODY: "延长侦查羁押期限",
    Kind.TRANSFER_PROSECUTION: "移送审查起诉",
    Kind.SUPPLEMENTARY: "退回补充侦查",
    Kind.RESUBMIT: "补充侦查后重新移送",
    Kind.COURT_ACCEPT: "法院受理",
    Kind.EXTEND_TRIAL: "延长审理期限",
    Kind.PRONOUNCE: "宣判",
    Kind.APPEAL: "上诉、抗诉",
    Kind.REMAND: "发回重审",
    Kind.EFFECTIVE: "判决生效",
    Kind.COMMIT: "交付执行（收监、收押）",
    Kind.BAIL: "取保候审",
    Kind.SURVEIL: "监视居住",
    Kind.RELEASE: "释放",
    Kind.CORRECTIONS_START: "社区矫正开始",
    Kind.PAROLE: "假释",
    Kind.TEMPORARY_RELEASE: "暂予监外执行",
    Kind.REVOKE: "撤销缓刑、假释或暂予监外执行，收监执行",
    Kind.TERM_END: "刑满释放",
    Kind.CORRECTIONS_END: "解除社区矫正",
}

# The state an event puts the person in. Events absent here change the basis, not the state, and
# only matter while the person is locked up.
STATE_AFTER: dict[Kind, State] = {
    Kind.DETAIN: State.HELD,
    Kind.ARREST: State.HELD,
    Kind.COMMIT: State.SERVING,
    Kind.REVOKE: State.SERVING,
    Kind.BAIL: State.RESTRICTED,
    Kind.SURVEIL: State.RESTRICTED,
    Kind.RELEASE: State.FREE,
    Kind.TERM_END: State.FREE,
    Kind.CORRECTIONS_END: State.FREE,
    Kind.CORRECTIONS_START: State.COMMUNITY,
    Kind.PAROLE: State.COMMUNITY,
    Kind.TEMPORARY_RELEASE: State.COMMUNITY,
}

# Kinds whose limit a decision fixes: the event carries ``until`` (an approved extension, the end of
# a sentence computed by ``execution.sentences``).
DECIDED_UNTIL = frozenset(
    {Kind.EXTEND_CUSTODY, Kind.EXTEND_TRIAL, Kind.EXTEND_DETENTION, Kind.EFFECTIVE, Kind.COMMIT, Kind.REVOKE}
)


class Reason(StrEnum):
    DETENTION_EXPIRED = "detention_expired"
    ARREST_REVIEW_EXPIRED = "arrest_review_expired"
    CUSTODY_EXPIRED = "custody_expired"
    SENTENCE_SERVED = "sentence_served"
    RELEASE_REQUIRED = "release_required"
    NO_BASIS = "no_basis"

    @property
    def label(self) -> str:
        return REASON_LABELS[self]


REASON_LABELS: dict[Reason, str] = {
    Reason.DETENTION_EXPIRED: "拘留期限届满，未提请批准逮捕或变更强制措施",
    Reason.ARREST_REVIEW_EXPIRED: "审查批准逮捕期限届满，未作决定",
    Reason.CUSTODY_EXPIRED: "羁押期限届满，未依法延长",
    Reason.SENTENCE_SERVED: "刑期已满，未释放",
    Reason.RELEASE_REQUIRED: "判决无罪、免予刑事处罚或判处非监禁刑，在押未释放",
    Reason.NO_BASIS: "在押，但没有任何羁押依据",
}


@dataclass(frozen=True, slots=True)
class Event:
    """One custody event of one person. ``until`` is set for the kinds of ``DECIDED_UNTIL``;
    ``variant`` refines a kind's limit (the trial procedure for ``court_accept``, ``custodial`` or
    ``release`` for a judgment); ``unit_id`` is the unit that acted (and answers for the basis)."""

    kind: Kind
    on: date
    unit_id: int | None = None
    until: date | None = None
    variant: str = ""
    event_id: int | None = None


@dataclass(frozen=True, slots=True)
class Basis:
    """Why the person may be held, until when, and who answers for it."""

    event: Event
    until: date
    reason_if_expired: Reason
    article: str


@dataclass(frozen=True, slots=True)
class Finding:
    """A person held today without a legal basis."""

    reason: Reason
    since: date  # first day without basis
    basis_event: Event  # the event whose limit ran out (or the event that ended the basis)
    unit_id: int | None
    article: str

    def days_over(self, today: date) -> int:
        return (today - self.since).days + 1


# Trial limits per procedure for a defendant in custody (刑诉法第98条: custody = the trial period).
_TRIAL_DAYS = {"summary": 20, "summary_over_3y": 45, "fast": 10, "fast_over_1y": 15}


def _days(on: date, n: int) -> date:
    return on + timedelta(days=n)


def basis_of(event: Event) -> Basis | None:
    """The basis ``event`` gives a person who is locked up, or None when it gives none (a judgment
    that orders release; an event that frees him). Each limit cites its article."""
    k, on = event.kind, event.on
    if k in DECIDED_UNTIL:
        if event.until is None:
            return None
        if k == Kind.EXTEND_DETENTION:
            return Basis(event, event.until, Reason.DETENTION_EXPIRED, "刑事诉讼法第91条第2款")
        if k in {Kind.EFFECTIVE, Kind.COMMIT, Kind.REVOKE}:
            return Basis(event, event.until, Reason.SENTENCE_SERVED, "刑事诉讼法第264条第5款")
        return Basis(event, event.until, Reason.CUSTODY_EXPIRED, "刑事诉讼法第156条至第159条、第208条")
    if k == Kind.DETAIN:
        return Basis(event, _days(on, 3), Reason.DETENTION_EXPIRED, "刑事诉讼法第91条第1款")
    if k == Kind.REQUEST_ARREST:
        return Basis(event, _days(on, 7), Reason.ARREST_REVIEW_EXPIRED, "刑事诉讼法第91条第3款")
    if k == Kind.ARREST:
        return Basis(event, add_months(on, 2), Reason.CUSTODY_EXPIRED, "刑事诉讼法第156条")
    if k in {Kind.TRANSFER_PROSECUTION, Kind.RESUBMIT}:
        return Basis(event, add_months(on, 1), Reason.CUSTODY_EXPIRED, "刑事诉讼法第172条、第98条")
    if k == Kind.SUPPLEMENTARY:
        return Basis(event, add_months(on, 1), Reason.CUSTODY_EXPIRED, "刑事诉讼法第175条第3款")
    if k in {Kind.COURT_ACCEPT, Kind.REMAND}:
        if event.variant in _TRIAL_DAYS:
            return Basis(
                event,
                _days(on, _TRIAL_DAYS[event.variant]),
                Reason.CUSTODY_EXPIRED,
                "刑事诉讼法第220条、第225条",
            )
        return Basis(event, add_months(on, 3), Reason.CUSTODY_EXPIRED, "刑事诉讼法第208条第1款")
    if k == Kind.APPEAL:
        return Basis(event, add_months(on, 2), Reason.CUSTODY_EXPIRED, "刑事诉讼法第243条")
    if k == Kind.PRONOUNCE:
        if event.variant == "release":  # 刑诉法第260条, 高法解释第170条: 在押的立即释放
            return Basis(event, on, Reason.RELEASE_REQUIRED, "刑事诉讼法第260条")
        # Until the judgment takes effect: 5 days to serve it (刑诉法第202条) + 10 days to appeal (第230条).
        return Basis(event, _days(on, 15), Reason.CUSTODY_EXPIRED, "刑事诉讼法第202条、第230条")
    return None


# Decisions that hold a person anew after a judgment ordered his release: a new 拘留 or 逮捕, an
# effective judgment that is custodial (a second instance reversing an acquittal), 收监.
_NEW_DECISIONS = frozenset({Kind.DETAIN, Kind.ARREST, Kind.EFFECTIVE, Kind.COMMIT, Kind.REVOKE})


def status(events: Iterable[Event], today: date) -> tuple[State, Basis | None, Event | None]:
    """The person's state on ``today``, the basis he is held under (when locked up) and the last
    event up to ``today``: the walk behind :func:`assess` and the progress view."""
    state = State.FREE
    basis: Basis | None = None
    release_ordered: Basis | None = None
    last: Event | None = None
    for event in events:
        if event.on > today:
            break
        last = event
        new_state = STATE_AFTER.get(event.kind)
        if new_state is not None:
            state = new_state
            if not state.locked_up:
                basis = release_ordered = None
                continue
        if not state.locked_up:
            continue
        found = basis_of(event)
        if event.kind in {Kind.PRONOUNCE, Kind.EFFECTIVE} and event.variant == "release":
            # The judgment ends every basis: he must be let go, whatever limit was running.
            release_ordered = Basis(event, event.on, Reason.RELEASE_REQUIRED, "刑事诉讼法第260条")
            basis = release_ordered
            continue
        if release_ordered is not None:
            if event.kind not in _NEW_DECISIONS or found is None:
                continue  # a later step of the same case does not revive a basis the judgment ended
            release_ordered = None  # a new decision to hold him (逮捕, 二审改判生效, 收监) does
        if found is not None:
            basis = found
    return state, basis, last


def assess(events: Iterable[Event], today: date) -> Finding | None:
    """Whether the person whose ``events`` (in order of time) these are is held on ``today``
    without a legal basis. The last basis-giving event while locked up decides."""
    state, basis, last = status(events, today)
    if not state.locked_up:
        return None
    if basis is None:
        anchor = last if last is not None else Event(Kind.DETAIN, today)
        return Finding(Reason.NO_BASIS, anchor.on, anchor, anchor.unit_id, "刑事诉讼法第3条")
    if today <= basis.until:
        return None
    return Finding(
        basis.reason_if_expired,
        basis.until + timedelta(days=1),
        basis.event,
        basis.event.unit_id,
        basis.article,
    )
