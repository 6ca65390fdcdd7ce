"""The one door for instruments (F5): draft → 提交签发 → 签发 (a leader of the unit) → 盖章 (the
unit's seal: 文号, PDF, PAdES signature, ledger) → 送达 (electronic to a unit at once; on paper to a
person with a 送达回证) → 撤回 / 更正 (requested with a reason, approved by a leader).

Every function checks the user's unit and duty, takes its rows' locks, writes, and appends to the
case's ledger in one transaction. A refused attempt that a supervisor must know of (a backdated
成文日期, an edit of a sealed instrument, a seal for another unit) raises a supervision alert
*before* the refusal, outside the transaction that the refusal rolls back."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from xietong import servertime
from xietong.cases.clocks import clocks_stop
from xietong.cases.models import Case, Party
from xietong.cases.selectors import case_get_visible
from xietong.counters import next_in_sequence
from xietong.dossier.blobs import blob_open, blob_put_bytes
from xietong.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from xietong.instruments import catalogue, crypto, drafting, render, signing
from xietong.instruments.models import (
    Instrument,
    InstrumentStatus,
    InstrumentView,
    NumberCounter,
    PendingChange,
    Service,
    ServiceMethod,
    SigningAuthority,
    UnitSeal,
)
from xietong.ledger.services import Actor, actor_of, ledger_append
from xietong.orgs.models import LEADER_DUTIES, Duty, Unit, UnitKind, User
from xietong.supervision.models import AlertKind
from xietong.supervision.services import alert_raise

DRAFTERS = (Duty.HANDLER, Duty.DEPT_HEAD, Duty.LEADER, Duty.CLERK, Duty.CORRECTIONS_OFFICER)


def _actor(user: User) -> Actor:
    return actor_of(user, preferred=(Duty.LEADER, Duty.DEPT_HEAD, Duty.HANDLER, Duty.CLERK))


def _entry(instrument: Instrument, label: str, *, internal: bool = False, **extra: Any) -> dict[str, Any]:
    """A ledger payload for a step of ``instrument``. Steps inside the issuing unit (draft, 签发,
    退回) are that agency's own business (``scope: agency``); the seal, service and revocation are
    shown to every agency on the case."""
    body: dict[str, Any] = {
        "label": label,
        "instrument": {"id": instrument.pk, "kind": instrument.kind, "number": instrument.number},
        **extra,
    }
    if internal:
        body["scope"] = "agency"
    return body


# ---------------------------------------------------------------- numbering (文号)

_AGENCY_MARK = {"police": "公(刑)", "procuratorate": "检刑", "court": "法", "justice": "司"}


def _place(unit: Unit) -> str:
    region = unit.region
    if region.level == "town" and region.parent_id:
        region = region.parent  # type: ignore[assignment]
    name = region.name
    for suffix in ("苏州工业园区", "工业园区"):
        if name.startswith(suffix):
            return "园"
    for suffix in ("市", "区", "县"):
        name = name.removesuffix(suffix)
    return name[:3]


def numbering_unit(unit: Unit) -> Unit:
    """Whose 文号 an instrument carries: a 派出所's criminal instruments are issued in the name of its
    county-level bureau (公安机关办理刑事案件程序规定: 县级以上公安机关), so they share its numbers."""
    if unit.kind == UnitKind.POLICE_STATION and unit.parent_id:
        return unit.parent  # type: ignore[return-value]
    return unit


def number_text(unit: Unit, kind: catalogue.Kind, year: int, seq: int) -> str:
    """文号 as written on the document: 苏姑苏公(刑)提捕字〔2026〕12号, 苏姑苏检刑批捕〔2026〕3号,
    （2026）苏姑苏法刑初45号."""
    place = "苏" + _place(unit)
    if unit.agency == "court":
        return f"（{year}）{place}法{kind.word}{seq}号"
    word = f"{kind.word}字" if unit.agency == "police" else kind.word
    return f"{place}{_AGENCY_MARK.get(unit.agency, '')}{word}〔{year}〕{seq}号"


def _next_number(unit: Unit, kind: str, year: int) -> int:
    return next_in_sequence(NumberCounter, unit_id=unit.pk, kind=kind, year=year)


# ---------------------------------------------------------------- seals and the CA


@lru_cache(maxsize=1)
def _authority_cached(pk: int, der: bytes, key_encrypted: bytes) -> crypto.Issued:
    return crypto.Issued(crypto.load_certificate(der), crypto.decrypt_key(key_encrypted))


def authority() -> crypto.Issued:
    """The platform CA, created on first use (two processes racing create one: the row is unique)."""
    row = SigningAuthority.objects.order_by("pk").first()
    if row is None:
        issued = crypto.ca_create(servertime.now())
        with transaction.atomic():
            row = SigningAuthority.objects.select_for_update().order_by("pk").first()
            if row is None:
                row = SigningAuthority.objects.create(
                    name=crypto.CA_NAME,
                    certificate=issued.der,
                    key_encrypted=crypto.encrypt_key(issued.key),
                    created_at=servertime.now(),
                )
    return _authority_cached(row.pk, bytes(row.certificate), bytes(row.key_encrypted))


def authority_certificate_der() -> bytes:
    return authority().der


def seal_issue(unit: Unit) -> UnitSeal:
    """刻制电子印章: a new key pair, a certificate from the platform CA, the red round seal image."""
    from xietong.instruments import sm2
    from xietong.instruments.sealimage import seal_png

    ca = authority()
    now = servertime.now()
    issued = crypto.seal_issue(ca=ca, unit_name=unit.name, unit_code=unit.code, now=now)
    sm2_private, sm2_public = sm2.keypair()
    return UnitSeal.objects.create(
        sm2_public=sm2_public,
        sm2_key_encrypted=crypto.encrypt_bytes(sm2_private.encode()),
        unit=unit,
        serial=crypto.certificate_serial_hex(issued.certificate),
        certificate=issued.der,
        key_encrypted=crypto.encrypt_key(issued.key),
        image_png=seal_png(unit.name, bottom="电子印章"),
        created_at=now,
        not_after=issued.certificate.not_valid_after_utc,
    )


def seal_active(unit: Unit) -> UnitSeal:
    seal = UnitSeal.objects.filter(unit=unit, revoked_at__isnull=True).order_by("-created_at").first()
    return seal or seal_issue(unit)


def seal_revoke(*, user: User, seal_id: int, reason: str) -> UnitSeal:
    """吊销: only a system administrator. What it sealed still verifies, reported as sealed with a
    certificate revoked since that time."""
    if not user.has_duty(Duty.ADMIN):
        raise NotAllowed("只有系统管理员可以吊销电子印章", code="seal_revoke_forbidden")
    if not reason.strip():
        raise ValidationFailed("请填写吊销理由", code="reason_required")
    with transaction.atomic():
        seal = UnitSeal.objects.select_for_update().filter(pk=seal_id).first()
        if seal is None:
            raise NotFound("印章不存在", code="seal_not_found")
        if seal.revoked_at is None:
            seal.revoked_at = servertime.now()
            seal.revoked_reason = reason.strip()[:200]
            seal.save(update_fields=["revoked_at", "revoked_reason"])
    return seal


@lru_cache(maxsize=128)
def _material(
    seal_pk: int,
    serial: str,
    cert: bytes,
    key_encrypted: bytes,
    image: bytes,
    sm2_public: str,
    sm2_key: bytes,
) -> signing.SealMaterial:
    return signing.SealMaterial(
        serial=serial,
        certificate_der=cert,
        key=crypto.decrypt_key(key_encrypted),
        image_png=image,
        ca_der=authority().der,
        sm2_private=crypto.decrypt_bytes(sm2_key).decode() if sm2_key else "",
        sm2_public=sm2_public,
    )


def _material_of(seal: UnitSeal) -> signing.SealMaterial:
    return _material(
        seal.pk,
        seal.serial,
        bytes(seal.certificate),
        bytes(seal.key_encrypted),
        bytes(seal.image_png),
        seal.sm2_public,
        bytes(seal.sm2_key_encrypted or b""),
    )


# ---------------------------------------------------------------- drafts


def kind_of(instrument: Instrument) -> catalogue.Kind:
    spec = catalogue.kind(instrument.kind)
    if spec is None:
        raise NotFound(f"文书种类「{instrument.kind}」不在文书目录中", code="unknown_instrument_kind")
    return spec


def _parties(instrument: Instrument) -> list[Party]:
    qs = Party.objects.filter(case_id=instrument.case_id)
    if instrument.party_ids:
        qs = qs.filter(pk__in=instrument.party_ids)
    return list(qs.order_by("ordinal"))


def _request_number(case_id: int) -> str:
    number = (
        Instrument.objects.filter(case_id=case_id, kind="提请批准逮捕书", status=InstrumentStatus.SEALED)
        .order_by("-sealed_at")
        .values_list("number", flat=True)
        .first()
    )
    return number or "（提请批准逮捕书文号）"


def receiver_of(instrument: Instrument, spec: catalogue.Kind) -> Unit | None:
    """The unit served electronically: where the instrument's act sent the file (a transfer still
    waiting to be accepted included), else the case's unit of the kind's target agency."""
    if not spec.serve_to:
        return None
    if instrument.action:
        from xietong.cases.models import Transfer

        transfer = (
            Transfer.objects.filter(case_id=instrument.case_id, action=instrument.action)
            .select_related("to_unit")
            .order_by("-pk")
            .first()
        )
        if transfer is not None and (
            spec.serve_to == "execution" or transfer.to_unit.agency == _agency_of_target(spec.serve_to)
        ):
            return transfer.to_unit
    return drafting.recipient_unit(instrument.case, spec)


def _agency_of_target(target: str) -> str:
    return "justice" if target == "execution" else target


def _context(instrument: Instrument, today: date) -> dict[str, Any]:
    spec = kind_of(instrument)
    return drafting.context_for(
        case=instrument.case,
        kind=spec,
        unit=instrument.unit,
        receiver=receiver_of(instrument, spec),
        parties=_parties(instrument),
        reason=instrument.reason,
        today=today,
        extra={"request_number": _request_number(instrument.case_id)},
    )


def draft_text(instrument: Instrument, today: date | None = None) -> tuple[str, str]:
    """(body, closing) of the instrument: the handler's text when he edited it, else the template."""
    today = today or timezone.localdate(servertime.now())
    spec = kind_of(instrument)
    ctx = _context(instrument, today)
    body = instrument.body or drafting.fill(spec.body, ctx)
    closing = drafting.fill(spec.closing, ctx) if spec.closing else ""
    return body, closing


