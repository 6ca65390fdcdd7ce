"""Writes of the message board (留言板, F17): open a thread, post a message (the addressed unit's
first reply is the answer), close it, and the sweep that raises an alert when an answer is late.

Every write follows the one-door order: authorise → validate (text, citations, attachments) → store
the attachment bytes (content-addressed, before the transaction, as the dossier does) → one
transaction that locks the case row, writes the rows and appends the case's ledger entry. A refused
call writes nothing: every check that can refuse runs before any byte or row is stored."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat

from xietong import servertime
from xietong.board import rules
from xietong.board.models import Attachment, Citation, Message, Thread, ThreadKind, ThreadStatus
from xietong.board.selectors import thread_get_visible
from xietong.cases.clocks import holiday_calendar
from xietong.cases.models import Case, Participation
from xietong.cases.procedure import STAGE_LABELS, Stage
from xietong.cases.selectors import case_get_visible
from xietong.dossier import blobs, render
from xietong.dossier.models import Blob, Page, Volume
from xietong.dossier.sniff import LABELS, SCAN_TYPES, expected_type, same_kind, sniff_path
from xietong.errors import Conflict, NotAllowed, ValidationFailed
from xietong.instruments.models import Instrument
from xietong.ledger.services import Actor, actor_of, ledger_append
from xietong.orgs.models import LEADER_DUTIES, Agency, Duty, Unit, User
from xietong.supervision.models import Alert
from xietong.supervision.services import alerts_raise_once

# Who writes on the board: the people who handle cases, their leaders, clerks and corrections staff
# (not an administrator or a librarian, whose duty is not the case).
POSTERS = (Duty.HANDLER, Duty.DEPT_HEAD, Duty.LEADER, Duty.CLERK, Duty.CORRECTIONS_OFFICER)
MAX_TEXT = 5000
MAX_SUBJECT = 200
MAX_NOTE = 2000
MAX_CITATIONS = 20
MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024  # a message's file is a scan or a letter, not a volume
ATTACHMENT_TYPES = SCAN_TYPES  # PDF, JPEG, PNG, TIFF: what the dossier can show and check


@dataclass(frozen=True)
class CitationInput:
    """A reference into the e-file: a page by id, or by volume and page number, or an instrument."""

    page_id: int | None = None
    volume_id: int | None = None
    page_number: int | None = None
    instrument_id: int | None = None


@dataclass
class AttachmentInput:
    """A file as received (a Django ``UploadedFile`` or any binary file object) with its claimed
    name and size; the size is checked again while it is copied."""

    name: str
    size: int
    file: IO[bytes]


@dataclass
class _Resolved:
    page: Page | None = None
    instrument: Instrument | None = None

    def ledger(self) -> dict[str, Any]:
        if self.page is not None:
            return {"page": self.page.pk, "volume": self.page.volume.number, "number": self.page.number}
        instrument = self.instrument
        if instrument is None:
            return {}
        return {"instrument": instrument.pk, "kind": instrument.kind, "number": instrument.number}


@dataclass
class _Staged:
    name: str
    path: Path
    content_type: str
    size: int


def _actor(user: User) -> Actor:
    return actor_of(user, preferred=POSTERS)


def _poster_unit(user: User) -> Unit:
    unit = user.unit
    if unit is None:
        raise NotAllowed("您不属于任何单位，不能留言", code="no_unit")
    if not user.has_duty(*POSTERS):
        raise NotAllowed("您的职责不能在留言板留言", code="duty_forbidden")
    return unit


def _clean_text(text: str, *, what: str = "留言内容", limit: int = MAX_TEXT, code: str = "empty_text") -> str:
    cleaned = (text or "").replace("\r\n", "\n").strip()
    if not cleaned:
        raise ValidationFailed(f"{what}不能为空", code=code)
    if len(cleaned) > limit:
        raise ValidationFailed(f"{what}不能超过 {limit} 字", code="text_too_long")
    return cleaned


def _resolve_citations(case: Case, citations: Sequence[CitationInput]) -> list[_Resolved]:
    """Each citation must name one page or instrument of ``case``: a citation into another case's
    file is refused (the reader could not open it, and it would leak that file's existence)."""
    if len(citations) > MAX_CITATIONS:
        raise ValidationFailed(f"一条留言最多引用 {MAX_CITATIONS} 处", code="too_many_citations")
    out: list[_Resolved] = []
    seen: set[tuple[str, int]] = set()
    for cite in citations:
        if cite.instrument_id is not None and (cite.page_id is None and cite.volume_id is None):
            instrument = Instrument.objects.filter(pk=cite.instrument_id).first()
            if instrument is None or instrument.case_id != case.pk:
                raise ValidationFailed("引用的文书不属于本案", code="citation_other_case")
            key = ("instrument", instrument.pk)
            resolved = _Resolved(instrument=instrument)
        elif cite.page_id is not None and cite.volume_id is None and cite.instrument_id is None:
            page = Page.objects.select_related("volume").filter(pk=cite.page_id).first()
            if page is None or page.volume.case_id != case.pk:
                raise ValidationFailed("引用的卷宗页不属于本案", code="citation_other_case")
            key = ("page", page.pk)
            resolved = _Resolved(page=page)
        elif cite.volume_id is not None and cite.page_id is None and cite.instrument_id is None:
            volume = Volume.objects.filter(pk=cite.volume_id).first()
            if volume is None or volume.case_id != case.pk:
                raise ValidationFailed("引用的卷宗页不属于本案", code="citation_other_case")
            page = Page.objects.filter(volume=volume, number=cite.page_number or 0).first()
            if page is None:
                raise ValidationFailed(
                    f"第{volume.number}卷没有第{cite.page_number or '?'}页（页码从1起，且须已拆页）",
                    code="citation_no_page",
                )
            page.volume = volume
            key = ("page", page.pk)
            resolved = _Resolved(page=page)
        else:
            raise ValidationFailed("每处引用须是一页卷宗或一份文书", code="citation_invalid")
        if key not in seen:
            seen.add(key)
            out.append(resolved)
    return out


@contextmanager
def _staged(attachments: Sequence[AttachmentInput]) -> Iterator[list[_Staged]]:
    """Copy each attachment to a temp file and check it like the dossier checks an upload: size,
    the real type from its first bytes against its extension, and that it opens (a PDF that is
    encrypted or broken is refused). The temp files are removed on leaving."""
    if len(attachments) > MAX_ATTACHMENTS:
        raise ValidationFailed(f"一条留言最多 {MAX_ATTACHMENTS} 个附件", code="too_many_attachments")
    allowed = "、".join(LABELS[t] for t in sorted(ATTACHMENT_TYPES))
    folder = Path(settings.XIETONG_HOME) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        staged: list[_Staged] = []
        for item in attachments:
            name = Path(item.name or "").name[:255] or "附件"
            too_large = ValidationFailed(
                f"附件「{name}」超过 {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB", code="attachment_too_large"
            )
            if item.size > MAX_ATTACHMENT_BYTES:
                raise too_large
            claimed = expected_type(name)
            if claimed not in ATTACHMENT_TYPES:
                raise ValidationFailed(
                    f"附件「{name}」的类型不支持，只能上传 {allowed}", code="attachment_type"
                )
            tmp = stack.enter_context(
                tempfile.NamedTemporaryFile(dir=folder, prefix="board-", suffix=".part")
            )
            if hasattr(item.file, "seek"):
                item.file.seek(0)
            shutil.copyfileobj(item.file, tmp, blobs.CHUNK)
            tmp.flush()
            size = Path(tmp.name).stat().st_size
            if size > MAX_ATTACHMENT_BYTES:
                raise too_large
            if size == 0:
                raise ValidationFailed(f"附件「{name}」是空文件", code="empty_attachment")
            actual = sniff_path(Path(tmp.name))
            if actual is None or not same_kind(actual, claimed):
                raise ValidationFailed(
                    f"附件「{name}」的内容与扩展名不符或无法识别，只能上传 {allowed}",
                    code="attachment_mismatch",
                )
            try:
                render.count_pages(Path(tmp.name), actual)
            except render.RenderError as exc:
                raise ValidationFailed(f"附件「{name}」：{exc.message}", code=exc.code) from exc
            staged.append(_Staged(name=name, path=Path(tmp.name), content_type=actual, size=size))
        yield staged


def _store(staged: list[_Staged]) -> list[tuple[str, Blob]]:
    return [(s.name, blobs.blob_put_file(s.path, content_type=s.content_type)) for s in staged]


def _lock_case(case_id: int) -> None:
    """Serialise the case's ledger chain (SQLite: the IMMEDIATE transaction already holds the lock)."""
    Case.objects.select_for_update().filter(pk=case_id).first()


def _write_message(
    *,
    thread: Thread,
    user: User,
    unit: Unit,
    text: str,
    files: list[tuple[str, Blob]],
    cites: list[_Resolved],
    now: datetime,
    is_answer: bool,
    action: str,
    label: str,
    extra: dict[str, Any] | None = None,
) -> Message:
    seq = thread.message_count + 1
    digest = hashlib.sha256(text.encode()).hexdigest()
    entry = ledger_append(
        case_id=thread.case_id,
        actor=_actor(user),
        action=action,
        payload={
            "label": label,
            "board": {"thread": thread.pk, "message": seq, "kind": thread.kind},
            "text_sha256": digest,
            "attachments": [{"name": n, "sha256": b.sha256, "size": b.size} for n, b in files],
            "citations": [c.ledger() for c in cites],
            **(extra or {}),
        },
    )
    message = Message.objects.create(
        thread=thread,
        seq=seq,
        author=user,
        unit=unit,
        text=text,
        text_sha256=digest,
        is_answer=is_answer,
        posted_at=now,
        entry_hash=entry.entry_hash if entry else "",
    )
    Attachment.objects.bulk_create([Attachment(message=message, blob=b, name=n) for n, b in files])
    Citation.objects.bulk_create(
        [Citation(message=message, page=c.page, instrument=c.instrument) for c in cites]
    )
    thread.message_count = seq
    thread.last_message_at = now
    return message


def thread_open(
    *,
    user: User,
    case_id: int,
    to_unit_id: int,
    kind: str,
    text: str,
    subject: str = "",
    stage: str = "",
    instrument_id: int | None = None,
    citations: Sequence[CitationInput] = (),
    attachments: Sequence[AttachmentInput] = (),
) -> Thread:
    """Raise an objection, opinion or question (异议/意见/询问) on a case — optionally on one of its
    stages or instruments — from the user's unit to another unit, which must answer within the
    kind's working days (``rules.ANSWER_WORKING_DAYS``). The addressed unit must have a role in the
    case (a participation), except for the 政法委, which may address anyone; one's own unit cannot
    be addressed. The first message carries the text, citations and attachments."""
    unit = _poster_unit(user)
    case = case_get_visible(user=user, case_id=case_id)
    if kind not in ThreadKind.values:
        raise ValidationFailed("留言类型须为异议、意见或询问", code="unknown_kind")
    to_unit = Unit.objects.filter(pk=to_unit_id).first()
    if to_unit is None:
        raise ValidationFailed("收件单位不存在", code="unit_not_found")
    if to_unit.pk == unit.pk:
        raise ValidationFailed("不能向本单位留言", code="board_self")
    if unit.agency != Agency.COMMITTEE and not Participation.objects.filter(case=case, unit=to_unit).exists():
        raise ValidationFailed(
            f"{to_unit.name}未参与本案办理，不能向其留言（政法委除外）", code="unit_no_role"
        )
    if stage and stage not in STAGE_LABELS:
        raise ValidationFailed("所涉阶段不存在", code="unknown_stage")
    instrument = None
    if instrument_id is not None:
        instrument = Instrument.objects.filter(pk=instrument_id).first()
        if instrument is None or instrument.case_id != case.pk:
            raise ValidationFailed("所涉文书不属于本案", code="instrument_other_case")
    text = _clean_text(text)
    subject = (subject or "").strip()[:MAX_SUBJECT] or text.splitlines()[0][:60]
    cites = _resolve_citations(case, citations)
    label_kind = ThreadKind(kind).label
    with _staged(attachments) as staged:
        files = _store(staged)
    now = servertime.now()
    due_at = rules.answer_due(now, rules.ANSWER_WORKING_DAYS[kind], holiday_calendar().is_rest_day)
    with transaction.atomic():
        _lock_case(case.pk)
        thread = Thread.objects.create(
            case=case,
            stage=stage,
            instrument=instrument,
            kind=kind,
            subject=subject,
            from_unit=unit,
            to_unit=to_unit,
            opened_by=user,
            opened_at=now,
            due_at=due_at,
            last_message_at=now,
        )
        about: dict[str, Any] = {"stage": STAGE_LABELS[Stage(stage)]} if stage else {}
        if instrument is not None:
            about["instrument"] = {"id": instrument.pk, "kind": instrument.kind, "number": instrument.number}
        _write_message(
            thread=thread,
            user=user,
            unit=unit,
            text=text,
            files=files,
            cites=cites,
            now=now,
            is_answer=False,
            action="board_open",
            label=f"留言板：提出{label_kind}",
            extra={
                "to_unit": to_unit.name,
                "subject_sha256": hashlib.sha256(subject.encode()).hexdigest(),
                "due_at": due_at.isoformat(),
                **about,
            },
        )
        thread.save(update_fields=["message_count", "last_message_at"])
    return thread


def message_post(
    *,
    user: User,
    thread_id: int,
    text: str,
    citations: Sequence[CitationInput] = (),
    attachments: Sequence[AttachmentInput] = (),
) -> Message:
    """A message on an open thread by a member of either of its two units. The addressed unit's
    first message is the answer (待答复 → 已答复), which stops the answer clock; later messages from
    either side do not restart it. A closed thread takes no more messages."""
    unit = _poster_unit(user)
    thread = thread_get_visible(user=user, thread_id=thread_id)
    if unit.pk not in {thread.from_unit_id, thread.to_unit_id}:
        raise NotAllowed("只有发起单位和被留言单位可以回复", code="board_not_party")
    if thread.status == ThreadStatus.CLOSED:
        raise Conflict("留言已关闭，不能再回复；如有新问题请另行发起留言", code="board_closed")
    text = _clean_text(text)
    cites = _resolve_citations(thread.case, citations)
    with _staged(attachments) as staged:
        files = _store(staged)
    with transaction.atomic():
        _lock_case(thread.case_id)
        locked = Thread.objects.select_for_update().get(pk=thread.pk)
        if locked.status == ThreadStatus.CLOSED:
            raise Conflict("留言已关闭，不能再回复；如有新问题请另行发起留言", code="board_closed")
        now = servertime.now()
        answering = unit.pk == locked.to_unit_id and locked.status == ThreadStatus.WAITING
        kind_label = ThreadKind(locked.kind).label
        message = _write_message(
            thread=locked,
            user=user,
            unit=unit,
            text=text,
            files=files,
            cites=cites,
            now=now,
            is_answer=answering,
            action="board_answer" if answering else "board_post",
            label=f"留言板：答复{kind_label}" if answering else f"留言板：{kind_label}回复",
            extra={"late": now >= locked.due_at} if answering else None,
        )
        fields = ["message_count", "last_message_at"]
        if answering:
            locked.status = ThreadStatus.ANSWERED
            locked.answered_at = now
            locked.answered_by = user
            fields += ["status", "answered_at", "answered_by"]
        locked.save(update_fields=fields)
    return message


def thread_close(*, user: User, thread_id: int, note: str) -> Thread:
    """Close a thread, with a closing note, by the person who opened it or a leader of his unit.
    There is no reopening: a new matter is a new thread."""
    thread = thread_get_visible(user=user, thread_id=thread_id)
    opener = user.pk == thread.opened_by_id
    leader = user.unit_id == thread.from_unit_id and user.has_duty(*LEADER_DUTIES)
    if not (opener or leader):
        raise NotAllowed("只有发起人或发起单位负责人可以关闭留言", code="board_close_forbidden")
    note = _clean_text(note, what="关闭说明", limit=MAX_NOTE, code="closing_note_required")
    with transaction.atomic():
        _lock_case(thread.case_id)
        locked = Thread.objects.select_for_update().get(pk=thread.pk)
        if locked.status == ThreadStatus.CLOSED:
            raise Conflict("留言已关闭", code="board_closed")
        now = servertime.now()
        ledger_append(
            case_id=locked.case_id,
            actor=_actor(user),
            action="board_close",
            payload={
                "label": f"留言板：关闭{ThreadKind(locked.kind).label}",
                "board": {"thread": locked.pk, "kind": locked.kind},
                "note_sha256": hashlib.sha256(note.encode()).hexdigest(),
                "answered": locked.status == ThreadStatus.ANSWERED,
            },
        )
        locked.status = ThreadStatus.CLOSED
        locked.closed_at = now
        locked.closed_by = user
        locked.closing_note = note
        locked.save(update_fields=["status", "closed_at", "closed_by", "closing_note"])
    return locked


def _alert_for(thread: Thread, now: datetime) -> Alert:
    kind = ThreadKind(thread.kind).label
    days = rules.ANSWER_WORKING_DAYS.get(thread.kind)
    message = (
        f"{thread.case.number} {thread.to_unit.name}未在期限内答复{thread.from_unit.name}的{kind}"
        f"「{thread.subject[:60]}」（{days}个工作日，届满 {rules.last_day(thread.due_at):%Y-%m-%d} 24时）"
    )
    return Alert(
        kind="board_unanswered",
        key=f"board:{thread.pk}",
        case_id=thread.case_id,
        unit_id=thread.to_unit_id,
        message=message[:500],
        details={
            "thread": thread.pk,
            "kind": thread.kind,
            "from_unit": thread.from_unit_id,
            "to_unit": thread.to_unit_id,
            "opened_at": thread.opened_at.isoformat(),
            "due_at": thread.due_at.isoformat(),
        },
        raised_at=now,
        severity="warning",
        rule="board.unanswered",
    )


def board_unanswered_sweep(*, batch: int = 500) -> int:
    """One supervision alert (F14) per thread whose answer time ran out while it still waits.
    Idempotent (the alert's key is the thread), so the embedded ticker, a worker and a second
    worker may all run it; threads already alerted are skipped in the query, so a backlog larger
    than a batch is worked off rather than re-read. Returns how many alerts were new."""
    now = servertime.now()
    already = Alert.objects.filter(key=OuterRef("alert_key"))
    raised = 0
    while True:
        late = list(
            Thread.objects.filter(status=ThreadStatus.WAITING, due_at__lte=now)
            .annotate(alert_key=Concat(Value("board:"), Cast("pk", CharField()), output_field=CharField()))
            .filter(~Exists(already))
            .select_related("case", "from_unit", "to_unit")
            .order_by("due_at", "pk")[:batch]
        )
        if not late:
            return raised
        new = alerts_raise_once([_alert_for(t, now) for t in late])
        raised += new
        if len(late) < batch or new == 0:
            return raised
