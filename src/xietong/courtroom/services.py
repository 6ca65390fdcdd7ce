"""The courtroom's one door (F6, F18): open a hearing, join it in a role, drive the shared display,
record 举证/质证/认证, and a leader's private advice. Roles come from who the user is (court staff
of the trying court; the case's procuratorate; its leaders) or from a one-time screen code.

Every state change is checked here, not in the WebSocket consumer: a participant out of turn, an
item that is not this case's, a malformed display state — refused with a stable code, the attempt
logged as an event, and nothing broadcast."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn

from django.db import transaction

from xietong import servertime
from xietong.cases.models import Case
from xietong.cases.procedure import Stage
from xietong.cases.selectors import case_get_visible
from xietong.courtroom.models import (
    COURT_ROLES,
    PARTY_ROLES,
    Advice,
    EventKind,
    Hearing,
    HearingEvent,
    HearingStatus,
    Role,
    ScreenCode,
)
from xietong.errors import Conflict, DomainError, NotAllowed, NotFound, ValidationFailed
from xietong.ledger.services import actor_of, ledger_append
from xietong.orgs.models import LEADER_DUTIES, Duty, User

TRIAL_STAGES = {Stage.FIRST_INSTANCE.value, Stage.SECOND_INSTANCE.value}
CODE_TTL = timedelta(hours=12)
SCREEN_ROLES = {Role.PUBLIC, Role.DEFENDANT, Role.DEFENCE}


@dataclass(frozen=True)
class Seat:
    """Who is connected, as what."""

    hearing_id: int
    role: str
    user_id: int | None


def _court_role(user: User) -> str:
    if user.has_duty(Duty.CLERK) and not user.has_duty(Duty.HANDLER, *LEADER_DUTIES):
        return Role.CLERK
    return Role.PRESIDING if user.has_duty(*LEADER_DUTIES, Duty.HANDLER) else Role.JUDGE


def hearing_open(*, user: User, case_id: int) -> Hearing:
    """开庭: a judge or clerk of the court that holds the case in trial."""
    case = case_get_visible(user=user, case_id=case_id)
    if case.stage not in TRIAL_STAGES:
        raise Conflict("案件不在审判阶段，不能开庭", code="not_in_trial")
    if user.unit_id != case.holder_unit_id or not user.has_duty(Duty.HANDLER, Duty.CLERK, *LEADER_DUTIES):
        raise NotAllowed("只有审理本案的法院审判人员可以开庭", code="not_trial_court")
    now = servertime.now()
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()
        hearing = Hearing.objects.create(
            case=case,
            court_id=case.holder_unit_id,
            title=f"{case.title}（{case.number}）庭审",
            opened_by=user,
            opened_at=now,
        )
        ledger_append(
            case_id=case.pk,
            actor=actor_of(user, preferred=(Duty.HANDLER, Duty.CLERK, Duty.LEADER)),
            action="hearing_open",
            payload={"label": "开庭", "hearing": hearing.pk},
        )
    return hearing


def role_of(user: User, hearing: Hearing) -> str | None:
    """The role a signed-in user takes in ``hearing``, or None (may not join)."""
    if not user.is_authenticated or user.unit is None:
        return None
    case = hearing.case
    if user.unit_id == hearing.court_id:
        return _court_role(user)
    if case.procuratorate_unit_id and user.unit_id == case.procuratorate_unit_id:
        return Role.LEADER if user.has_duty(*LEADER_DUTIES) else Role.PROSECUTOR
    procu = case.procuratorate_unit
    if procu is not None and user.has_duty(*LEADER_DUTIES) and procu.path.startswith(user.unit.path):
        return Role.LEADER  # a leader of a higher procuratorate follows the hearing
    return None


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def screen_code_issue(*, user: User, hearing_id: int, role: str) -> str:
    hearing = _hearing(hearing_id)
    if role_of(user, hearing) not in COURT_ROLES:
        raise NotAllowed("只有审判人员可以生成屏幕接入码", code="not_court")
    if role not in SCREEN_ROLES:
        raise ValidationFailed("接入码只用于公共显示屏、被告人屏和辩护人屏", code="bad_screen_role")
    code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8))
    ScreenCode.objects.create(
        hearing=hearing, role=role, code_sha256=_hash(code), expires_at=servertime.now() + CODE_TTL
    )
    return code


def screen_code_use(*, hearing_id: int, code: str) -> str:
    """The role a one-time code gives; it cannot be used again."""
    now = servertime.now()
    with transaction.atomic():
        row = (
            ScreenCode.objects.select_for_update()
            .filter(hearing_id=hearing_id, code_sha256=_hash(code))
            .first()
        )
        if row is None or row.used_at is not None or row.expires_at <= now:
            raise NotAllowed("接入码无效、已使用或已过期", code="bad_screen_code")
        row.used_at = now
        row.save(update_fields=["used_at"])
    return str(row.role)


def _hearing(hearing_id: int) -> Hearing:
    hearing = Hearing.objects.select_related("case", "case__procuratorate_unit").filter(pk=hearing_id).first()
    if hearing is None:
        raise NotFound("庭审不存在", code="hearing_not_found")
    return hearing


def snapshot(hearing: Hearing, role: str) -> dict[str, Any]:
    """What a screen in ``role`` may show: the public and the defendant's screens never show an
    item that has not been presented (出示) in court."""
    state = with_image(hearing.pk, dict(hearing.state))
    if role in {Role.PUBLIC, Role.DEFENDANT} and state.get("item") not in hearing.presented:
        state = {}
    return {
        "type": "state",
        "version": hearing.version,
        "presenter": hearing.presenter,
        "status": hearing.status,
        "state": state,
    }


def _record(hearing_id: int, case_id: int, user_id: int | None, role: str, label: str, **data: Any) -> None:
    """A step of the 举证质证 record in the case's ledger (inside the caller's transaction; the case
    row is locked first, as every ledger writer does)."""
    Case.objects.select_for_update().filter(pk=case_id).first()
    user = User.objects.filter(pk=user_id).select_related("unit").first() if user_id else None
    if user is not None:
        actor = actor_of(user, preferred=(Duty.HANDLER, Duty.LEADER, Duty.CLERK))
    else:  # a courtroom screen (the defence's) has no account: recorded by its role
        from xietong.ledger.services import Actor

        actor = Actor(user_id=None, name=Role(role).label, duty=Role(role).label, unit_id=None, unit_name="")
    ledger_append(
        case_id=case_id,
        actor=actor,
        action=f"hearing_{data.pop('kind')}",
        payload={"label": label, "hearing": hearing_id, "role": role, **data},
    )


def _refuse(
    seat: Seat, code: str, message: str, data: dict[str, Any], error: DomainError | None = None
) -> NoReturn:
    HearingEvent.objects.create(
        hearing_id=seat.hearing_id,
        kind=EventKind.REFUSED,
        role=seat.role,
        user_id=seat.user_id,
        data={"code": code, "message": message, "attempt": data},
        at=servertime.now(),
    )
    raise error or NotAllowed(message, code=code)


def _clean_state(hearing: Hearing, raw: Any) -> dict[str, Any]:
    """A display state, validated: an item of this case, numbers in range, nothing else kept."""
    if not isinstance(raw, dict):
        raise ValidationFailed("显示状态格式错误", code="bad_state")
    item = raw.get("item")
    if not isinstance(item, str) or ":" not in item:
        raise ValidationFailed("请指定证据", code="bad_item")
    kind, _, ident = item.partition(":")
    if not ident.isdigit():
        raise ValidationFailed("证据编号错误", code="bad_item")
    from xietong.dossier.models import Evidence, Page

    if item in hearing.presented:
        ok = True  # checked when it was first presented; items never change case
    elif kind == "page":
        ok = Page.objects.filter(pk=int(ident), volume__case_id=hearing.case_id).exists()
    elif kind == "evidence":
        ok = Evidence.objects.filter(pk=int(ident), case_id=hearing.case_id).exists()
    else:
        ok = False
    if not ok:
        raise ValidationFailed("该证据不属于本案", code="foreign_item")

    def number(name: str, low: float, high: float, default: float) -> float:
        value = raw.get(name, default)
        if not isinstance(value, int | float) or not low <= float(value) <= high:
            raise ValidationFailed(f"{name} 超出范围", code="bad_state")
        return float(value)

    def box(name: str, size: int) -> list[float] | None:
        value = raw.get(name)
        if value is None:
            return None
        if (
            not isinstance(value, list)
            or len(value) != size
            or not all(isinstance(v, int | float) and 0 <= v <= 1 for v in value)
        ):
            raise ValidationFailed(f"{name} 格式错误", code="bad_state")
        return [float(v) for v in value]

    return {
        "item": item,
        "zoom": number("zoom", 0.25, 8, 1),
        "position": number("position", 0, 86_400, 0),
        "playing": bool(raw.get("playing", False)),
        "highlight": box("highlight", 4),
        "pointer": box("pointer", 2),
    }


def _may_display(seat: Seat, hearing: Hearing) -> bool:
    if hearing.status == HearingStatus.DELIBERATION:
        return seat.role in COURT_ROLES
    return seat.role in {hearing.presenter, Role.PRESIDING}


def display(*, seat: Seat, raw: dict[str, Any], purpose: str = "") -> Hearing:
    """The presenter moves the shared display. A new item is 出示: recorded, with what it is meant to
    prove, and from then on the public screen may show it. Refusals are logged before any
    transaction opens (a rollback would erase the log)."""
    hearing = _hearing(seat.hearing_id)
    if hearing.status == HearingStatus.CLOSED:
        raise Conflict("庭审已结束", code="hearing_closed")
    if not _may_display(seat, hearing):
        _refuse(seat, "out_of_turn", "现在不是您举证", raw)
    try:
        state = _clean_state(hearing, raw)
    except ValidationFailed as exc:
        _refuse(seat, exc.code, exc.message, raw if isinstance(raw, dict) else {"raw": str(raw)[:500]}, exc)
    with transaction.atomic():
        hearing = Hearing.objects.select_for_update().get(pk=seat.hearing_id)
        if not _may_display(seat, hearing):  # the floor changed hands meanwhile
            raise NotAllowed("现在不是您举证", code="out_of_turn")
        if hearing.status == HearingStatus.DELIBERATION and state["item"] not in hearing.presented:
            raise ValidationFailed("合议时只能调取庭审中出示过的证据", code="not_presented")
        now = servertime.now()
        hearing.newly_presented = state["item"] not in hearing.presented  # type: ignore[attr-defined]
        if state["item"] not in hearing.presented:
            hearing.presented = [*hearing.presented, state["item"]]
            _record(
                hearing.pk,
                hearing.case_id,
                seat.user_id,
                seat.role,
                f"举证：出示{state['item']}",
                kind="present",
                item=state["item"],
                purpose=purpose[:500],
            )
            HearingEvent.objects.create(
                hearing=hearing,
                kind=EventKind.PRESENT,
                role=seat.role,
                user_id=seat.user_id,
                item=state["item"],
                data={"purpose": purpose[:500]},
                at=now,
            )
        hearing.state = state
        hearing.version += 1
        hearing.save(update_fields=["state", "version", "presented"])
    return hearing


def turn_grant(*, seat: Seat, role: str) -> Hearing:
    """The presiding judge gives the floor (举证) to a party."""
    if seat.role != Role.PRESIDING:
        _refuse(seat, "not_presiding", "只有审判长可以指定举证方", {"role": role})
    if role not in PARTY_ROLES | {Role.PRESIDING}:
        raise ValidationFailed("举证方只能是公诉人、辩护人或审判长", code="bad_role")
    with transaction.atomic():
        hearing = Hearing.objects.select_for_update().get(pk=seat.hearing_id)
        hearing.presenter = role
        hearing.version += 1
        hearing.save(update_fields=["presenter", "version"])
        HearingEvent.objects.create(
            hearing=hearing,
            kind=EventKind.TURN,
            role=seat.role,
            user_id=seat.user_id,
            data={"presenter": role},
            at=servertime.now(),
        )
    return hearing


OPINIONS = ("authenticity", "legality", "relevance")


def _event_row(hearing: Hearing, kind: str, seat: Seat, item: str, data: dict[str, Any]) -> HearingEvent:
    return HearingEvent.objects.create(
        hearing=hearing,
        kind=kind,
        role=seat.role,
        user_id=seat.user_id,
        item=item,
        data=data,
        at=servertime.now(),
    )


def hearing_status(*, seat: Seat, status: str) -> Hearing:
    """The presiding judge moves the hearing: 庭审中 → 合议 (the judges recall presented items on
    their screens) → 闭庭."""
    if seat.role != Role.PRESIDING:
        _refuse(seat, "not_presiding", "只有审判长可以变更庭审状态", {"status": status})
    if status not in HearingStatus.values:
        raise ValidationFailed("未知的庭审状态", code="bad_status")
    with transaction.atomic():
        hearing = Hearing.objects.select_for_update().get(pk=seat.hearing_id)
        if hearing.status == HearingStatus.CLOSED:
            raise Conflict("庭审已结束", code="hearing_closed")
        hearing.status = status
        hearing.version += 1
        if status == HearingStatus.CLOSED:
            hearing.closed_at = servertime.now()
        hearing.save(update_fields=["status", "version", "closed_at"])
        _record(
            hearing.pk,
            hearing.case_id,
            seat.user_id,
            seat.role,
            HearingStatus(status).label,
            kind="status",
            status=status,
        )
    return hearing


def cross_examine(*, seat: Seat, item: str, opinions: dict[str, Any], reasons: str) -> HearingEvent:
    """质证: a party's opinion on the 真实性, 合法性, 关联性 of a presented item."""
    if seat.role not in PARTY_ROLES:
        _refuse(seat, "not_party", "只有公诉人和辩护人可以发表质证意见", {"item": item})
    hearing = _hearing(seat.hearing_id)
    if item not in hearing.presented:
        raise ValidationFailed("该证据尚未出示", code="not_presented")
    cleaned = {}
    for key in OPINIONS:
        if opinions.get(key) not in {"agree", "object"}:
            raise ValidationFailed("真实性、合法性、关联性须为“无异议”或“有异议”", code="bad_opinion")
        cleaned[key] = opinions[key]
    with transaction.atomic():
        _record(
            hearing.pk,
            hearing.case_id,
            seat.user_id,
            seat.role,
            f"质证：{item}",
            kind="cross",
            item=item,
            opinions=cleaned,
            reasons=reasons[:1000],
        )
        return _event_row(
            hearing, EventKind.CROSS, seat, item, {"opinions": cleaned, "reasons": reasons[:1000]}
        )


