"""The one door for every state change of a case (F2): authorise → validate → write → ledger →
publish on commit. Views, the API, the demo generator, benches and tests all call these functions;
nothing writes case state around them.

Concurrency: the case row is locked (``select_for_update``; on SQLite the IMMEDIATE transaction
holds the write lock) before its state is read, so two units acting at once are serialised and the
second sees the first's result: a stage conflict or a version mismatch (409), never a forked chain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from xietong import events, fastsql, servertime, tasks
from xietong.cases import clocks
from xietong.cases.guards import GUARDS, ActContext, clock_condition
from xietong.cases.models import (
    ActionRequest,
    Case,
    InstrumentCounter,
    Participation,
    Party,
    RequestStatus,
    Transfer,
    TransferStatus,
)
from xietong.cases.procedure import (
    ACTIONS,
    CORRECTIONS_STAFF,
    COURT_STAFF,
    HANDLERS,
    LEADERS,
    STAGE_LABELS,
    TERMINAL_STAGES,
    TRIAL_PROCEDURES,
    Action,
    Custody,
    Stage,
    Target,
    When,
)
from xietong.cases.routing import resolve_target
from xietong.counters import next_in_sequence
from xietong.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from xietong.execution import services as execution
from xietong.instruments.models import Instrument
from xietong.ledger.models import LedgerEntry
from xietong.ledger.services import Actor, actor_of, ledger_append, ledger_entry, ledger_insert
from xietong.orgs.models import Duty, Region, Unit, UnitKind, User


@dataclass
class ActResult:
    case: Case | None
    status: str  # "done" | "pending_approval" | "rejected"
    action: str
    request: ActionRequest | None = None
    transfer: Transfer | None = None
    instrument: Instrument | None = None
    entry_hash: str | None = None
    messages: list[str] = field(default_factory=list)


@dataclass
class PartyInput:
    name: str
    gender: str
    id_number: str = ""
    birth_date: date | None = None
    address: str = ""


@dataclass
class RegisterInput:
    charge: str
    facts: str
    occurred_at: datetime
    town_id: int
    parties: list[PartyInput]
    place: str = ""
    title: str = ""
    plea: bool = False
    fast_track: bool = False


# ---------------------------------------------------------------- helpers


# The capacity in which a person acts, most senior first (recorded in the ledger entry).
_DUTY_ORDER = (Duty.LEADER, Duty.DEPT_HEAD, Duty.HANDLER, Duty.CLERK, Duty.CORRECTIONS_OFFICER)


def _actor(user: User, duties: frozenset[str]) -> Actor:
    return actor_of(user, preferred=[d for d in _DUTY_ORDER if d in duties])


# The columns of the case row that an act may change, written by one UPDATE at the end of the act
# (with the ledger head, which moves with the entry the act appends).
_ACT_COLUMNS = (
    "stage",
    "holder_unit_id",
    "handler_id",
    "procuratorate_unit_id",
    "court_unit_id",
    "execution_unit_id",
    "trial_procedure",
    "supplementary_count",
    "remand_count",
    "verdict",
    "version",
    "updated_at",
    "ledger_seq",
    "ledger_head",
)


def _for_update() -> str:
    # SQLite has no row locks: the IMMEDIATE transaction already holds the database's write lock.
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


def _lock_case(case_id: int) -> Case:
    # No joins in the locking query: on PostgreSQL a row updated by the transaction we waited
    # for is re-checked against the join, and a changed holder would make it vanish.
    found = fastsql.fetch_models(Case, "WHERE {t}.id = %s" + _for_update(), [case_id])
    if not found:
        raise NotFound("案件不存在", code="case_not_found")
    return found[0]


def _lock_case_of_transfer(transfer_id: int) -> Case | None:
    """Lock the case that a transfer belongs to, found in the same statement (a transfer never
    changes case, so the subquery may be answered before the wait for the lock)."""
    transfers = Transfer._meta.db_table
    found = fastsql.fetch_models(
        Case,
        f"WHERE {{t}}.id = (SELECT case_id FROM {transfers} WHERE id = %s)" + _for_update(),  # noqa: S608
        [transfer_id],
    )
    return found[0] if found else None


def _parties_and_pending(case: Case) -> tuple[list[Party], bool]:
    """The case's parties, and whether a transfer of it is waiting to be accepted, in one statement
    (run after the row lock, so both are as the last act on the case left them)."""
    pending_sql = (
        f"EXISTS (SELECT 1 FROM {Transfer._meta.db_table} "  # noqa: S608
        f"WHERE case_id = %s AND status = '{TransferStatus.PENDING.value}')"
    )
    rows = fastsql.fetch(
        Party, "WHERE {t}.case_id = %s ORDER BY {t}.ordinal, {t}.id", [case.pk, case.pk], extra=pending_sql
    )
    if not rows:  # a case without parties: ask on its own
        return [], _transfer_pending(case)
    return [party for party, _ in rows], bool(rows[0][1][0])


def _transfer_pending(case: Case) -> bool:
    return Transfer.objects.filter(case=case, status=TransferStatus.PENDING).exists()


def _write_case(case: Case, entry: LedgerEntry | None) -> None:
    """The act's one UPDATE of the case row, moving the ledger head to ``entry``; then the entry."""
    if entry is not None:
        case.ledger_seq, case.ledger_head = entry.seq, entry.entry_hash
    fastsql.update(case, _ACT_COLUMNS)
    if entry is not None:
        ledger_insert(entry)