def _check_unit_member(user: User, instrument: Instrument, *, duties: tuple[str, ...], what: str) -> None:
    if user.unit_id != instrument.unit_id:
        raise NotAllowed(f"只有{instrument.unit.name}的人员可以{what}", code="other_unit")
    if not user.has_duty(*duties):
        raise NotAllowed(f"您的职责不能{what}", code="duty_required")


def _load(user: User, instrument_id: int, *, lock: bool = False) -> Instrument:
    qs = Instrument.objects.select_related("case", "unit", "unit__region")
    if lock:
        qs = qs.select_for_update(of=("self",)) if connection.vendor == "postgresql" else qs
    instrument = qs.filter(pk=instrument_id).first()
    if instrument is None:
        raise NotFound("文书不存在", code="instrument_not_found")
    case_get_visible(user=user, case_id=instrument.case_id)  # 404 for a case the user may not see
    return instrument


def instrument_get(*, user: User, instrument_id: int) -> Instrument:
    return _load(user, instrument_id)


def instrument_create(
    *, user: User, case_id: int, kind: str, party_ids: list[int] | None = None, reason: str = ""
) -> Instrument:
    """A draft made by hand (e.g. 传票, 纠正违法通知书): the kind's agency must be the user's."""
    case = case_get_visible(user=user, case_id=case_id)
    spec = catalogue.kind(kind)
    if spec is None:
        raise ValidationFailed(f"文书种类「{kind}」不在文书目录中", code="unknown_instrument_kind")
    unit = user.unit
    if unit is None or unit.agency != spec.agency:
        raise NotAllowed(
            f"「{kind}」应由{catalogue._TARGET_LABEL.get(spec.agency, spec.agency)}制作", code="wrong_agency"
        )
    if not user.has_duty(*DRAFTERS):
        raise NotAllowed("您的职责不能起草文书", code="duty_required")
    ids = [int(i) for i in party_ids or []]
    if ids and Party.objects.filter(case=case, pk__in=ids).count() != len(set(ids)):
        raise ValidationFailed("所选人员不属于本案", code="bad_party")
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()
        instrument = Instrument.objects.create(
            case=case,
            kind=kind,
            unit=unit,
            party_ids=ids,
            reason=reason.strip()[:2000],
            issued_by=user,
            issued_at=servertime.now(),
        )
        ledger_append(
            case_id=case.pk,
            actor=_actor(user),
            action="instrument_draft",
            payload=_entry(instrument, f"起草{kind}", internal=True),
        )
    return instrument


