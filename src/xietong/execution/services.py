"""Execution of judgments and community corrections (F7): the writes.

Two kinds of callers:

* the door of ``cases.services`` calls the ``on_*`` hooks inside the transaction of an act, with the
  case row locked: custody events of the act, the sentence computed when the judgment takes effect,
  the intake when the executing unit accepts the file, the 报到;
* users call the other functions (assign a supervisor, record the 矫正方案, discharge, release at
  the end of a term, parole, revocation); each locks the case and appends to its ledger.

Times are the server's (``servertime``); days are Asia/Shanghai days.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from xietong import fastsql, servertime
from xietong.cases import clocks
from xietong.cases.deadlines import add_months, sentence_term_end
from xietong.cases.models import Case, Participation, Party
from xietong.cases.procedure import Custody, Verdict
from xietong.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from xietong.execution import custody, sentences
from xietong.execution.custody import Kind
from xietong.execution.models import (
    Body,
    CustodyEvent,
    Sentence,
    Supervisee,
    SuperviseeKind,
    SuperviseeStatus,
)
from xietong.execution.placement import Placement, place
from xietong.ledger.services import Actor, actor_of, ledger_append
from xietong.orgs.models import Duty, Unit, UnitKind, User

HELD = frozenset({Custody.DETAINED.value, Custody.ARRESTED.value})
# 社区矫正法第21条第1款: report within ten days of the judgment taking effect (or, for a parolee,
# of leaving prison — the 2012 measures' reading, see domain/procedure.md M6a).
REPORT_DAYS = 10
# How long before the end of a term the executing unit is reminded (解除矫正 / 刑满释放 preparations).
TERM_END_NOTICE_DAYS = 30


# What the offender must observe, by the article that binds him (shown to him at intake,
# 社区矫正法第22条: 宣告 ... 应遵守的规定).
_COMMON = (
    "遵守法律、行政法规，服从监督管理；按照规定报告自己的活动情况；遵守会客规定；"
    "离开所居住的市、县或者迁居，应当报经批准"
)
CONDITIONS = {
    SuperviseeKind.CONTROL: "刑法第39条："
    + _COMMON.replace("遵守会客规定；", "未经批准，不得行使言论、出版、集会、结社、游行、示威自由的权利；"),
    SuperviseeKind.PROBATION: "刑法第75条：" + _COMMON,
    SuperviseeKind.PAROLE: "刑法第84条：" + _COMMON,
    SuperviseeKind.TEMPORARY: "社区矫正法第23条、第26条："
    + _COMMON
    + "；按规定报告身体情况、提交病情复查情况",
}


def _event(
    party: Party, case: Case, kind: Kind, at: datetime, unit: Unit | None, **extra: Any
) -> CustodyEvent:
    return CustodyEvent(
        party_id=party.pk,
        case_id=case.pk,
        kind=kind.value,
        at=at,
        on=timezone.localdate(at),
        unit_id=extra.get("unit_id") or (unit.pk if unit else None),
        until=extra.get("until"),
        variant=extra.get("variant", ""),
        note=extra.get("note", "")[:200],
    )


def _events_of(party_ids: Iterable[int]) -> dict[int, list[custody.Event]]:
    ids = list(party_ids)
    out: dict[int, list[custody.Event]] = {pid: [] for pid in ids}
    if not ids:
        return out
    rows = CustodyEvent.objects.filter(party_id__in=ids).order_by("party_id", "at", "id")
    for row in rows.values_list("party_id", "kind", "on", "unit_id", "until", "variant", "id"):
        pid, kind, on, unit_id, until, variant, event_id = row
        out[pid].append(custody.Event(Kind(kind), on, unit_id, until, variant, event_id))
    return out


# ---------------------------------------------------------------- hooks of the door (cases.services)

# The state an act's ``custody_to`` puts a person in, as a custody event.
_CUSTODY_KIND = {
    Custody.DETAINED.value: Kind.DETAIN,
    Custody.ARRESTED.value: Kind.ARREST,
    Custody.BAIL.value: Kind.BAIL,
    Custody.SURVEILLANCE.value: Kind.SURVEIL,
    Custody.RELEASED.value: Kind.RELEASE,
}
# Acts that change the authority a held person is held under, at the moment of the act ...
_BASIS_AT_ACT = {
    "request_arrest": Kind.REQUEST_ARREST,
    "return_for_supplementary": Kind.SUPPLEMENTARY,  # handed back to the police without an inbox step
}
# ... and at the moment the receiving unit accepts the file (收到: when the receiver's limit starts).
_BASIS_AT_ACCEPT = {
    "transfer_for_prosecution": Kind.TRANSFER_PROSECUTION,
    "resubmit": Kind.RESUBMIT,
    "indict": Kind.COURT_ACCEPT,
    "appeal": Kind.APPEAL,
    "protest": Kind.APPEAL,
    "remand": Kind.REMAND,
}


def on_act(
    *,
    case: Case,
    code: str,
    custody_to: str | None,
    selected: list[Party],
    all_parties: list[Party],
    was: dict[int, str],
    at: datetime,
    unit: Unit,
) -> None:
    """Custody events of an act of the door, after it changed the persons' custody (``was``: each
    person's custody before the act)."""
    rows: list[CustodyEvent] = []
    if custody_to is not None and custody_to in _CUSTODY_KIND:
        kind = _CUSTODY_KIND[custody_to]
        # 刑诉法第90条: the police execute an approved arrest and answer for the custody that follows
        responsible = case.police_unit_id if kind == Kind.ARREST else None
        rows += [_event(p, case, kind, at, unit, unit_id=responsible) for p in selected]
    elif code == "extend_custody":
        rows += _extension_events(case, selected, at, unit)
    elif code in _BASIS_AT_ACT:
        # the supplementary investigation is the police's: they answer for the custody (刑诉法第175条)
        responsible = case.police_unit_id if code == "return_for_supplementary" else None
        rows += [
            _event(p, case, _BASIS_AT_ACT[code], at, unit, unit_id=responsible)
            for p in selected
            if was.get(p.pk) in HELD
        ]
    elif code in {"pronounce", "decide_appeal"} and case.verdict:
        held = [p for p in all_parties if was.get(p.pk) in HELD]
        if code == "pronounce" and held:
            rows += _pronounce_events(case, held, at, unit)
    # persons released because the case ended (撤销案件, 不起诉: 立即释放)
    if custody_to is None:
        rows += [
            _event(p, case, Kind.RELEASE, at, unit, note="诉讼终结，立即释放")
            for p in all_parties
            if was.get(p.pk) in HELD and p.custody == Custody.RELEASED.value
        ]
    if rows:
        fastsql.insert(rows)