def _case_entry(case: Case, *, actor: Actor, action: str, payload: dict[str, Any]) -> LedgerEntry | None:
    return ledger_entry(
        case_id=case.pk, head=(case.ledger_seq, case.ledger_head), actor=actor, action=action, payload=payload
    )


def _can_see(user: User, case: Case) -> bool:
    from xietong.cases.selectors import case_visible_to

    return case_visible_to(user=user, case=case)


def _require_unit(user: User) -> Unit:
    if user.unit is None:
        raise NotAllowed("您不属于任何单位，不能办理案件", code="no_unit")
    return user.unit


def _participate(case: Case, unit: Unit, at: datetime) -> None:
    fastsql.insert([Participation(case_id=case.pk, unit_id=unit.pk, since=at)], ignore_conflicts=True)


def _next_number(unit: Unit, kind: str, year: int) -> int:
    return next_in_sequence(InstrumentCounter, unit_id=unit.pk, kind=kind, year=year)


def _issue_instrument(
    *,
    case: Case,
    action: Action,
    unit: Unit,
    user: User,
    at: datetime,
    claimed: date | None,
    party_ids: list[int] | None,
    reason: str = "",
) -> Instrument | None:
    """The draft of the instrument the act calls for; the instruments app takes it from there
    (签发, seal and 文号, service). One INSERT."""
    if not action.instrument:
        return None
    from xietong.instruments.services import draft_for_act

    return draft_for_act(
        case=case,
        kind=action.instrument,
        action=action.code,
        unit=unit,
        user=user,
        at=at,
        claimed=claimed,
        party_ids=party_ids or [],
        reason=reason,
    )


def _check_may_act(user: User, case: Case | None, action: Action, *, pending: bool | None = None) -> Unit:
    """``pending``: whether a transfer of the case waits to be accepted, when the caller knows it."""
    unit = _require_unit(user)
    if unit.agency != action.agency:
        raise NotAllowed(f"「{action.label}」须由{_agency_label(action.agency)}办理", code="agency_forbidden")
    if not user.has_duty(*action.duties):
        raise NotAllowed(f"您的职责不能办理「{action.label}」", code="duty_forbidden")
    if action.unit_kinds and unit.kind not in action.unit_kinds:
        raise NotAllowed(f"「{action.label}」不由本单位办理", code="unit_kind_forbidden")
    if case is None:
        return unit
    stage = Stage(case.stage)
    if stage not in action.stages:
        raise Conflict(
            f"案件当前处于「{STAGE_LABELS[stage]}」阶段，不能办理「{action.label}」", code="stage_conflict"
        )
    if pending is None:
        pending = _transfer_pending(case)
    if pending:
        raise Conflict("案件正在移送途中，待接收单位受理或退回后才能继续办理", code="transfer_pending")
    if stage.agency == action.agency and case.holder_unit_id != unit.pk:
        raise NotAllowed("本案不在本单位办理", code="not_holder")
    return unit


def _agency_label(agency: str) -> str:
    from xietong.orgs.models import Agency

    return str(Agency(agency).label)