def note_add(*, seat: Seat, text: str) -> HearingEvent:
    """庭审笔录: the clerk's running record, line by line, live to every participant's screen (a
    leader following remotely included) and in the case's ledger."""
    if seat.role != Role.CLERK:
        _refuse(seat, "not_clerk", "只有书记员可以记录庭审笔录", {"text": text[:200]})
    text = text.strip()
    if not text:
        raise ValidationFailed("笔录内容不能为空", code="empty_note")
    hearing = _hearing(seat.hearing_id)
    with transaction.atomic():
        _record(
            hearing.pk, hearing.case_id, seat.user_id, seat.role, "庭审笔录", kind="note", text=text[:2000]
        )
        return _event_row(hearing, EventKind.NOTE, seat, "", {"text": text[:2000]})


def rule(*, seat: Seat, item: str, admitted: bool, reason: str = "") -> HearingEvent:
    """认证: the court admits or rejects a presented item."""
    if seat.role not in {Role.PRESIDING, Role.JUDGE}:
        _refuse(seat, "not_judge", "只有审判人员可以认证", {"item": item})
    hearing = _hearing(seat.hearing_id)
    if item not in hearing.presented:
        raise ValidationFailed("该证据尚未出示", code="not_presented")
    with transaction.atomic():
        _record(
            hearing.pk,
            hearing.case_id,
            seat.user_id,
            seat.role,
            f"认证：{item}",
            kind="ruling",
            item=item,
            admitted=bool(admitted),
            reason=reason[:1000],
        )
        return _event_row(
            hearing, EventKind.RULING, seat, item, {"admitted": bool(admitted), "reason": reason[:1000]}
        )