def draft_for_act(
    *,
    case: Case,
    kind: str,
    action: str,
    unit: Unit,
    user: User,
    at: datetime,
    claimed: date | None,
    party_ids: list[int],
    reason: str = "",
) -> Instrument:
    """The draft an act calls for (called by ``cases.services`` inside the act's transaction): one
    INSERT; its text is drafted from the template when first shown."""
    return Instrument.objects.create(
        case=case,
        kind=kind,
        action=action,
        unit=unit,
        party_ids=party_ids,
        reason=reason[:2000],
        claimed_date=claimed,
        issued_by=user,
        issued_at=at,
    )


def _who(user: User) -> str:
    return user.full_name or user.username


MAX_SOURCE_BYTES = 50 * 1024 * 1024


def instrument_upload_source(*, user: User, instrument_id: int, data: bytes) -> Instrument:
    """A court seals its own judgment document: the PDF from its trial system replaces the template
    text of a 刑事判决书 / 裁定书 draft (the verdict's structured fields stay on the case)."""
    import io

    instrument = _load(user, instrument_id)
    if instrument.is_final:
        _refuse_sealed_edit(user, instrument, "替换")
    _check_unit_member(user, instrument, duties=DRAFTERS, what="上传裁判文书")
    if not kind_of(instrument).uploadable:
        raise ValidationFailed(f"「{instrument.kind}」由平台按模板制作，不能上传替换", code="not_uploadable")
    if not data.startswith(b"%PDF") or len(data) > MAX_SOURCE_BYTES:
        raise ValidationFailed("请上传不超过 50MB 的 PDF 文件", code="bad_source")
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = len(reader.pages)
        if reader.is_encrypted or pages == 0:
            raise ValidationFailed("PDF 已加密或没有页面", code="bad_source")
    except (PdfReadError, ValueError, KeyError) as exc:
        raise ValidationFailed("文件不是有效的 PDF", code="bad_source") from exc
    blob = blob_put_bytes(data, content_type="application/pdf")
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=instrument.case_id).first()
        locked = Instrument.objects.select_for_update().get(pk=instrument.pk)
        if locked.status != InstrumentStatus.DRAFT:
            raise Conflict("文书已提交签发，请先由领导退回修改", code="instrument_not_draft")
        locked.source, locked.source_pages = blob, pages
        locked.body = f"（上传的裁判文书，共{pages}页，SHA-256 {blob.sha256[:16]}…）"
        locked.version += 1
        locked.save(update_fields=["source", "source_pages", "body", "version"])
        ledger_append(
            case_id=locked.case_id,
            actor=_actor(user),
            action="instrument_source",
            payload=_entry(locked, f"上传{locked.kind}", internal=True, sha256=blob.sha256, pages=pages),
        )
    return locked


def _refuse_sealed_edit(user: User, instrument: Instrument, what: str) -> None:
    alert_raise(
        kind=AlertKind.ALTER_SEALED,
        message=f"{_who(user)}试图{what}已盖章的{instrument.kind}（{instrument.number}）",
        case_id=instrument.case_id,
        unit_id=user.unit_id,
        user_id=user.pk,
        details={"instrument": instrument.pk},
    )
    raise Conflict("文书已盖章，不能修改；如需变更请申请撤回或更正", code="instrument_sealed")


def instrument_edit(
    *,
    user: User,
    instrument_id: int,
    body: str,
    recipient: str = "",
    claimed_date: date | None = None,
    expected_version: int | None = None,
) -> Instrument:
    instrument = _load(user, instrument_id)
    if instrument.is_final:
        _refuse_sealed_edit(user, instrument, "修改")
    _check_unit_member(user, instrument, duties=DRAFTERS, what="修改本文书")
    if len(body) > 50_000:
        raise ValidationFailed("正文过长（最多五万字）", code="body_too_long")
    with transaction.atomic():
        locked = Instrument.objects.select_for_update().get(pk=instrument.pk)
        if locked.is_final:
            raise Conflict("文书已盖章，不能修改", code="instrument_sealed")
        if locked.status != InstrumentStatus.DRAFT:
            raise Conflict("文书已提交签发，请先由领导退回修改", code="instrument_not_draft")
        if expected_version is not None and locked.version != expected_version:
            raise Conflict("文书已被他人修改，请刷新后重试", code="version_mismatch")
        locked.body = body.strip()
        locked.recipient = recipient.strip()[:100]
        locked.claimed_date = claimed_date
        locked.version += 1
        locked.save(update_fields=["body", "recipient", "claimed_date", "version"])
    return locked