# 刑诉法第156条、第158条、第159条: 2 months from the arrest, then up to 3, 5 and 7 months in all.
EXTENSION_MONTHS = (3, 5, 7)


def _extension_state(events: list[custody.Event]) -> tuple[custody.Event | None, int]:
    """The arrest the person is held under and how many extensions followed it."""
    arrest: custody.Event | None = None
    extensions = 0
    for event in events:
        if event.kind == Kind.ARREST:
            arrest, extensions = event, 0
        elif event.kind == Kind.EXTEND_CUSTODY:
            extensions += 1
    return arrest, extensions


def check_extension(*, parties: list[Party], at: datetime) -> None:
    """延长侦查羁押 only within the three extensions of the law, and only while the current limit
    runs: a request after it expired is not accepted (高检规则第309条第3款)."""
    today = timezone.localdate(at)
    events = _events_of(p.pk for p in parties)
    for party in parties:
        arrest, extensions = _extension_state(events[party.pk])
        if arrest is None:
            raise Conflict(f"{party.name}没有逮捕记录，不能延长侦查羁押期限", code="not_arrested")
        if extensions >= len(EXTENSION_MONTHS):
            raise Conflict(
                f"{party.name}的侦查羁押期限已延长至七个月，不能再延长（刑事诉讼法第159条）",
                code="extension_limit",
            )
        _state, basis, _last = custody.status(events[party.pk], today)
        if basis is not None and today > basis.until:
            raise Conflict(
                f"{party.name}的羁押期限已于{basis.until:%Y年%m月%d日}届满，超过法定羁押期限提请延长的不予受理"
                "（人民检察院刑事诉讼规则第309条）",
                code="extension_too_late",
            )


def _extension_events(case: Case, parties: list[Party], at: datetime, unit: Unit) -> list[CustodyEvent]:
    events = _events_of(p.pk for p in parties)
    rows = []
    for party in parties:
        arrest, extensions = _extension_state(events[party.pk])
        if arrest is None or extensions >= len(EXTENSION_MONTHS):
            continue  # the guard refused these already
        until = add_months(arrest.on, EXTENSION_MONTHS[extensions])
        rows.append(
            _event(
                party,
                case,
                Kind.EXTEND_CUSTODY,
                at,
                unit,
                until=until,
                unit_id=case.police_unit_id,  # the police still hold him and answer for the custody
                note=f"第{extensions + 1}次延长，侦查羁押期限至{until:%Y年%m月%d日}",
            )
        )
    return rows


def _pronounce_events(case: Case, held: list[Party], at: datetime, unit: Unit) -> list[CustodyEvent]:
    """宣判: a judgment that does not send the defendant to prison orders his release at once
    (刑诉法第260条, 高法解释第170条): ``variant="release"``, the reconciliation's 「判决后未释放」."""
    verdict = Verdict(**(case.verdict or {"guilty": False, "penalty": "none"}))
    events = _events_of(p.pk for p in held)
    today = timezone.localdate(at)
    rows = []
    for party in held:
        plan = _plan(verdict, events[party.pk], today)
        custodial = plan.body in {Body.PRISON, Body.DETENTION_HOUSE}
        rows.append(
            _event(
                party, case, Kind.PRONOUNCE, at, unit, variant="" if custodial else "release", note=plan.note
            )
        )
    return rows