def _select_parties(
    case: Case, action: Action, party_ids: list[int] | None, parties: list[Party]
) -> list[Party]:
    """The persons the act is about, out of ``parties`` (all the case's)."""
    if not action.per_party:
        return parties
    if not party_ids:
        if action.code in {"approve_arrest", "deny_arrest"}:
            last = Transfer.objects.filter(case=case, action="request_arrest").order_by("-id").first()
            party_ids = list(last.party_ids) if last else []
        if not party_ids:
            raise ValidationFailed("请选择犯罪嫌疑人", code="parties_required")
    chosen = [p for p in parties if p.pk in set(party_ids)]
    if len(chosen) != len(set(party_ids)):
        raise ValidationFailed("所选人员不属于本案", code="party_not_in_case")
    if action.custody_from:
        wrong = [p for p in chosen if Custody(p.custody) not in action.custody_from]
        if wrong:
            names = "、".join(f"{p.name}（{Custody(p.custody).label}）" for p in wrong)
            raise Conflict(f"{names}当前的强制措施不能办理「{action.label}」", code="custody_conflict")
    return chosen


def _start_clocks(
    case: Case,
    action: Action,
    parties: list[Party],
    unit: Unit,
    at: datetime,
    when: When,
    all_parties: list[Party] | None = None,
) -> None:
    wanted: list[tuple[str, Party | None]] = []
    for start in action.starts:
        if start.when != when or not clock_condition(start.condition, case=case, parties=parties):
            continue
        if start.per_party:
            wanted.extend((start.rule, p) for p in parties)
        else:
            wanted.append((start.rule, None))
    clocks.clocks_start(case=case, unit=unit, at=at, wanted=wanted, parties=parties, all_parties=all_parties)


def _payload(action: Action, **extra: Any) -> dict[str, Any]:
    body = {"label": action.label, "articles": list(action.articles)}
    body.update({k: v for k, v in extra.items() if v not in (None, "", [], {})})
    return body


def _after_commit(case_id: int | None, action: str) -> None:
    events.publish_on_commit("case.acted", case_id=case_id, action=action)
    transaction.on_commit(lambda: tasks.request("ledger.integrate"))


# ---------------------------------------------------------------- 立案


def _validate_register(data: RegisterInput) -> Region:
    if not data.parties:
        raise ValidationFailed("至少填写一名犯罪嫌疑人", code="parties_required")
    if not data.charge.strip() or not data.facts.strip():
        raise ValidationFailed("请填写涉嫌罪名和简要案情", code="facts_required")
    if data.occurred_at > servertime.now():
        raise ValidationFailed("案发时间不能晚于当前时间", code="occurred_in_future")
    for party in data.parties:
        if not party.name.strip() or party.gender not in {"男", "女"}:
            raise ValidationFailed("犯罪嫌疑人须填写姓名和性别（男/女）", code="party_invalid")
    town = Region.objects.filter(pk=data.town_id, level="town").select_related("parent").first()
    if town is None:
        raise ValidationFailed("案发镇（街道）无效", code="town_invalid")
    return town


def case_register(*, user: User, data: RegisterInput, claimed_date: date | None = None) -> ActResult:
    """立案. A handler's filing waits for the leader's approval (公安规定第178条); a leader files at once."""
    action = ACTIONS["register"]
    unit = _check_may_act(user, None, action)
    town = _validate_register(data)
    if town.parent_id != unit.region_id and unit.kind == UnitKind.POLICE_BRANCH:
        pass  # a branch may file a case that happened elsewhere (指定管辖); recorded as filed
    if action.approval and not user.has_duty(*LEADERS):
        payload = {
            "register": _register_to_json(data),
            "claimed_date": claimed_date.isoformat() if claimed_date else None,
        }
        with transaction.atomic():
            request = ActionRequest.objects.create(
                case=None,
                action=action.code,
                payload=payload,
                unit=unit,
                requested_by=user,
                requested_at=servertime.now(),
            )
        return ActResult(case=None, status="pending_approval", action=action.code, request=request)
    with transaction.atomic():
        return _register_apply(
            user=user, approver=user, unit=unit, town=town, data=data, claimed=claimed_date
        )


def _register_to_json(data: RegisterInput) -> dict[str, Any]:
    return {
        "charge": data.charge,
        "facts": data.facts,
        "occurred_at": data.occurred_at.isoformat(),
        "town_id": data.town_id,
        "place": data.place,
        "title": data.title,
        "plea": data.plea,
        "fast_track": data.fast_track,
        "parties": [
            {**p.__dict__, "birth_date": p.birth_date.isoformat() if p.birth_date else None}
            for p in data.parties
        ],
    }