def _transition(
    user: User,
    instrument_id: int,
    *,
    allowed_from: set[str],
    duties: tuple[str, ...],
    what: str,
    apply: Any,
    ledger_action: str,
    label: str,
    internal: bool = False,
    payload: dict[str, Any] | None = None,
) -> Instrument:
    instrument = _load(user, instrument_id)
    _check_unit_member(user, instrument, duties=duties, what=what)
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=instrument.case_id).first()
        locked = Instrument.objects.select_for_update().select_related("case", "unit").get(pk=instrument.pk)
        if locked.status not in allowed_from:
            raise Conflict(
                f"文书当前状态为「{locked.get_status_display()}」，不能{what}", code="instrument_wrong_status"
            )
        now = servertime.now()
        extra = apply(locked, now) or {}
        ledger_append(
            case_id=locked.case_id,
            actor=_actor(user),
            action=ledger_action,
            payload=_entry(locked, label, internal=internal, **(payload or {}), **extra),
        )
    return locked


def instrument_submit(*, user: User, instrument_id: int) -> Instrument:
    def apply(i: Instrument, now: datetime) -> None:
        if not i.body:  # freeze the drafted text: what the leader approves is what gets sealed
            i.body, _ = draft_text(i)
        i.status = InstrumentStatus.SUBMITTED
        i.submitted_at = now
        i.rejected_reason = ""
        i.save(update_fields=["body", "status", "submitted_at", "rejected_reason"])

    return _transition(
        user,
        instrument_id,
        allowed_from={InstrumentStatus.DRAFT},
        duties=DRAFTERS,
        what="提交签发",
        apply=apply,
        ledger_action="instrument_submit",
        label="文书提交签发",
        internal=True,
    )


def instrument_approve(*, user: User, instrument_id: int) -> Instrument:
    """签发: a 部门负责人 or 分管领导 of the issuing unit approves the text."""

    def apply(i: Instrument, now: datetime) -> None:
        i.status = InstrumentStatus.APPROVED
        i.approved_by = user
        i.approved_at = now
        i.save(update_fields=["status", "approved_by", "approved_at"])

    return _transition(
        user,
        instrument_id,
        allowed_from={InstrumentStatus.SUBMITTED},
        duties=tuple(LEADER_DUTIES),
        what="签发文书",
        apply=apply,
        ledger_action="instrument_approve",
        label="签发文书",
        internal=True,
    )


def instrument_reject(*, user: User, instrument_id: int, reason: str) -> Instrument:
    if not reason.strip():
        raise ValidationFailed("请填写退回修改意见", code="reason_required")

    def apply(i: Instrument, now: datetime) -> None:
        i.status = InstrumentStatus.DRAFT
        i.rejected_reason = reason.strip()[:500]
        i.save(update_fields=["status", "rejected_reason"])

    return _transition(
        user,
        instrument_id,
        allowed_from={InstrumentStatus.SUBMITTED, InstrumentStatus.APPROVED},
        duties=tuple(LEADER_DUTIES),
        what="退回文书",
        apply=apply,
        ledger_action="instrument_reject",
        label="文书退回修改",
        internal=True,
        payload={"reason": reason.strip()[:500]},
    )


# ---------------------------------------------------------------- sealing


def verify_url(token: str) -> str:
    return f"{settings.XIETONG_PUBLIC_URL.rstrip('/')}/verify/t/{token}"


def _qr_svg(url: str) -> str:
    """The QR code as an inline PNG <img>: a bitmap is ≈ 7 ms cheaper to lay out and write than
    segno's SVG path (measured; bench seal)."""
    import base64
    import io

    import segno

    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=4, border=1)
    data = base64.b64encode(buf.getvalue()).decode()
    return f'<img src="data:image/png;base64,{data}" alt="核验二维码" style="image-rendering:pixelated">'


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    seal_box: render.SealBox


def render_instrument(instrument: Instrument, *, today: date, draft: bool) -> Rendered:
    spec = kind_of(instrument)
    if instrument.source_id:
        with blob_open(instrument.source) as fh:  # type: ignore[arg-type]
            source = fh.read()
        if draft:
            return Rendered(source, render.SealBox(page=0, box=(0, 0, 0, 0)))
        token = instrument.public_token or ""
        pdf, box = render.stamp_uploaded(
            source,
            number=instrument.number or "",
            qr_svg=_qr_svg(verify_url(token)),
            verify_url=verify_url(token),
        )
        return Rendered(pdf, box)
    body, closing = draft_text(instrument, today)
    token = instrument.public_token or ""
    sheet = render.Sheet(
        issuer=instrument.unit.name,
        title=spec.title,
        number=instrument.number,
        paragraphs=render.paragraphs_of(body),
        closing=render.closing_of(closing),
        date_text=drafting.date_text(instrument.claimed_date or today),
        draft=draft,
        qr_svg=_qr_svg(verify_url(token)) if token else "",
        verify_url=verify_url(token) if token else "",
        signature_label="PAdES，ECDSA P-256/SHA-256",
    )
    pdf, box = render.render(sheet)
    return Rendered(pdf, box)