def _plan(verdict: Verdict, history: list[custody.Event], day: date) -> sentences.Plan:
    days, held_since = sentences.custody_before(history, day)
    return sentences.plan(verdict, effective_on=day, custody_days=days, held_since=held_since)


def on_accept(*, case: Case, code: str, all_parties: list[Party], at: datetime, unit: Unit) -> None:
    """The receiving unit accepted the file of ``code``: the limit a held person is held under is
    now the receiver's (刑诉法第98条: custody lasts as long as the stage's time limit)."""
    kind = _BASIS_AT_ACCEPT.get(code)
    if kind is None:
        return
    variant = case.trial_procedure if kind in {Kind.COURT_ACCEPT, Kind.REMAND} else ""
    variant = "" if variant == "ordinary" else variant
    rows = [_event(p, case, kind, at, unit, variant=variant) for p in all_parties if p.custody in HELD]
    if rows:
        fastsql.insert(rows)


def on_effective(
    *, case: Case, all_parties: list[Party], at: datetime, unit: Unit, basis: str
) -> list[Sentence]:
    """The judgment took effect (刑诉法第259条; ``basis``: ``appeal_expired`` or ``final``): each
    person's sentence with its exact term and executing unit, his custody under it, and — for
    community corrections — the notice to the corrections unit of his residence at once, so that it
    knows him before the documents arrive (社区矫正法第20条: within five days)."""
    if not case.verdict:
        return []
    verdict = Verdict(**case.verdict)
    effective_on = timezone.localdate(at)
    events = _events_of(p.pk for p in all_parties)
    Sentence.objects.filter(case=case).delete()  # a retrial's judgment replaces the earlier one
    made: list[Sentence] = []
    rows: list[CustodyEvent] = []
    notified = False
    for party in all_parties:
        history = events[party.pk]
        plan = _plan(verdict, history, effective_on)
        placement = place(plan.body, case=case, address=party.address)
        sentence = Sentence.objects.create(
            party=party,
            case=case,
            penalty=verdict.penalty if verdict.guilty else "acquitted",
            months=verdict.months,
            probation_months=verdict.probation_months,
            effective_on=effective_on,
            effective_basis=basis,
            credited_days=plan.credited_days,
            term_start=plan.term_start,
            term_end=plan.term_end,
            body=plan.body,
            executing_unit=placement.unit,
            residence=placement.residence,
            prohibitions=verdict.prohibitions,
            created_at=at,
        )
        made.append(sentence)
        if party.custody in HELD:
            custodial = plan.body in {Body.PRISON, Body.DETENTION_HOUSE}
            rows.append(
                _event(
                    party,
                    case,
                    Kind.EFFECTIVE,
                    at,
                    unit,
                    until=plan.term_end if custodial else None,
                    variant="" if custodial else "release",
                    note=plan.note,
                )
            )
        if placement.unit is None and plan.body not in {Body.RELEASE}:
            _alert_later(
                kind="handoff_refused",
                message=f"{case.number} {party.name}：{placement.problem}",
                case_id=case.pk,
                unit_id=unit.pk,
                key=f"placement:{sentence.pk}",
            )
            continue
        if placement.unit is not None:
            _participate(case, placement.unit, at)
        if plan.body == Body.CORRECTIONS and placement.unit and plan.term_start and plan.term_end:
            Supervisee.objects.filter(party=party, status__in=_OPEN).delete()  # a retrial's replaces it
            _open_file(
                case=case,
                party=party,
                kind=SuperviseeKind(plan.supervision),
                status=SuperviseeStatus.NOTIFIED,
                placement=placement,
                term=(plan.term_start, plan.term_end),
                report_from=effective_on,
                at=at,
                prohibitions=verdict.prohibitions,
            )
            notified = True
    if rows:
        fastsql.insert(rows)
    if notified:  # the platform told the corrections unit at once: 社区矫正法第20条 is met
        clocks.clocks_stop(
            case=case, rules=("corrections_notice",), at=at, by="platform_notice", party_ids=None
        )
    return made


_OPEN = [SuperviseeStatus.NOTIFIED, SuperviseeStatus.AWAITING, SuperviseeStatus.SUPERVISED]