def advice_send(*, leader: User, hearing_id: int, officer_id: int, text: str) -> Advice:
    """F18: a leader's advice to his own officer in court, recorded in his agency's part of the
    ledger (``scope: agency``: the court and the defence never see it)."""
    hearing = _hearing(hearing_id)
    if role_of(leader, hearing) != Role.LEADER:
        raise NotAllowed("只有检察机关领导可以远程指挥", code="not_leader")
    officer = User.objects.filter(pk=officer_id).select_related("unit").first()
    if officer is None or role_of(officer, hearing) != Role.PROSECUTOR:
        raise ValidationFailed("只能向本案出庭的公诉人发送指导意见", code="bad_officer")
    if not text.strip():
        raise ValidationFailed("指导意见不能为空", code="empty_advice")
    now = servertime.now()
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=hearing.case_id).first()
        advice = Advice.objects.create(
            hearing=hearing, leader=leader, officer=officer, text=text.strip()[:1000], sent_at=now
        )
        ledger_append(
            case_id=hearing.case_id,
            actor=actor_of(leader, preferred=(Duty.LEADER, Duty.DEPT_HEAD)),
            action="hearing_advice",
            payload={
                "label": "远程指挥意见",
                "scope": "agency",
                "hearing": hearing.pk,
                "advice": advice.pk,
                "to": officer.full_name or officer.username,
                "text": advice.text,
            },
        )
    return advice