def _check_claimed_date(user: User, instrument: Instrument, today: date) -> None:
    """刑事诉讼法 has no rule for it; F14 does: a date written on the document may not lie before the
    server's date of the act by more than ``XIETONG_BACKDATE_DAYS`` (an alert), nor after it."""
    claimed = instrument.claimed_date
    if claimed is None:
        return
    if claimed > today:
        raise ValidationFailed("成文日期不能晚于盖章当日", code="claimed_date_in_future")
    allowed = settings.XIETONG_BACKDATE_DAYS
    if (today - claimed).days > allowed:
        alert_raise(
            kind=AlertKind.BACKDATE,
            message=(
                f"{user.full_name or user.username}盖章的{instrument.kind}成文日期填写为{claimed:%Y-%m-%d}，"
                f"早于服务器日期{today:%Y-%m-%d}超过{allowed}日"
            ),
            case_id=instrument.case_id,
            unit_id=instrument.unit_id,
            user_id=user.pk,
            details={
                "instrument": instrument.pk,
                "claimed": claimed.isoformat(),
                "server": today.isoformat(),
            },
        )
        raise ValidationFailed(
            f"成文日期早于今天超过{allowed}日，属于倒签，不能盖章（已记录监督预警）", code="backdated"
        )


def instrument_seal(*, user: User, instrument_id: int) -> Instrument:
    """盖章 in three steps, so that sealers do not queue behind one another's rendering:

    1. a short transaction takes the 文号 (the per unit/kind/year counter row is locked only for
       that) and marks the instrument 盖章中 with it;
    2. the PDF is rendered and signed and the file stored, holding no lock;
    3. a second transaction records the seal: PDF hash in the ledger, service, clocks.

    A number once taken stays with its instrument: if step 2 or 3 fails (or the process dies), the
    instrument stays 盖章中 with its number and the next attempt finishes it under that same
    number — so the register has no gaps and no number is used twice. Two attempts at once both
    render, and the second to record is refused (409)."""
    instrument = _load(user, instrument_id)
    if user.unit_id != instrument.unit_id:
        alert_raise(
            kind=AlertKind.FOREIGN_SEAL,
            message=f"{_who(user)}（{user.unit.name if user.unit else '无单位'}）试图以"
            f"{instrument.unit.name}的印章盖章{instrument.kind}",
            case_id=instrument.case_id,
            unit_id=user.unit_id,
            user_id=user.pk,
            details={"instrument": instrument.pk, "seal_unit": instrument.unit_id},
        )
        raise NotAllowed(f"只能使用本单位印章；本文书应由{instrument.unit.name}盖章", code="other_unit_seal")
    if not user.has_duty(*DRAFTERS):
        raise NotAllowed("您的职责不能盖章", code="duty_required")
    today = timezone.localdate(servertime.now())
    _check_claimed_date(user, instrument, today)
    spec = kind_of(instrument)
    seal = seal_active(instrument.unit)
    material = _material_of(seal)

    numbered = _take_number(instrument, spec, today)  # 1
    numbered.case, numbered.unit = instrument.case, instrument.unit
    rendered = render_instrument(numbered, today=today, draft=False)  # 2
    signed = signing.sign_pdf(
        rendered.pdf,
        material=material,
        page=rendered.seal_box.page,
        box=rendered.seal_box.box,
        reason=f"文号：{numbered.number}；文书：{numbered.kind}",
        location=numbered.unit.name,
    )
    blob = blob_put_bytes(signed, content_type="application/pdf")
    sm2_record = None
    if material.sm2_private:
        from xietong.instruments import sm2

        sm2_record = sm2.seal_data(
            pdf=signed,
            private=material.sm2_private,
            public=material.sm2_public,
            seal_serial=seal.serial,
            unit=numbered.unit.name,
            number=numbered.number or "",
            kind=numbered.kind,
            at=servertime.now().isoformat(),
        )
    with transaction.atomic():  # 3
        Case.objects.select_for_update().filter(pk=instrument.case_id).first()
        locked = Instrument.objects.select_for_update().get(pk=instrument.pk)
        if locked.status != InstrumentStatus.SEALING or locked.number != numbered.number:
            raise Conflict(f"文书已由他人盖章（{locked.get_status_display()}）", code="instrument_sealed")
        locked.case, locked.unit = instrument.case, instrument.unit
        now = servertime.now()
        locked.pdf = blob
        locked.pdf_sha256 = blob.sha256
        locked.sm2_seal = sm2_record
        locked.seal = seal
        locked.sealed_by = user
        locked.sealed_at = now
        locked.status = InstrumentStatus.SEALED
        services = _serve_on_seal(locked, spec, now)
        entry = ledger_append(
            case_id=locked.case_id,
            actor=_actor(user),
            action="instrument_seal",
            payload=_entry(
                locked,
                f"盖章{'并送达' if services else ''}",
                pdf_sha256=blob.sha256,
                seal_serial=seal.serial,
                claimed_date=locked.claimed_date.isoformat() if locked.claimed_date else None,
                to_unit="、".join(s.recipient_unit.name for s in services if s.recipient_unit) or None,
            ),
        )
        locked.entry_hash = entry.entry_hash if entry else ""
        locked.save()
        if spec.service_rule and any(s.method == ServiceMethod.ELECTRONIC for s in services):
            clocks_stop(
                case=locked.case,
                rules=[spec.service_rule],
                at=now,
                by=f"instrument:{locked.pk}",
                party_ids=None,
            )
        if locked.supersedes_id:
            Instrument.objects.filter(pk=locked.supersedes_id).update(
                status=InstrumentStatus.SUPERSEDED, revoked_at=now
            )
    return locked


def _take_number(instrument: Instrument, spec: catalogue.Kind, today: date) -> Instrument:
    """Step 1 of sealing: the 文号, the verification token and the frozen text, committed at once."""
    with transaction.atomic():
        locked = Instrument.objects.select_for_update().get(pk=instrument.pk)
        if locked.status == InstrumentStatus.SEALING:
            return locked  # an earlier attempt took the number: finish under it
        if locked.status != InstrumentStatus.APPROVED:
            raise Conflict(
                f"文书当前状态为「{locked.get_status_display()}」，须经签发后才能盖章",
                code="instrument_not_approved",
            )
        locked.case, locked.unit = instrument.case, instrument.unit
        year = timezone.localtime(servertime.now()).year
        issuer = numbering_unit(locked.unit)
        seq = _next_number(issuer, spec.word, year)  # one sequence per 字: kinds sharing a word share it
        locked.number = number_text(issuer, spec, year, seq)
        locked.number_year, locked.number_seq = year, seq
        locked.public_token = secrets.token_urlsafe(12)
        locked.claimed_date = locked.claimed_date or today
        if not locked.body:
            locked.body, _ = draft_text(locked, today)
        locked.status = InstrumentStatus.SEALING
        locked.save(
            update_fields=[
                "number",
                "number_year",
                "number_seq",
                "public_token",
                "claimed_date",
                "body",
                "status",
            ]
        )
    return locked