def _open_file(
    *,
    case: Case,
    party: Party,
    kind: SuperviseeKind,
    status: SuperviseeStatus,
    placement: Placement,
    term: tuple[date, date],
    report_from: date,
    at: datetime,
    prohibitions: str = "",
) -> Supervisee:
    """The corrections file of ``party`` at the corrections unit (and 司法所) of his residence, who
    take part in the case from now; he reports within ten days of ``report_from`` (社区矫正法第21条)."""
    if placement.unit is None:
        raise Conflict(placement.problem, code="no_corrections_unit")
    for unit in (placement.unit, placement.office):
        if unit is not None:
            _participate(case, unit, at)
    return Supervisee.objects.create(
        party=party,
        case=case,
        kind=kind,
        status=status,
        corrections_unit=placement.unit,
        office=placement.office,
        residence=placement.residence,
        address=party.address,
        term_start=term[0],
        term_end=term[1],
        report_due=report_from + timedelta(days=REPORT_DAYS),
        notified_at=at,
        conditions=CONDITIONS[kind],
        prohibitions=prohibitions,
    )


def _alert_later(*, kind: str, message: str, case_id: int | None, unit_id: int | None, key: str) -> None:
    """An alert raised once the act commits (an alert for a refused act is raised before it)."""
    from xietong.supervision.models import Alert
    from xietong.supervision.services import alerts_raise_once

    def raise_it() -> None:
        alert = Alert(
            kind=kind,
            key=key,
            message=message[:500],
            case_id=case_id,
            unit_id=unit_id,
            raised_at=servertime.now(),
        )
        alerts_raise_once([alert])

    transaction.on_commit(raise_it)


def _participate(case: Case, unit: Unit, at: datetime) -> None:
    fastsql.insert([Participation(case_id=case.pk, unit_id=unit.pk, since=at)], ignore_conflicts=True)


def executing_unit(case: Case) -> Unit:
    """Where 交付执行 sends the file: the executing unit of the first defendant's sentence."""
    sentence = (
        Sentence.objects.filter(case=case)
        .select_related("executing_unit", "party")
        .order_by("party__ordinal")
        .first()
    )
    if sentence is None:
        raise Conflict("判决生效后才能交付执行", code="not_effective")
    if sentence.executing_unit is None:
        placement = place(sentence.body, case=case, address=sentence.party.address)
        raise Conflict(placement.problem or "本案判决无需交付执行", code="no_executing_unit")
    return sentence.executing_unit


def on_deliver(*, case: Case, unit: Unit, user: User, at: datetime, to_unit: Unit) -> None:
    """交付执行 (刑诉法第264条; 高法解释第511条): besides the 执行通知书 of the act, the 结案登记表
    is drafted, and the sealed judgment and indictment already in the case are served on the
    executing unit electronically now (the 起诉书副本 and 判决书 it needs to take the offender in)."""
    from xietong.instruments.models import Instrument, InstrumentStatus, Service, ServiceMethod
    from xietong.instruments.services import draft_for_act

    parties = [p.pk for p in Party.objects.filter(case=case).order_by("ordinal")]
    if not Instrument.objects.filter(case=case, kind="结案登记表").exclude(status="revoked").exists():
        draft_for_act(
            case=case,
            kind="结案登记表",
            action="deliver_for_execution",
            unit=unit,
            user=user,
            at=at,
            claimed=None,
            party_ids=parties,
        )
    sealed = Instrument.objects.filter(
        case=case, status=InstrumentStatus.SEALED, kind__in=["刑事判决书", "刑事裁定书", "起诉书"]
    ).exclude(services__recipient_unit=to_unit)
    Service.objects.bulk_create(
        [
            Service(instrument=i, method=ServiceMethod.ELECTRONIC, recipient_unit=to_unit, delivered_at=at)
            for i in sealed
        ]
    )


# Documents the executing unit must have before it may take the offender in (监狱法第16条; 高法解释第511条).
REQUIRED_FOR_COMMIT = (("刑事判决书", "刑事裁定书"), ("起诉书",), ("执行通知书",), ("结案登记表",))


def missing_documents(case: Case) -> list[str]:
    from xietong.instruments.models import Instrument, InstrumentStatus

    sealed = set(
        Instrument.objects.filter(case=case, status=InstrumentStatus.SEALED).values_list("kind", flat=True)
    )
    return ["或".join(group) for group in REQUIRED_FOR_COMMIT if not sealed.intersection(group)]


def held_elsewhere(party: Party) -> Party | None:
    """The same person (by 身份证号) held in another case right now."""
    if not party.id_number:
        return None
    return (
        Party.objects.filter(id_number=party.id_number, custody__in=list(HELD))
        .exclude(case_id=party.case_id)
        .select_related("case")
        .first()
    )


def check_intake(*, case: Case, unit: Unit, parties: list[Party]) -> None:
    """Refuse an intake the law does not allow, before the accepting transaction opens (so that the
    alert it raises survives the refusal): someone held in another case, or a prison intake
    without the documents of 监狱法第16条."""
    from xietong.supervision.services import alert_raise

    for party in parties:
        other = held_elsewhere(party)
        if other is not None:
            message = (
                f"{party.name}（{party.id_number}）目前仍因{other.case.number}案被"
                f"{Custody(other.custody).label}羁押，不能接收交付执行；请先与该案办案单位核实"
            )
            alert_raise(kind="handoff_refused", message=message, case_id=case.pk, unit_id=unit.pk)
            raise Conflict(message, code="held_elsewhere")
    if unit.kind in {UnitKind.PRISON, UnitKind.DETENTION_HOUSE}:
        missing = missing_documents(case)
        if missing:
            raise Conflict(
                f"尚未收到{'、'.join(missing)}，依法不得收监（监狱法第16条）", code="documents_missing"
            )