def _register_from_json(raw: dict[str, Any]) -> RegisterInput:
    return RegisterInput(
        charge=raw["charge"],
        facts=raw["facts"],
        occurred_at=datetime.fromisoformat(raw["occurred_at"]),
        town_id=raw["town_id"],
        place=raw.get("place", ""),
        title=raw.get("title", ""),
        plea=raw.get("plea", False),
        fast_track=raw.get("fast_track", False),
        parties=[
            PartyInput(
                name=p["name"],
                gender=p["gender"],
                id_number=p.get("id_number", ""),
                birth_date=date.fromisoformat(p["birth_date"]) if p.get("birth_date") else None,
                address=p.get("address", ""),
            )
            for p in raw["parties"]
        ],
    )


def _case_number(unit: Unit, at: datetime) -> str:
    """案件编号 in the police style: A + the filing unit's code + year and month + sequence."""
    local = timezone.localtime(at)
    seq = _next_number(unit, "案件编号", local.year)
    digits = "".join(ch for ch in unit.code if ch.isdigit()).ljust(9, "0")[:12]
    return f"A{digits}{local:%Y%m}{seq:05d}"


def _register_apply(
    *, user: User, approver: User, unit: Unit, town: Region, data: RegisterInput, claimed: date | None
) -> ActResult:
    action = ACTIONS["register"]
    now = servertime.now()
    county = town.parent if town.parent and town.parent.level == "county" else unit.region
    first = data.parties[0].name
    case = Case.objects.create(
        number=_case_number(unit, now),
        title=data.title
        or f"{first}{'等' if len(data.parties) > 1 else ''}{data.charge.removesuffix('罪')}案",
        charge=data.charge,
        facts=data.facts,
        occurred_at=data.occurred_at,
        place=data.place,
        town=town,
        county=county,
        stage=Stage.INVESTIGATION,
        holder_unit=unit,
        handler=user,
        police_unit=unit,
        plea=data.plea,
        fast_track=data.fast_track,
        created_at=now,
        updated_at=now,
    )
    Party.objects.bulk_create(
        [
            Party(
                case=case,
                ordinal=i,
                name=p.name.strip(),
                gender=p.gender,
                id_number=p.id_number,
                birth_date=p.birth_date,
                address=p.address,
            )
            for i, p in enumerate(data.parties, start=1)
        ]
    )
    _participate(case, unit, now)
    instrument = _issue_instrument(
        case=case, action=action, unit=unit, user=user, at=now, claimed=claimed, party_ids=None
    )
    entry = ledger_append(
        case_id=case.pk,
        actor=_actor(user, action.duties),
        action=action.code,
        payload=_payload(
            action,
            number=case.number,
            charge=case.charge,
            party_names=[p.name for p in data.parties],
            instrument=_instrument_json(instrument),
            approved_by=_approver_json(approver),
            stage_to=Stage.INVESTIGATION.value,
        ),
    )
    _after_commit(case.pk, action.code)
    return ActResult(
        case=case,
        status="done",
        action=action.code,
        instrument=instrument,
        entry_hash=entry.entry_hash if entry else None,
    )


def _instrument_json(instrument: Instrument | None) -> dict[str, Any] | None:
    if instrument is None:
        return None
    return {
        "kind": instrument.kind,
        "id": instrument.pk,
        "claimed_date": instrument.claimed_date.isoformat() if instrument.claimed_date else None,
    }


def _approver_json(approver: User | None) -> dict[str, Any] | None:
    if approver is None:
        return None
    duties = [str(Duty(d).label) for d in sorted(approver.duty_codes) if d in LEADERS]
    return {"id": approver.pk, "name": approver.full_name, "duty": "、".join(duties)}


# ---------------------------------------------------------------- acts on an existing case