def _serve_on_seal(instrument: Instrument, spec: catalogue.Kind, now: datetime) -> list[Service]:
    receivers: list[Unit] = []
    receiver = receiver_of(instrument, spec)
    if receiver is not None:
        receivers.append(receiver)
    if spec.to_corrections:  # 假释、暂予监外执行、撤销: the corrections unit that supervises him too
        from xietong.execution.selectors import corrections_units_of

        receivers += corrections_units_of(case_id=instrument.case_id, party_ids=instrument.party_ids)
    rows = []
    served = {instrument.unit_id}
    for unit in receivers:
        if unit.pk not in served:
            served.add(unit.pk)
            rows.append(
                Service(
                    instrument=instrument,
                    method=ServiceMethod.ELECTRONIC,
                    recipient_unit=unit,
                    delivered_at=now,
                )
            )
    if spec.to_person:
        rows.append(
            Service(instrument=instrument, method=ServiceMethod.PERSONAL, recipient_name=spec.to_person)
        )
    return Service.objects.bulk_create(rows) if rows else []


# ---------------------------------------------------------------- service, opening, receipts


def instrument_open(*, user: User, instrument_id: int) -> Instrument:
    """Log the view; the first opening by someone of a receiving unit is the time of 签收."""
    instrument = _load(user, instrument_id)
    now = servertime.now()
    InstrumentView.objects.create(instrument=instrument, user=user, at=now)
    pending = Service.objects.filter(
        instrument=instrument, recipient_unit_id=user.unit_id, opened_at__isnull=True
    ).first()
    if pending is not None:
        with transaction.atomic():
            Case.objects.select_for_update().filter(pk=instrument.case_id).first()
            updated = Service.objects.filter(pk=pending.pk, opened_at__isnull=True).update(
                opened_at=now, opened_by=user
            )
            if updated:
                ledger_append(
                    case_id=instrument.case_id,
                    actor=_actor(user),
                    action="instrument_opened",
                    payload=_entry(instrument, "签收文书", service=pending.pk),
                )
    return instrument


def instrument_pdf(*, user: User, instrument_id: int) -> tuple[Instrument, bytes]:
    """The sealed PDF (logged as an opening), or a watermarked preview of a draft."""
    instrument = instrument_open(user=user, instrument_id=instrument_id)
    if instrument.pdf_id:
        with blob_open(instrument.pdf) as fh:  # type: ignore[arg-type]
            return instrument, fh.read()
    if user.unit_id != instrument.unit_id:
        raise NotFound("文书尚未盖章送达", code="instrument_not_sealed")
    return instrument, render_instrument(
        instrument, today=timezone.localdate(servertime.now()), draft=True
    ).pdf


def receipt_upload(
    *, user: User, service_id: int, data: bytes, content_type: str, signed_on: date, recipient_name: str = ""
) -> Service:
    """送达回证 scanned and uploaded back: the service to a person is complete on the signed date."""
    service = Service.objects.select_related("instrument", "instrument__unit").filter(pk=service_id).first()
    if service is None:
        raise NotFound("送达记录不存在", code="service_not_found")
    instrument = _load(user, service.instrument_id)
    _check_unit_member(user, instrument, duties=DRAFTERS, what="上传送达回证")
    if service.method != ServiceMethod.PERSONAL:
        raise Conflict("电子送达无需回证", code="not_personal_service")
    if content_type not in {"application/pdf", "image/jpeg", "image/png"}:
        raise ValidationFailed("送达回证须为 PDF、JPEG 或 PNG 文件", code="bad_receipt_type")
    if not data or len(data) > 20 * 1024 * 1024:
        raise ValidationFailed("送达回证文件为空或超过 20MB", code="bad_receipt_size")
    today = timezone.localdate(servertime.now())
    if signed_on > today or (instrument.sealed_at and signed_on < timezone.localdate(instrument.sealed_at)):
        raise ValidationFailed("签收日期须在盖章之后、今天之前", code="bad_signed_on")
    spec = kind_of(instrument)
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=instrument.case_id).first()
        locked = Service.objects.select_for_update().get(pk=service.pk)
        if locked.receipt_id:
            raise Conflict("该送达回证已上传", code="receipt_exists")
        blob = blob_put_bytes(data, content_type=content_type)
        now = servertime.now()
        locked.receipt = blob
        locked.receipt_signed_on = signed_on
        locked.receipt_uploaded_by = user
        locked.delivered_at = now
        if recipient_name.strip():
            locked.recipient_name = recipient_name.strip()[:100]
        locked.save()
        ledger_append(
            case_id=instrument.case_id,
            actor=_actor(user),
            action="instrument_receipt",
            payload=_entry(
                instrument,
                "上传送达回证",
                recipient=locked.recipient_name,
                signed_on=signed_on.isoformat(),
                receipt_sha256=blob.sha256,
            ),
        )
        if spec.service_rule:
            clocks_stop(
                case=instrument.case,
                rules=[spec.service_rule],
                at=now,
                by=f"instrument:{instrument.pk}",
                party_ids=None,
            )
    return locked


# ---------------------------------------------------------------- withdrawal and correction