def on_execution_accepted(*, case: Case, all_parties: list[Party], at: datetime, unit: Unit) -> None:
    """The executing unit accepted the file (交付执行): a prison or 看守所 takes the offender in
    (收监, with the term's last day), a corrections unit waits for his 报到."""
    today = timezone.localdate(at)
    by_party = {s.party_id: s for s in Sentence.objects.filter(case=case)}
    rows: list[CustodyEvent] = []
    for party in all_parties:
        sentence = by_party.get(party.pk)
        if sentence is None:
            continue
        if sentence.body in {Body.PRISON, Body.DETENTION_HOUSE}:
            if (
                party.custody not in HELD and sentence.term_end is not None
            ):  # not held at effect: the term runs from 收监
                sentence.term_start = today
                sentence.term_end = sentence_term_end(
                    today, months=sentence.months, credited_days=sentence.credited_days
                )
                Sentence.objects.filter(pk=sentence.pk).update(term_start=today, term_end=sentence.term_end)
            rows.append(
                _event(
                    party, case, Kind.COMMIT, at, unit, until=sentence.term_end, note=f"{unit.name}收监执行"
                )
            )
        elif sentence.body == Body.CORRECTIONS:
            Supervisee.objects.filter(party=party, status=SuperviseeStatus.NOTIFIED).update(
                status=SuperviseeStatus.AWAITING
            )
            if party.custody in HELD:  # 高法解释第172条: the 看守所 hands him to the corrections unit
                rows.append(_event(party, case, Kind.RELEASE, at, unit, note="看守所交付社区矫正机构"))
    if rows:
        fastsql.insert(rows)


def check_report(*, user: User, case: Case, parties: list[Party]) -> None:
    """报到 may be registered by the corrections unit or the 司法所 of the offender, once."""
    for party in parties:
        supervisee = Supervisee.objects.filter(party=party, status__in=_OPEN).first()
        if supervisee is None:
            raise Conflict(f"{party.name}不是本案的社区矫正对象", code="not_supervisee")
        if user.unit_id not in {supervisee.corrections_unit_id, supervisee.office_id}:
            raise NotAllowed(
                f"{party.name}的执行地社区矫正机构为{supervisee.corrections_unit.name}，请在该机构或其司法所报到",
                code="not_corrections_unit",
            )
        if supervisee.reported_at is not None:
            reported = timezone.localtime(supervisee.reported_at)
            raise Conflict(
                f"{party.name}已于{reported:%Y-%m-%d %H:%M}报到，不能重复登记",
                code="already_reported",
            )


def on_report(*, case: Case, parties: list[Party], at: datetime, unit: Unit) -> None:
    """报到 (社区矫正法第21条、第22条): supervision starts; a coercive measure ends with it
    (高法解释第172条)."""
    rows = []
    for party in parties:
        Supervisee.objects.filter(party=party, status__in=_OPEN).update(
            status=SuperviseeStatus.SUPERVISED, reported_at=at, reported_to=unit
        )
        rows.append(_event(party, case, Kind.CORRECTIONS_START, at, unit, note=f"到{unit.name}报到"))
    fastsql.insert(rows)


# ---------------------------------------------------------------- acts of the executing units


def _lock(case_id: int) -> Case:
    qs = Case.objects.filter(pk=case_id)
    if connection.features.has_select_for_update:
        qs = qs.select_for_update()
    case = qs.first()
    if case is None:
        raise NotFound("案件不存在", code="case_not_found")
    return case


def _actor(user: User) -> Actor:
    return actor_of(
        user, preferred=[Duty.LEADER, Duty.DEPT_HEAD, Duty.CORRECTIONS_OFFICER, Duty.HANDLER, Duty.CLERK]
    )


def _supervisee_for(user: User, supervisee_id: int) -> Supervisee:
    found = (
        Supervisee.objects.select_related("party", "case", "corrections_unit", "office")
        .filter(pk=supervisee_id)
        .first()
    )
    if found is None or user.unit_id not in {found.corrections_unit_id, found.office_id}:
        raise NotFound("社区矫正对象不存在", code="supervisee_not_found")
    if not user.has_duty(Duty.CORRECTIONS_OFFICER, Duty.DEPT_HEAD, Duty.LEADER):
        raise NotAllowed("您的职责不能办理社区矫正事项", code="duty_forbidden")
    return found