def case_act(
    *,
    user: User,
    case_id: int,
    action: str,
    party_ids: list[int] | None = None,
    reason: str = "",
    claimed_date: date | None = None,
    options: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> ActResult:
    """Take ``action`` on the case. Raises NotFound if the user may not see the case, NotAllowed
    (403) for the wrong agency, unit or duty, Conflict (409) for the wrong stage, a pending
    transfer or a stale ``expected_version``. A handler's act that needs approval becomes a
    呈请 in the leader's inbox instead (status ``pending_approval``)."""
    spec = ACTIONS.get(action)
    if spec is None or spec.creates:
        raise ValidationFailed("未知的办案操作", code="unknown_action")
    with transaction.atomic():
        case = _lock_case(case_id)
        # the unit holding the case took part in it: the visibility query is only needed for others
        if case.holder_unit_id != user.unit_id and not _can_see(user, case):
            raise NotFound("案件不存在", code="case_not_found")
        if expected_version is not None and expected_version != case.version:
            raise Conflict("案件已被他人更新，请刷新后重试", code="version_conflict")
        all_parties, pending = _parties_and_pending(case)
        unit = _check_may_act(user, case, spec, pending=pending)
        if spec.needs_reason and not reason.strip():
            raise ValidationFailed(f"「{spec.label}」须填写理由", code="reason_required")
        parties = _select_parties(case, spec, party_ids, all_parties)
        ctx = ActContext(
            case=case, user=user, now=servertime.now(), parties=parties, options=dict(options or {})
        )
        for guard in spec.guards:
            GUARDS[guard](ctx)
        if spec.approval and not user.has_duty(*LEADERS):
            request = ActionRequest.objects.create(
                case=case,
                action=spec.code,
                payload={
                    "party_ids": [p.pk for p in parties] if spec.per_party else [],
                    "reason": reason,
                    "claimed_date": claimed_date.isoformat() if claimed_date else None,
                    "options": ctx.options,
                },
                unit=unit,
                requested_by=user,
                requested_at=ctx.now,
            )
            entry = ledger_append(
                case_id=case.pk,
                actor=_actor(user, spec.duties),
                action=f"request:{spec.code}",
                payload=_payload(spec, label=f"呈请{spec.label}", request_id=request.pk, reason=reason),
            )
            _after_commit(case.pk, f"request:{spec.code}")
            return ActResult(
                case=case,
                status="pending_approval",
                action=spec.code,
                request=request,
                entry_hash=entry.entry_hash if entry else None,
            )
        return _apply(
            ctx,
            spec,
            unit=unit,
            approver=user if spec.approval else None,
            reason=reason,
            claimed=claimed_date,
            all_parties=all_parties,
        )


def _apply(
    ctx: ActContext,
    spec: Action,
    *,
    unit: Unit,
    approver: User | None,
    reason: str,
    claimed: date | None,
    all_parties: list[Party],
    actor: Actor | None = None,
) -> ActResult:
    """The write. ``all_parties``: the case's parties (``ctx.parties`` are among them); ``actor``
    names the platform itself for an act it takes on its own (判决生效 when the appeal period ends)."""
    case, user, now, parties = ctx.case, ctx.user, ctx.now, ctx.parties
    from_stage = Stage(case.stage)
    party_ids = [p.pk for p in parties] if spec.per_party else None
    messages: list[str] = []
    custody_before = {p.pk: p.custody for p in all_parties}

    # custody of the selected persons
    custody_flag_changed = False
    if spec.custody_to is not None:
        for party in parties:
            custody_flag_changed |= Custody(party.custody).in_custody != spec.custody_to.in_custody
            party.custody = spec.custody_to.value
            party.custody_since = now
        _set_custody(parties, spec.custody_to, now)

    # options the act carries
    if spec.code == "pronounce" or (spec.code == "decide_appeal" and "verdict" in ctx.options):
        case.verdict = ctx.options["verdict"]
    if spec.code == "return_for_supplementary":
        case.supplementary_count += 1
    if spec.code == "remand":
        case.remand_count += 1

    clocks.clocks_stop(case=case, rules=spec.stops, at=now, by=spec.code, party_ids=party_ids)

    instrument = _issue_instrument(
        case=case,
        action=spec,
        unit=unit,
        user=user,
        at=now,
        claimed=claimed,
        party_ids=party_ids,
        reason=reason,
    )
    transfer = None
    to_unit: Unit | None = None
    if spec.to_stage is not None:
        case.stage = spec.to_stage.value
    if spec.transfer_to is not None:
        to_unit = resolve_target(case, spec.transfer_to)
        transfer = Transfer(
            case=case,
            action=spec.code,
            from_unit=unit,
            to_unit=to_unit,
            from_stage=from_stage.value,
            to_stage=(spec.to_stage or from_stage).value,
            sent_at=now,
            sent_by=user,
            reason=reason,
            party_ids=[p.pk for p in parties] if spec.per_party else [],
        )
        fastsql.insert([transfer])
        _participate(case, to_unit, now)
        messages.append(f"已移送{to_unit.name}，待其受理")
    elif spec.hand_back is not None:
        to_unit = resolve_target(case, spec.hand_back)
        case.holder_unit = to_unit
        case.handler = None
        _participate(case, to_unit, now)
        messages.append(f"已送达{to_unit.name}")

    if spec.to_stage in TERMINAL_STAGES:
        clocks.clocks_stop_all(case=case, at=now, by=spec.code)
        released = [p for p in all_parties if Custody(p.custody).in_custody]
        for party in released:
            party.custody, party.custody_since = Custody.RELEASED.value, now
        _set_custody(released, Custody.RELEASED, now)

    case.version += 1
    case.updated_at = now
    if custody_flag_changed:  # in or out of custody: limits ending on a holiday may move (刑诉法105)
        clocks.clocks_follow_custody(case=case, parties=all_parties)
    _start_clocks(
        case, spec, parties, to_unit if spec.hand_back and to_unit else unit, now, When.ACT, all_parties
    )
    execution.on_act(
        case=case,
        code=spec.code,
        custody_to=spec.custody_to.value if spec.custody_to else None,
        selected=parties,
        all_parties=all_parties,
        was=custody_before,
        at=now,
        unit=unit,
    )
    if spec.to_stage == Stage.EFFECTIVE:
        basis = "final" if spec.code == "decide_appeal" else "appeal_expired"
        execution.on_effective(case=case, all_parties=all_parties, at=now, unit=unit, basis=basis)
    if spec.code == "offender_report":
        execution.on_report(case=case, parties=parties, at=now, unit=unit)
    if spec.code == "deliver_for_execution" and to_unit is not None:
        execution.on_deliver(case=case, unit=unit, user=user, at=now, to_unit=to_unit)

    entry = _case_entry(
        case,
        actor=actor or _actor(user, spec.duties),
        action=spec.code,
        payload=_payload(
            spec,
            stage_from=from_stage.value,
            stage_to=case.stage,
            party_ids=party_ids,
            party_names=[p.name for p in parties] if spec.per_party else None,
            reason=reason,
            instrument=_instrument_json(instrument),
            approved_by=_approver_json(approver),
            to_unit=to_unit.name if to_unit else None,
            transfer_id=transfer.pk if transfer else None,
            verdict=case.verdict if spec.code in {"pronounce", "decide_appeal"} else None,
        ),
    )
    _write_case(case, entry)
    _after_commit(case.pk, spec.code)
    return ActResult(
        case=case,
        status="done",
        action=spec.code,
        transfer=transfer,
        instrument=instrument,
        entry_hash=entry.entry_hash if entry else None,
        messages=messages,
    )


def _set_custody(parties: list[Party], custody: Custody, at: datetime) -> None:
    """One UPDATE of the persons' custody (the instances are already changed)."""
    if parties:
        ids = [p.pk for p in parties]
        fastsql.update_where(
            Party,
            {"custody": custody.value, "custody_since": at},
            f"id IN ({fastsql.placeholders(len(ids))})",
            ids,
        )


# ---------------------------------------------------------------- inbox: accept / return


def _lock_transfer(user: User, transfer_id: int) -> tuple[Transfer, Case, Unit, str]:
    """The transfer, its case (locked) and the user's unit, and the name of the sending unit."""
    unit = _require_unit(user)
    case = _lock_case_of_transfer(transfer_id)
    if case is None:
        raise NotFound("移送记录不存在", code="transfer_not_found")
    units = Unit._meta.db_table
    transfer, (from_unit_name,) = fastsql.fetch(
        Transfer,
        f"JOIN {units} su ON su.id = {{t}}.from_unit_id WHERE {{t}}.id = %s",
        [transfer_id],
        extra="su.name",
    )[0]
    if transfer.to_unit_id != unit.pk:
        if _can_see(user, case):
            raise NotAllowed("只有接收单位可以受理或退回", code="not_receiver")
        raise NotFound("移送记录不存在", code="transfer_not_found")
    if transfer.status != TransferStatus.PENDING:
        raise Conflict(f"该移送已{TransferStatus(transfer.status).label}", code="transfer_decided")
    if not user.has_duty(*(HANDLERS | COURT_STAFF | CORRECTIONS_STAFF)):
        raise NotAllowed("您的职责不能受理案件", code="duty_forbidden")
    return transfer, case, unit, from_unit_name


def transfer_accept(*, user: User, transfer_id: int, options: dict[str, Any] | None = None) -> ActResult:
    """受理: the receiving unit takes the case; clocks that run from receipt (收到) start now."""
    options = dict(options or {})
    _check_execution_intake(user, transfer_id)
    with transaction.atomic():
        transfer, case, unit, from_unit_name = _lock_transfer(user, transfer_id)
        spec = ACTIONS[transfer.action]
        now = servertime.now()
        if unit.agency == "court" and transfer.action == "indict":
            procedure = options.get("procedure") or ("fast" if case.fast_track and case.plea else "ordinary")
            if procedure not in TRIAL_PROCEDURES:
                raise ValidationFailed("审判程序无效", code="procedure_invalid")
            if procedure == "fast" and not case.plea:
                raise ValidationFailed(
                    "速裁程序仅适用于认罪认罚案件（刑事诉讼法第222条）", code="procedure_invalid"
                )
            case.trial_procedure = procedure
        transfer.status = TransferStatus.ACCEPTED
        transfer.decided_at, transfer.decided_by = now, user
        fastsql.update(transfer, ["status", "decided_at", "decided_by_id"])
        case.holder_unit, case.handler = unit, user
        if unit.agency == "procuratorate":
            case.procuratorate_unit = unit
        elif unit.kind == UnitKind.BASIC_COURT:
            case.court_unit = unit
        all_parties = fastsql.fetch_models(
            Party, "WHERE {t}.case_id = %s ORDER BY {t}.ordinal, {t}.id", [case.pk]
        )
        execution.on_accept(case=case, code=spec.code, all_parties=all_parties, at=now, unit=unit)
        if spec.transfer_to == Target.EXECUTION:
            case.execution_unit = unit
            execution.on_execution_accepted(case=case, all_parties=all_parties, at=now, unit=unit)
            for party in all_parties:
                party.custody, party.custody_since = Custody.SERVING.value, now
            _set_custody(all_parties, Custody.SERVING, now)
        case.version += 1
        case.updated_at = now
        parties = [p for p in all_parties if not transfer.party_ids or p.pk in transfer.party_ids]
        _start_clocks(case, spec, parties, unit, now, When.ACCEPT, all_parties)
        entry = _case_entry(
            case,
            actor=_actor(user, HANDLERS | COURT_STAFF | CORRECTIONS_STAFF),
            action="accept",
            payload={
                "label": f"受理（{spec.label}）",
                "transfer_id": transfer.pk,
                "from_unit": from_unit_name,
                "stage_to": case.stage,
                "trial_procedure": case.trial_procedure or None,
            },
        )
        _write_case(case, entry)
        _after_commit(case.pk, "accept")
        return ActResult(
            case=case,
            status="done",
            action="accept",
            transfer=transfer,
            entry_hash=entry.entry_hash if entry else None,
        )


def _check_execution_intake(user: User, transfer_id: int) -> None:
    """Before the accepting transaction (so that the alert of a refusal survives it): an executing
    unit may not take in someone held in another case, nor a prisoner without his documents."""
    transfer = (
        Transfer.objects.filter(pk=transfer_id, status=TransferStatus.PENDING).select_related("case").first()
    )
    if transfer is None or user.unit is None or transfer.to_unit_id != user.unit_id:
        return  # ``_lock_transfer`` gives the precise error
    if ACTIONS[transfer.action].transfer_to != Target.EXECUTION:
        return
    parties = list(Party.objects.filter(case_id=transfer.case_id))
    execution.check_intake(case=transfer.case, unit=user.unit, parties=parties)


def judgment_effective_auto(*, case_id: int) -> ActResult | None:
    """判决生效 computed by the platform (刑诉法第259条): the appeal period of the first-instance
    judgment ran out with no appeal or protest. Idempotent: None when the case is no longer waiting
    (an appeal came in, or another worker got there first)."""
    spec = ACTIONS["judgment_effective"]
    with transaction.atomic():
        case = _lock_case(case_id)
        if Stage(case.stage) != Stage.APPEAL_PERIOD:
            return None
        all_parties, pending = _parties_and_pending(case)
        if pending:
            return None
        unit = Unit.objects.get(pk=case.holder_unit_id)
        system = system_user()
        ctx = ActContext(case=case, user=system, now=servertime.now(), parties=all_parties, options={})
        try:
            for guard in spec.guards:
                GUARDS[guard](ctx)
        except Conflict:
            return None
        actor = Actor(
            user_id=None,
            name="协同平台",
            duty="自动计算（上诉、抗诉期满）",
            unit_id=unit.pk,
            unit_name=unit.name,
        )
        return _apply(
            ctx, spec, unit=unit, approver=None, reason="", claimed=None, all_parties=all_parties, actor=actor
        )


def system_user() -> User:
    """The account the platform's own acts are recorded under (never logs in: no usable password)."""
    user, _ = User.objects.get_or_create(
        username="xietong-platform",
        defaults={"full_name": "协同平台", "is_active": False, "password": "!"},
    )
    return user


def transfer_return(*, user: User, transfer_id: int, reason: str) -> ActResult:
    """退回: the receiver refuses the file with a reason; the case goes back to the sender's stage
    and the sender's clocks stopped by the sending run on."""
    if not reason.strip():
        raise ValidationFailed("退回须填写理由", code="reason_required")
    with transaction.atomic():
        transfer, case, _unit, from_unit_name = _lock_transfer(user, transfer_id)
        spec = ACTIONS[transfer.action]
        now = servertime.now()
        transfer.status = TransferStatus.RETURNED
        transfer.decided_at, transfer.decided_by, transfer.reason = now, user, reason
        fastsql.update(transfer, ["status", "decided_at", "decided_by_id", "reason"])
        case.stage = transfer.from_stage
        if spec.code == "return_for_supplementary":
            case.supplementary_count -= 1
        case.version += 1
        case.updated_at = now
        clocks.clocks_reopen(case=case, by=spec.code, stopped_at=transfer.sent_at)
        entry = _case_entry(
            case,
            actor=_actor(user, HANDLERS | COURT_STAFF | CORRECTIONS_STAFF),
            action="return",
            payload={
                "label": f"退回（{spec.label}）",
                "transfer_id": transfer.pk,
                "reason": reason,
                "to_unit": from_unit_name,
                "stage_to": case.stage,
            },
        )
        _write_case(case, entry)
        _after_commit(case.pk, "return")
        return ActResult(
            case=case,
            status="done",
            action="return",
            transfer=transfer,
            entry_hash=entry.entry_hash if entry else None,
        )


# ---------------------------------------------------------------- approvals (呈请审批)


def request_decide(*, user: User, request_id: int, approve: bool, reason: str = "") -> ActResult:
    """A leader of the requesting unit approves (the act is then taken, in the handler's name, with
    the leader recorded as approver) or refuses with a reason."""
    unit = _require_unit(user)
    if not user.has_duty(*LEADERS):
        raise NotAllowed("只有部门负责人或分管领导可以审批", code="duty_forbidden")
    with transaction.atomic():
        request = ActionRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None or request.unit_id != unit.pk:
            raise NotFound("审批事项不存在", code="request_not_found")
        if request.status != RequestStatus.PENDING:
            raise Conflict(f"该事项已{RequestStatus(request.status).label}", code="request_decided")
        spec = ACTIONS[request.action]
        now = servertime.now()
        if not approve:
            if not reason.strip():
                raise ValidationFailed("不批准须填写理由", code="reason_required")
            request.status, request.decided_by, request.decided_at, request.reason = (
                RequestStatus.REJECTED,
                user,
                now,
                reason,
            )
            request.save()
            if request.case_id:
                _lock_case(request.case_id)
                ledger_append(
                    case_id=request.case_id,
                    actor=_actor(user, LEADERS),
                    action=f"reject:{spec.code}",
                    payload=_payload(spec, label=f"不批准{spec.label}", request_id=request.pk, reason=reason),
                )
                _after_commit(request.case_id, f"reject:{spec.code}")
            return ActResult(case=request.case, status="rejected", action=spec.code, request=request)
        requester = User.objects.select_related("unit").get(pk=request.requested_by_id)
        payload = request.payload
        claimed = date.fromisoformat(payload["claimed_date"]) if payload.get("claimed_date") else None
        if spec.creates:
            data = _register_from_json(payload["register"])
            town = _validate_register(data)
            result = _register_apply(
                user=requester, approver=user, unit=unit, town=town, data=data, claimed=claimed
            )
        else:
            case = _lock_case(request.case_id)  # type: ignore[arg-type]
            all_parties, pending = _parties_and_pending(case)
            _check_may_act(requester, case, spec, pending=pending)
            parties = _select_parties(case, spec, payload.get("party_ids") or None, all_parties)
            ctx = ActContext(
                case=case,
                user=requester,
                now=now,
                parties=parties,
                options=dict(payload.get("options") or {}),
            )
            for guard in spec.guards:
                GUARDS[guard](ctx)
            result = _apply(
                ctx,
                spec,
                unit=unit,
                approver=user,
                reason=payload.get("reason", ""),
                claimed=claimed,
                all_parties=all_parties,
            )
        request.status, request.decided_by, request.decided_at = RequestStatus.APPROVED, user, now
        request.case = result.case
        request.save()
        result.request = request
        return result