def instrument_change_request(*, user: User, instrument_id: int, change: str, reason: str) -> Instrument:
    if change not in {PendingChange.WITHDRAW, PendingChange.CORRECT}:
        raise ValidationFailed("请选择撤回或更正", code="bad_change")
    if not reason.strip():
        raise ValidationFailed("请填写撤回或更正的理由", code="reason_required")

    def apply(i: Instrument, now: datetime) -> dict[str, Any]:
        if i.pending_change:
            raise Conflict("已有待审批的撤回或更正申请", code="change_pending")
        i.pending_change = change
        i.pending_reason = reason.strip()[:500]
        i.pending_by = user
        i.save(update_fields=["pending_change", "pending_reason", "pending_by"])
        return {"change": change, "reason": i.pending_reason}

    return _transition(
        user,
        instrument_id,
        allowed_from={InstrumentStatus.SEALED},
        duties=DRAFTERS,
        what="申请撤回或更正",
        apply=apply,
        ledger_action="instrument_change_request",
        label="申请撤回或更正文书",
        internal=True,
    )


def instrument_change_decide(*, user: User, instrument_id: int, approve: bool) -> Instrument:
    """A leader approves (撤回: the instrument is revoked now; 更正: a new draft that supersedes it
    when sealed) or refuses the pending request."""
    created: list[Instrument] = []

    def apply(i: Instrument, now: datetime) -> dict[str, Any]:
        if not i.pending_change:
            raise Conflict("没有待审批的撤回或更正申请", code="no_change_pending")
        change, reason = i.pending_change, i.pending_reason
        out: dict[str, Any] = {"change": change, "approved": approve, "reason": reason}
        if approve and change == PendingChange.WITHDRAW:
            i.status = InstrumentStatus.REVOKED
            i.revoked_at = now
            i.revoked_reason = reason
        elif approve:
            i.revoked_reason = reason
            created.append(
                Instrument.objects.create(
                    case=i.case,
                    kind=i.kind,
                    action=i.action,
                    unit=i.unit,
                    party_ids=i.party_ids,
                    recipient=i.recipient,
                    body=i.body,
                    reason=i.reason,
                    issued_by=i.pending_by or user,
                    issued_at=now,
                    supersedes=i,
                )
            )
            out["correction"] = created[0].pk
        i.pending_change = ""
        i.save()
        return out

    instrument = _transition(
        user,
        instrument_id,
        allowed_from={InstrumentStatus.SEALED},
        duties=tuple(LEADER_DUTIES),
        what="审批撤回或更正",
        apply=apply,
        ledger_action="instrument_change_decide",
        label="审批撤回或更正文书",
    )
    return created[0] if created else instrument


STEPS = ("submit", "approve", "reject", "seal", "change", "decide")


def instrument_step(
    *, user: User, instrument_id: int, step: str, reason: str = "", change: str = "", approve: bool = True
) -> Instrument:
    """One named step (for the API and the pages, which post a step name)."""
    if step == "submit":
        return instrument_submit(user=user, instrument_id=instrument_id)
    if step == "approve":
        return instrument_approve(user=user, instrument_id=instrument_id)
    if step == "reject":
        return instrument_reject(user=user, instrument_id=instrument_id, reason=reason)
    if step == "seal":
        return instrument_seal(user=user, instrument_id=instrument_id)
    if step == "change":
        return instrument_change_request(user=user, instrument_id=instrument_id, change=change, reason=reason)
    if step == "decide":
        return instrument_change_decide(user=user, instrument_id=instrument_id, approve=approve)
    raise ValidationFailed("未知的文书操作", code="unknown_step")


# ---------------------------------------------------------------- verification


@dataclass
class Verification:
    check: signing.SignatureCheck
    sha256: str
    instrument: Instrument | None
    seal: UnitSeal | None
    proof: dict[str, Any] | None
    proof_note: str
    sm2_valid: bool | None = None  # the 国密 seal data: None when the instrument has none
    sm2_problem: str = ""

    @property
    def verdict(self) -> str:
        c = self.check
        if not c.signed:
            return "invalid"
        if not (c.intact and c.trusted):
            return "altered" if c.trusted or not c.intact else "untrusted"
        if not c.entire_file:
            return "appended"
        if self.instrument is not None and self.instrument.pdf_sha256 != self.sha256:
            # Intact as far as the signature can tell (e.g. a byte of the signature container's
            # padding changed), but not the file the platform sealed: the register is stricter.
            return "differs"
        if self.instrument is not None and self.instrument.status == InstrumentStatus.REVOKED:
            return "revoked"
        if self.instrument is not None and self.instrument.status == InstrumentStatus.SUPERSEDED:
            return "superseded"
        if (
            self.seal is not None
            and self.seal.revoked_at
            and c.signed_at
            and c.signed_at >= self.seal.revoked_at
        ):
            return "seal_revoked"
        if self.instrument is None:
            return "unknown"
        return "valid"


VERDICT_LABELS = {
    "valid": "有效：印章完好，文书未被改动，未撤回",
    "invalid": "无法核验：不是本平台盖章的文书",
    "altered": "无效：盖章后文件内容被改动",
    "untrusted": "无效：签章证书不是本平台签发的",
    "appended": "无效：盖章后文件被追加了内容",
    "revoked": "已撤回：文书原件完好，但已被依法撤回",
    "superseded": "已更正：文书原件完好，但已被更正后的文书取代",
    "seal_revoked": "无效：盖章时该印章证书已被吊销",
    "unknown": "印章完好，但平台中找不到该文书的登记",
    "differs": "无效：与平台登记的盖章原件不一致",
}