def supervisee_update(
    *,
    user: User,
    supervisee_id: int,
    supervisor_id: int | None = None,
    plan: str | None = None,
    conditions: str | None = None,
    prohibitions: str | None = None,
) -> Supervisee:
    """Assign the 矫正小组's officer and record the 矫正方案 (社区矫正法第24条、第25条)."""
    with transaction.atomic():
        sv = _supervisee_for(user, supervisee_id)
        _lock(sv.case_id)
        sv = Supervisee.objects.select_related("party", "case", "corrections_unit", "office").get(pk=sv.pk)
        if sv.status not in {
            SuperviseeStatus.AWAITING,
            SuperviseeStatus.SUPERVISED,
            SuperviseeStatus.NOTIFIED,
        }:
            raise Conflict("该社区矫正已结束", code="supervision_ended")
        changed: dict[str, Any] = {}
        if supervisor_id is not None:
            officer = User.objects.filter(pk=supervisor_id, is_active=True).first()
            if officer is None or officer.unit_id not in {sv.corrections_unit_id, sv.office_id}:
                raise ValidationFailed(
                    "矫正负责人须是执行地社区矫正机构或司法所的工作人员", code="supervisor_invalid"
                )
            sv.supervisor = officer
            changed["supervisor"] = officer.full_name or officer.username
        for field, value in (("plan", plan), ("conditions", conditions), ("prohibitions", prohibitions)):
            if value is not None:
                value = value.strip()
                if len(value) > 5000:
                    raise ValidationFailed("内容过长（不超过5000字）", code="too_long")
                setattr(sv, field, value)
                changed[field] = value[:200]
        if not changed:
            raise ValidationFailed("没有要保存的内容", code="nothing_to_save")
        sv.save(update_fields=["supervisor", "plan", "conditions", "prohibitions"])
        ledger_append(
            case_id=sv.case_id,
            actor=_actor(user),
            action="corrections_plan",
            payload={"label": "社区矫正：矫正小组与矫正方案", "party": sv.party.name, **changed},
        )
        return sv


def supervisee_discharge(*, user: User, supervisee_id: int) -> Supervisee:
    """解除社区矫正 at the end of the term (社区矫正法第44条): the certificate is drafted for
    签发, and the person is free."""
    from xietong.instruments.services import draft_for_act

    with transaction.atomic():
        sv = _supervisee_for(user, supervisee_id)
        case = _lock(sv.case_id)
        sv = Supervisee.objects.select_related("party", "case", "corrections_unit").get(pk=sv.pk)
        now = servertime.now()
        if sv.status != SuperviseeStatus.SUPERVISED:
            raise Conflict("只有在矫的社区矫正对象才能解除矫正", code="not_supervised")
        if timezone.localdate(now) < sv.term_end:
            raise Conflict(
                f"矫正期至{sv.term_end:%Y年%m月%d日}届满，期满前不能解除（社区矫正法第44条）",
                code="term_running",
            )
        sv.status, sv.ended_at, sv.end_reason = SuperviseeStatus.DISCHARGED, now, "矫正期满"
        sv.save(update_fields=["status", "ended_at", "end_reason"])
        fastsql.insert(
            [_event(sv.party, case, Kind.CORRECTIONS_END, now, user.unit, note="矫正期满，解除社区矫正")]
        )
        instrument = draft_for_act(
            case=case,
            kind="解除社区矫正证明书",
            action="corrections_end",
            unit=sv.corrections_unit,
            user=user,
            at=now,
            claimed=None,
            party_ids=[sv.party_id],
        )
        ledger_append(
            case_id=case.pk,
            actor=_actor(user),
            action="corrections_end",
            payload={"label": "解除社区矫正", "party": sv.party.name, "instrument": instrument.pk},
        )
        return sv


def _sentence_of(party_id: int) -> tuple[Sentence, Case, Party]:
    sentence = Sentence.objects.select_related("party", "case").filter(party_id=party_id).first()
    if sentence is None:
        raise NotFound("没有该罪犯的生效判决", code="sentence_not_found")
    return sentence, sentence.case, sentence.party