def advice_acknowledge(*, officer: User, advice_id: int) -> Advice:
    with transaction.atomic():
        advice = Advice.objects.select_for_update().select_related("hearing").filter(pk=advice_id).first()
        if advice is None or advice.officer_id != officer.pk:
            raise NotFound("指导意见不存在", code="advice_not_found")
        if advice.acknowledged_at is None:
            Case.objects.select_for_update().filter(pk=advice.hearing.case_id).first()
            advice.acknowledged_at = servertime.now()
            advice.save(update_fields=["acknowledged_at"])
            ledger_append(
                case_id=advice.hearing.case_id,
                actor=actor_of(officer, preferred=(Duty.HANDLER,)),
                action="hearing_advice_ack",
                payload={"label": "收到远程指挥意见", "scope": "agency", "advice": advice.pk},
            )
    return advice


# ---------------------------------------------------------------- screens: reconnect and images

_SCREEN_SALT = "xietong.courtroom.screen"
_IMAGE_SALT = "xietong.courtroom.image"


def screen_token_issue(*, hearing_id: int, role: str) -> str:
    """After a screen paired with its one-time code: a signed token for reconnecting (12 hours)."""
    from django.core import signing

    return signing.dumps({"h": hearing_id, "r": role}, salt=_SCREEN_SALT)