def verify_document(data: bytes) -> Verification:
    """``/verify``: the file's own proof (against the CA) and what the platform knows of it."""
    from xietong.ledger.selectors import inclusion_proof_for

    sha = hashlib.sha256(data).hexdigest()
    check = signing.check_pdf(data, ca_der=authority_certificate_der())
    instrument = Instrument.objects.select_related("unit", "case", "seal").filter(pdf_sha256=sha).first() or (
        Instrument.objects.select_related("unit", "case", "seal").filter(number=check.number).first()
        if check.number
        else None
    )
    seal = (
        UnitSeal.objects.filter(serial=check.certificate_serial).first() if check.certificate_serial else None
    )
    proof, note = None, ""
    if instrument is not None and instrument.entry_hash:
        try:
            proof = inclusion_proof_for(entry_hash=instrument.entry_hash)
        except NotFound as exc:
            note = exc.message
    result = Verification(
        check=check, sha256=sha, instrument=instrument, seal=seal, proof=proof, proof_note=note
    )
    if instrument is not None and instrument.sm2_seal and instrument.seal is not None:
        from xietong.instruments import sm2

        result.sm2_valid, result.sm2_problem = sm2.check(
            instrument.sm2_seal, data, instrument.seal.sm2_public
        )
    return result


def proof_bundle(instrument: Instrument) -> dict[str, Any]:
    """What an offline verifier needs besides the PDF and the CA certificate to prove that the
    sealing was recorded in the ledger: the sealing entry (its hash recomputable from its fields, its
    payload naming the PDF's SHA-256), its Merkle inclusion proof and the signed tree head; checked
    with the ledger's Ed25519 public key (``xietong instruments verify --proof``)."""
    from xietong.ledger import keys
    from xietong.ledger.chain import timestamp_text
    from xietong.ledger.models import LedgerEntry, TreeHead
    from xietong.ledger.selectors import inclusion_proof_for

    entry = (
        LedgerEntry.objects.filter(entry_hash=instrument.entry_hash).first()
        if instrument.entry_hash
        else None
    )
    if entry is None:
        raise NotFound("该文书没有盖章留痕记录", code="entry_not_found")
    proof = inclusion_proof_for(entry_hash=entry.entry_hash)
    head = TreeHead.objects.get(size=proof["tree_size"])
    return {
        "format": "xietong-instrument-proof/1",
        "instrument": {
            "kind": instrument.kind,
            "number": instrument.number,
            "pdf_sha256": instrument.pdf_sha256,
        },
        "entry": {
            "case_id": entry.case_id,
            "seq": entry.seq,
            "recorded_at": timestamp_text(entry.recorded_at),
            "actor_id": entry.actor_id,
            "actor_name": entry.actor_name,
            "actor_duty": entry.actor_duty,
            "unit_id": entry.unit_id,
            "unit_name": entry.unit_name,
            "action": entry.action,
            "payload": entry.payload,
            "prev_hash": entry.prev_hash,
            "entry_hash": entry.entry_hash,
        },
        "inclusion": proof,
        "tree_head": {
            "size": head.size,
            "root_hash": head.root_hash,
            "signed_at": head.signed_at,
            "signature": head.signature,
            "key_id": head.key_id,
        },
        "ledger_public_key": keys.public_key_b64(),
    }


def check_proof_bundle(bundle: dict[str, Any], pdf: bytes, ledger_public_key: bytes) -> list[str]:
    """Offline check of ``proof_bundle`` against the PDF and the ledger's public key (raw Ed25519).
    Returns the problems (none: the sealing of exactly this file is in the signed ledger)."""
    import json

    from xietong.ledger import keys, merkle
    from xietong.ledger.chain import entry_hash

    problems = []
    try:
        entry = dict(bundle["entry"])
        claimed = entry.pop("entry_hash")
        if entry_hash(**entry) != claimed:
            problems.append("留痕记录的内容与其哈希不符")
        payload = json.loads(entry["payload"])
        if payload.get("pdf_sha256") != hashlib.sha256(pdf).hexdigest():
            problems.append("留痕记录中的文件哈希不是本文件的哈希")
        inclusion, head = bundle["inclusion"], bundle["tree_head"]
        leaf = merkle.leaf_hash(bytes.fromhex(claimed))
        proof = [bytes.fromhex(p) for p in inclusion["proof"]]
        if int(inclusion["tree_size"]) != int(head["size"]) or inclusion["root_hash"] != head["root_hash"]:
            problems.append("存在证明与签名树头不对应")
        if not merkle.verify_inclusion(
            leaf, int(inclusion["leaf_index"]), int(head["size"]), proof, bytes.fromhex(head["root_hash"])
        ):
            problems.append("默克尔存在证明不成立")
        if not keys.verify_tree_head(
            int(head["size"]), head["root_hash"], head["signed_at"], head["signature"], ledger_public_key
        ):
            problems.append("树头签名不是该账本公钥签发的")
    except (KeyError, TypeError, ValueError) as exc:
        problems.append(f"存在证明文件格式错误：{type(exc).__name__}")
    return problems


def instrument_by_token(token: str) -> Instrument:
    instrument = Instrument.objects.select_related("unit", "seal").filter(public_token=token).first()
    if instrument is None:
        raise NotFound("核验码无效", code="bad_token")
    return instrument


def sealed_pdf_bytes(instrument: Instrument) -> bytes:
    if not instrument.pdf_id:
        raise NotFound("文书尚未盖章", code="instrument_not_sealed")
    with blob_open(instrument.pdf) as fh:  # type: ignore[arg-type]
        return fh.read()


def number_register(*, unit: Unit, year: int) -> list[Instrument]:
    """文号登记簿: every number the unit used in the year, voided ones (撤回、更正) shown as such."""
    from django.db.models import Q

    mine = Q(unit=unit) | Q(unit__parent=unit, unit__kind=UnitKind.POLICE_STATION)
    return list(
        Instrument.objects.filter(mine, number_year=year)
        .exclude(number__isnull=True)
        .select_related("case")
        .order_by("kind", "number_seq")
    )


def backdate_window() -> timedelta:
    return timedelta(days=settings.XIETONG_BACKDATE_DAYS)