def release_on_term(*, user: User, party_id: int) -> CustodyEvent:
    """刑满释放 (刑诉法第264条第5款; 监狱法第35条): by the prison or 看守所 that holds him, on or
    after the last day of the term; the 释放证明书 is drafted for 签发."""
    from xietong.instruments.services import draft_for_act

    with transaction.atomic():
        sentence, case, party = _sentence_of(party_id)
        case = _lock(case.pk)
        party = Party.objects.get(pk=party.pk)
        if user.unit_id != sentence.executing_unit_id or not user.has_duty(Duty.HANDLER, Duty.LEADER):
            raise NotAllowed("只有执行该刑罚的监狱或看守所可以办理刑满释放", code="not_executing_unit")
        now = servertime.now()
        state = _state_of(party.pk, timezone.localdate(now))
        if state != custody.State.SERVING:
            raise Conflict(f"{party.name}当前不在服刑", code="not_serving")
        end = _current_term_end(party.pk) or sentence.term_end
        if end is None:
            raise Conflict("无期徒刑没有刑满日期", code="no_term_end")
        if timezone.localdate(now) < end:
            raise Conflict(f"刑期至{end:%Y年%m月%d日}届满，不能提前释放", code="term_running")
        unit = user.unit
        if unit is None:
            raise NotAllowed("您不属于任何单位", code="no_unit")
        event = _event(party, case, Kind.TERM_END, now, unit, note="刑满释放")
        fastsql.insert([event])
        Party.objects.filter(pk=party.pk).update(custody=Custody.RELEASED.value, custody_since=now)
        instrument = draft_for_act(
            case=case,
            kind="刑满释放证明书",
            action="term_end",
            unit=unit,
            user=user,
            at=now,
            claimed=None,
            party_ids=[party.pk],
        )
        ledger_append(
            case_id=case.pk,
            actor=_actor(user),
            action="term_end",
            payload={
                "label": "刑满释放",
                "party": party.name,
                "term_end": end.isoformat(),
                "instrument": instrument.pk,
            },
        )
        return event


def _state_of(party_id: int, today: date) -> custody.State:
    return custody.status(_events_of([party_id])[party_id], today)[0]


def _current_term_end(party_id: int) -> date | None:
    last = (
        CustodyEvent.objects.filter(
            party_id=party_id, kind__in=[Kind.COMMIT, Kind.REVOKE, Kind.EFFECTIVE], until__isnull=False
        )
        .order_by("-at", "-id")
        .values_list("until", flat=True)
        .first()
    )
    return last


def _court_user(user: User, case: Case) -> Unit:
    unit = user.unit
    if unit is None or unit.agency != "court" or not user.has_duty(Duty.HANDLER, Duty.LEADER, Duty.DEPT_HEAD):
        raise NotAllowed("假释、撤销缓刑（假释）由人民法院裁定", code="court_only")
    if unit.kind != UnitKind.INTERMEDIATE_COURT and unit.pk != case.court_unit_id:
        raise NotAllowed("只有原审人民法院或中级人民法院可以裁定", code="not_competent_court")
    return unit


# The two ways a court sends someone serving a term to community corrections: the custody event,
# the court's instrument, the act's label and what it is called.
_TO_COMMUNITY = {
    SuperviseeKind.PAROLE: (Kind.PAROLE, "假释裁定书", "裁定假释", "假释"),
    SuperviseeKind.TEMPORARY: (
        Kind.TEMPORARY_RELEASE,
        "暂予监外执行决定书",
        "决定暂予监外执行",
        "暂予监外执行",
    ),
}


def parole_grant(*, user: User, party_id: int, reason: str = "") -> Supervisee:
    """假释 (刑法第81条、第83条; 刑诉法第273条): the court's ruling frees a prisoner; the rest of his
    term is his probation, supervised by the corrections unit of his residence, where he must
    report within ten days (社区矫正法第21条)."""
    return _to_community(user=user, party_id=party_id, kind=SuperviseeKind.PAROLE, reason=reason)


def temporary_release_grant(*, user: User, party_id: int, reason: str = "") -> Supervisee:
    """暂予监外执行 decided by the court (刑诉法第265条; 高法解释第515条), before or after 交付执行:
    the term runs on outside (it counts as served) under community corrections, to which the 看守所
    or prison hands him within ten days (社区矫正法第21条第2款、第3款)."""
    return _to_community(user=user, party_id=party_id, kind=SuperviseeKind.TEMPORARY, reason=reason)


def _to_community(*, user: User, party_id: int, kind: SuperviseeKind, reason: str) -> Supervisee:
    from xietong.instruments.services import draft_for_act

    event_kind, instrument_kind, label, name = _TO_COMMUNITY[kind]
    with transaction.atomic():
        sentence, case, party = _sentence_of(party_id)
        case = _lock(case.pk)
        unit = _court_user(user, case)
        now = servertime.now()
        today = timezone.localdate(now)
        if not _state_of(party.pk, today).locked_up:
            raise Conflict(f"{party.name}当前不在监狱或看守所服刑，不能{name}", code="not_serving")
        end = _current_term_end(party.pk)
        if end is None or end <= today:
            raise Conflict(f"无剩余刑期，不能{name}", code="no_remaining_term")
        placement = place(Body.CORRECTIONS, case=case, address=party.address)
        if placement.unit is None:
            raise Conflict(placement.problem, code="no_corrections_unit")
        fastsql.insert([_event(party, case, event_kind, now, unit, note=reason[:200] or label)])
        _participate(case, unit, now)  # the ruling court (often the 中级人民法院) takes part from now
        Party.objects.filter(pk=party.pk).update(custody=Custody.SERVING.value, custody_since=now)
        Supervisee.objects.filter(party=party, status__in=_OPEN).update(
            status=SuperviseeStatus.REVOKED, ended_at=now, end_reason=label
        )
        sv = _open_file(
            case=case,
            party=party,
            kind=kind,
            status=SuperviseeStatus.AWAITING,
            placement=placement,
            term=(today, end),
            report_from=today,
            at=now,
        )
        instrument = draft_for_act(
            case=case,
            kind=instrument_kind,
            action=event_kind.value,
            unit=unit,
            user=user,
            at=now,
            claimed=None,
            party_ids=[party.pk],
            reason=reason,
        )
        prison = Unit.objects.filter(pk=sentence.executing_unit_id or 0, kind=UnitKind.PRISON).first()
        if kind == SuperviseeKind.PAROLE and prison is not None:
            # 监狱法第33条: the prison releases him on the day and gives him the 假释证明书
            draft_for_act(
                case=case,
                kind="假释证明书",
                action=event_kind.value,
                unit=prison,
                user=user,
                at=now,
                claimed=None,
                party_ids=[party.pk],
            )
        ledger_append(
            case_id=case.pk,
            actor=_actor(user),
            action=event_kind.value,
            payload={
                "label": label,
                "party": party.name,
                "term_end": end.isoformat(),
                "corrections_unit": placement.unit.name,
                "instrument": instrument.pk,
            },
        )
        return sv