def screen_token_check(*, hearing_id: int, token: str) -> str:
    from django.core import signing

    try:
        data = signing.loads(token, salt=_SCREEN_SALT, max_age=CODE_TTL)
    except signing.BadSignature as exc:
        raise NotAllowed("屏幕凭证无效或已过期，请重新输入接入码", code="bad_screen_token") from exc
    if data.get("h") != hearing_id or data.get("r") not in SCREEN_ROLES:
        raise NotAllowed("屏幕凭证无效", code="bad_screen_token")
    return str(data["r"])


def with_image(hearing_id: int, state: dict[str, Any]) -> dict[str, Any]:
    """The display state with a signed, short-lived URL of the page image on it: a screen joined by
    code has no login, and may see exactly the items sent to it."""
    from django.core import signing

    item = state.get("item")
    if not isinstance(item, str):
        return state
    if item.startswith("evidence:"):
        from xietong.dossier.models import Evidence

        evidence = Evidence.objects.select_related("blob").filter(pk=int(item[9:])).first()
        if evidence is None:
            return state
        token = signing.dumps({"h": hearing_id, "e": evidence.pk}, salt=_IMAGE_SALT)
        kind = "video" if evidence.blob.content_type.startswith("video/") else "audio"
        return {**state, "media": f"/hearings/{hearing_id}/media?t={token}", "media_kind": kind}
    if not item.startswith("page:"):
        return state
    token = signing.dumps({"h": hearing_id, "p": int(item[5:])}, salt=_IMAGE_SALT)
    return {**state, "image": f"/hearings/{hearing_id}/image?t={token}"}


def media_evidence(*, hearing_id: int, token: str) -> Any:
    from django.core import signing

    from xietong.dossier.models import Evidence

    try:
        data = signing.loads(token, salt=_IMAGE_SALT, max_age=CODE_TTL)
    except signing.BadSignature as exc:
        raise NotFound("证据不存在", code="bad_media_token") from exc
    evidence = Evidence.objects.select_related("blob").filter(pk=data.get("e") or 0).first()
    if data.get("h") != hearing_id or evidence is None or evidence.case_id != _hearing(hearing_id).case_id:
        raise NotFound("证据不存在", code="bad_media_token")
    return evidence


def image_page(*, hearing_id: int, token: str) -> Any:
    from django.core import signing

    from xietong.dossier.models import Page

    try:
        data = signing.loads(token, salt=_IMAGE_SALT, max_age=CODE_TTL)
    except signing.BadSignature as exc:
        raise NotFound("图片不存在", code="bad_image_token") from exc
    if data.get("h") != hearing_id:
        raise NotFound("图片不存在", code="bad_image_token")
    page = Page.objects.select_related("image", "volume").filter(pk=data.get("p")).first()
    hearing = _hearing(hearing_id)
    if page is None or page.volume.case_id != hearing.case_id:
        raise NotFound("图片不存在", code="bad_image_token")
    return page