def supervision_revoke(*, user: User, supervisee_id: int, reason: str) -> CustodyEvent:
    """撤销缓刑、假释 (刑法第77条、第86条; 社区矫正法第48条) or 收监执行 of 暂予监外执行 (刑诉法第268条;
    社区矫正法第49条): the decision takes effect at once; the offender is taken in to serve the original
    term (缓刑, pre-trial custody credited), the rest of it (假释), or what is left of it (暂予监外执行,
    whose time outside counts). Flows back to the prison or 看守所 as a custody event everyone sees."""
    from xietong.instruments.services import draft_for_act

    if not reason.strip():
        raise ValidationFailed("撤销须写明理由", code="reason_required")
    with transaction.atomic():
        sv = Supervisee.objects.select_related("party", "case").filter(pk=supervisee_id).first()
        if sv is None:
            raise NotFound("社区矫正对象不存在", code="supervisee_not_found")
        case = _lock(sv.case_id)
        unit = _court_user(user, case)
        sv = Supervisee.objects.select_related("party").get(pk=sv.pk)
        if sv.status not in {SuperviseeStatus.AWAITING, SuperviseeStatus.SUPERVISED}:
            raise Conflict("该社区矫正对象不在矫正期内", code="not_supervised")
        if sv.kind == SuperviseeKind.CONTROL:
            raise Conflict("管制不适用撤销，违反规定的依法给予治安管理处罚", code="control_not_revocable")
        sentence = Sentence.objects.get(party_id=sv.party_id)
        now = servertime.now()
        today = timezone.localdate(now)
        if sv.kind == SuperviseeKind.PROBATION:  # 刑法第77条: execute the original sentence
            end = sentence_term_end(today, months=sentence.months, credited_days=sentence.credited_days)
        elif sv.kind == SuperviseeKind.TEMPORARY:  # the time outside counted: the term ends as before
            end = sv.term_end  # (刑诉法第268条: unless he obtained it by fraud or escaped — then later)
        else:  # 刑法第86条: the part of the term not yet served when he was paroled
            left = (sv.term_end - sv.term_start).days
            end = today + timedelta(days=left)
        body = Body.DETENTION_HOUSE if sentence.penalty == "criminal_detention" else Body.PRISON
        placement = place(body, case=case, address=sv.party.address)
        _participate(case, unit, now)
        sv.status, sv.ended_at, sv.end_reason = SuperviseeStatus.REVOKED, now, reason[:200]
        sv.save(update_fields=["status", "ended_at", "end_reason"])
        event = _event(sv.party, case, Kind.REVOKE, now, placement.unit or unit, until=end, note=reason)
        fastsql.insert([event])
        Party.objects.filter(pk=sv.party_id).update(custody=Custody.SERVING.value, custody_since=now)
        if placement.unit is not None:
            Sentence.objects.filter(pk=sentence.pk).update(
                executing_unit=placement.unit, body=body, term_end=end
            )
            _participate(case, placement.unit, now)
        instrument = draft_for_act(
            case=case,
            kind="收监执行决定书" if sv.kind == SuperviseeKind.TEMPORARY else "撤销缓刑裁定书",
            action="revoke",
            unit=unit,
            user=user,
            at=now,
            claimed=None,
            party_ids=[sv.party_id],
            reason=reason,
        )
        ledger_append(
            case_id=case.pk,
            actor=_actor(user),
            action="revoke",
            payload={
                "label": f"撤销{sv.get_kind_display()}，收监执行",
                "party": sv.party.name,
                "term_end": end.isoformat(),
                "executing_unit": placement.unit.name if placement.unit else None,
                "instrument": instrument.pk,
                "reason": reason[:500],
            },
        )
        return event
